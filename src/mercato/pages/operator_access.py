"""What every operator admin page shares: only operator staff see them, and a form that a rule refused is shown
again with the sentence next to its field, having changed nothing."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.pages.viewer import Viewer
from mercato.problems import NotFound


class NotAnAdminPage(NotFound):
    """Anyone but operator staff: the admin pages answer as if there were none (their existence is no secret,
    but nothing of them should differ for a buyer or a vendor from a missing page)."""

    title = "Page not found"


def operator_principal(viewer: Viewer, request: Request) -> Principal:
    """The signed-in operator staff member; strangers are sent to sign in, everyone else gets a 404 page."""
    principal = viewer.require(request)
    if not principal.operator:
        raise NotAnAdminPage("There is no page at this address. Try the app catalog.")
    return principal


def refused(session: Session) -> None:
    """A form a rule refused changes nothing: undo whatever the service flushed before it refused (the route
    commits whatever the handler returns with)."""
    session.rollback()


def validation_errors(error: ValidationError, fields: Mapping[str, str]) -> dict[str, str]:
    """Pydantic's complaints as sentences by form field (``fields`` maps a model field to its form field)."""
    found: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item.get("loc") else "_form"
        field = fields.get(name, "_form")
        message = str(item.get("msg", "is not valid")).removeprefix("Value error, ")
        found.setdefault(field, message[:1].upper() + message[1:] + ".")
    return found
