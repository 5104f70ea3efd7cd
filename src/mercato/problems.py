"""Errors that reach a user: each has a stable machine ``type`` slug, a title and a sentence a person reads.

Services raise these (or domain errors that carry the same attributes); the web layer turns them into RFC 9457
problem documents and the CLI prints the sentence. Nothing here knows about HTTP frameworks.
"""

from __future__ import annotations

from typing import Any


class Problem(Exception):
    """Base of every error that is part of the product."""

    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the document (e.g. ``Retry-After``)."""
        return {}


class NotFound(Problem):
    """There is nothing at that id or key that you may see. Objects of organisations and vendors you have no
    role in answer exactly like missing ones, so that their existence does not leak."""

    status = 404
    type = "not-found"
    title = "Not found"


class Conflict(Problem):
    """The request is valid but the object's state forbids it now (already paid, taken, cancelled, ...).
    The sentence says what the state is."""

    status = 409
    type = "conflict"
    title = "Conflict"


class InvalidInput(Problem):
    """The request has invalid fields, or breaks a rule about its values. For fields, `errors` lists each
    one: where it is (`field`, like `body.items.0.tier` or `query.offset`), what is wrong (`message`) and a
    machine `code`. Nothing was changed: correct the fields and send the request again."""

    status = 422
    type = "invalid-input"
    title = "Invalid input"
