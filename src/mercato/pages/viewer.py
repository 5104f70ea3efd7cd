"""Who is looking at a page, and the CSRF check of every form.

A signed-in browser carries the session cookie of ``mercato.accounts.sessions``; its forms and htmx requests
carry the session's CSRF token (a hidden ``csrf_token`` field, or the ``X-CSRF-Token`` header htmx sends). A
signed-out browser's forms (sign in, sign up, password reset) use a double-submit token instead: a random value
in an HttpOnly, SameSite=Lax cookie that the form must repeat. Another site can make a browser send cookies,
but it cannot read them to put the value in the form.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from mercato.accounts.access import Principal
from mercato.accounts.sessions import CSRF_HEADER, SESSION_COOKIE, page_session
from mercato.problems import Problem

FORM_COOKIE = "mercato_form"
CSRF_FIELD = "csrf_token"


class SignInNeeded(Exception):
    """A page that needs a signed-in user was opened without one: the browser is sent to sign in, and back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def location(self) -> str:
        return f"/sign-in?next={quote(self.next_path, safe='/')}"


class FormExpired(Problem):
    """A form came back without the token of the page that showed it: an old tab, a signed-out session, or a
    form posted from another site. Nothing was changed; reload the page and send it again."""

    status = 403
    type = "form-expired"
    title = "This form has expired"


@dataclass(frozen=True)
class Viewer:
    """The person behind a page request: signed in (``principal``) or not, and the CSRF token for its forms."""

    principal: Principal | None
    name: str | None
    csrf_token: str
    new_form_cookie: bool = False  # render() sets the double-submit cookie on the answer

    @property
    def signed_in(self) -> bool:
        return self.principal is not None

    @property
    def is_customer(self) -> bool:
        return self.principal is not None and bool(self.principal.organisations)

    @property
    def is_vendor(self) -> bool:
        return self.principal is not None and bool(self.principal.vendor_member_of)

    @property
    def is_operator(self) -> bool:
        return self.principal is not None and self.principal.operator

    def require(self, request: Request) -> Principal:
        """The signed-in principal, or off to the sign-in page (and back here afterwards)."""
        if self.principal is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInNeeded(path)
        return self.principal


def get_viewer(request: Request) -> Viewer:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with request.app.state.read_connection() as connection:
            found = page_session(connection, cookie, request.app.state.clock.now())
        if found is not None:
            return Viewer(found.principal, found.name, found.csrf_token)
    form_token = request.cookies.get(FORM_COOKIE)
    if form_token and 20 <= len(form_token) <= 100:
        return Viewer(None, None, form_token)
    return Viewer(None, None, secrets.token_urlsafe(32), new_form_cookie=True)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def _checked_viewer(request: Request, viewer: ViewerDep) -> Viewer:
    """The viewer of a form post whose CSRF token matches; ``FormExpired`` (403, nothing changed) otherwise."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if viewer.new_form_cookie or not sent or not hmac.compare_digest(sent, viewer.csrf_token):
        raise FormExpired("The form's security token did not match. Reload the page and send the form again.")
    return viewer


FormViewerDep = Annotated[Viewer, Depends(_checked_viewer)]
"""For every POST of a page: the viewer, once the form's CSRF token has been checked."""
