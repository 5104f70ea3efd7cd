"""What the vendor portal's pages share: the vendor a page is about (found the way the vendors API finds it,
so another vendor's slug is a 404 page), and turning a rule's or a form's errors into sentences next to fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.catalog.models import Vendor
from mercato.catalog.vendors import VendorService
from mercato.problems import Problem
from mercato.services import Services

FORM = "_form"
# Where the services say a field is ("body.listing.prices.25"); the pages name their fields without these.
_PREFIXES = ("body.listing.", "draft.listing.", "revision.content.", "body.", "path.", "draft.", "revision.")


def vendor_service(session: Session, services: Services) -> VendorService:
    return VendorService(session, services.secret_key, services.clock)


def portal_vendor(session: Session, services: Services, principal: Principal, slug: str) -> Vendor:
    """The vendor of the page, for its members (and operator staff); ``VendorNotFound`` (404) for anyone
    else, exactly as for a slug that does not exist."""
    return vendor_service(session, services).vendor_for(principal, slug)


def field_id(name: str) -> str:
    """The HTML id of a form field named ``prices.25``: ``prices-25``."""
    return name.replace(".", "-").replace("_", "-")


def _field_of(location: str) -> str:
    for prefix in _PREFIXES:
        if location.startswith(prefix):
            return location[len(prefix) :]
    return location


def problem_errors(problem: Problem, known: Iterable[str] = ()) -> dict[str, str]:
    """A rule's refusal as ``{field id: sentence}``: each field it names (when the form has it), or the whole
    sentence for the form."""
    fields = set(known)
    errors: dict[str, str] = {}
    for error in problem.extensions.get("errors") or []:
        name = _field_of(str(error.get("field", "")))
        if name in fields:
            errors.setdefault(field_id(name), str(error.get("message", problem.detail)))
    if not errors:
        errors[FORM] = problem.detail
    return errors


def validation_errors(error: ValidationError, known: Iterable[str] = ()) -> dict[str, str]:
    """Pydantic's refusals as ``{field id: sentence}``; errors about no known field go to the form."""
    fields = set(known)
    errors: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if name in fields:
            errors.setdefault(field_id(name), message)
        else:
            errors[FORM] = (errors.get(FORM, "") + " " + (f"{name}: " if name else "") + message).strip()
    return errors


def form_text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
