"""The license-keys e-mail: a subscriber of the license-event path. The keys an invoice issued or changed go,
in one e-mail per invoice, to the organisation's admins; the keys of licenses a vendor imported go, in one
e-mail per organisation, to its admins (or its billing address while it has none)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from mercato.accounts.repository import AccountsRepository
from mercato.catalog.repository import CatalogRepository
from mercato.licenses.models import LicenseEventKind
from mercato.mail.templates import render_email
from mercato.outbox.service import enqueue_rendered_email

if TYPE_CHECKING:
    from mercato.licenses.events import LicenseEvent


def license_keys_context(
    seller: str, invoice_number: str, events: Sequence[LicenseEvent], public_url: str = ""
) -> dict[str, Any]:
    return {
        "licenses_url": f"{public_url.rstrip('/')}/licenses" if public_url else None,
        "invoice_number": invoice_number,
        "seller": seller,
        "keys": [
            {
                "product_key": event.license.product_key,
                "hosting": event.license.hosting.value,
                "entitlement_number": event.license.entitlement_number,
                "host_binding": event.license.host_binding,
                "token": event.key.token if event.key else "",
            }
            for event in events
        ],
        "replaces_earlier_keys": any(event.replaced_earlier_keys for event in events),
    }


def imported_keys_context(
    seller: str, events: Sequence[LicenseEvent], public_url: str = ""
) -> dict[str, Any]:
    context = license_keys_context(seller, "", events, public_url)
    del context["invoice_number"], context["replaces_earlier_keys"]
    return context


def queue_key_emails(session: Session, events: Sequence[LicenseEvent], public_url: str = "") -> None:
    """One e-mail per paid invoice with every key it signed, pointing to the My licenses page (a link when
    ``public_url`` is set). Keys signed outside a sale (support's reissue prints the key instead) are not
    mailed."""
    by_invoice: dict[str, list[LicenseEvent]] = {}
    for event in events:
        if event.key is not None and event.invoice_number is not None:
            by_invoice.setdefault(event.invoice_number, []).append(event)
    catalog, accounts = CatalogRepository(session), AccountsRepository(session)
    for invoice_number, keyed in by_invoice.items():
        organisation_id = keyed[0].license.organisation_id
        recipients = accounts.key_recipients(organisation_id) if organisation_id else []
        if not recipients:
            continue
        context = license_keys_context(
            catalog.seller_name(keyed[0].seller), invoice_number, keyed, public_url
        )
        enqueue_rendered_email(session, recipients, render_email("license-keys", context))
    _queue_imported_keys(session, events, public_url)


def _queue_imported_keys(session: Session, events: Sequence[LicenseEvent], public_url: str) -> None:
    """One e-mail per organisation and seller with the keys of the licenses an import brought in."""
    by_customer: dict[tuple[Any, str], list[LicenseEvent]] = {}
    for event in events:
        if event.kind is LicenseEventKind.IMPORT and event.key is not None and event.license.organisation_id:
            by_customer.setdefault((event.license.organisation_id, event.seller), []).append(event)
    catalog, accounts = CatalogRepository(session), AccountsRepository(session)
    for (organisation_id, seller), keyed in by_customer.items():
        recipients = accounts.key_recipients(organisation_id)
        if not recipients:
            continue
        context = imported_keys_context(catalog.seller_name(seller), keyed, public_url)
        enqueue_rendered_email(session, recipients, render_email("imported-license-keys", context))
