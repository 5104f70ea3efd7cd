"""Accepting a quote: one order and one invoice however often, and however concurrently, it is accepted.

The quote's row is locked first (PostgreSQL ``FOR UPDATE``; SQLite transactions hold the write lock from their
first statement), so concurrent accepts queue and all but the first find it accepted. With an
``Idempotency-Key`` a retry gets the very answer the first request got, stored with the acceptance in the same
transaction; a key reused for another quote is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mercato.accounts.access import Principal
from mercato.catalog.domain import tier_of
from mercato.commerce.errors import (
    AlreadyLicensed,
    LicenseChangedSinceQuote,
    NotABuyer,
    QuoteCancelled,
    QuoteExpired,
    QuoteNotFound,
)
from mercato.commerce.idempotency import Answer, Idempotency, request_fingerprint
from mercato.commerce.invoicing import Invoicing
from mercato.commerce.models import Invoice, LineAction, Order, Quote, QuoteStatus
from mercato.commerce.quoting import Quoting
from mercato.commerce.repository import CommerceRepository
from mercato.licenses.models import License
from mercato.services import Services


@dataclass(frozen=True)
class Acceptance:
    order: Order
    invoice: Invoice
    created: bool


class Accepting:
    def __init__(self, repo: CommerceRepository, services: Services) -> None:
        self.repo = repo
        self.services = services
        self.clock = services.clock

    def quote_for(self, principal: Principal, quote_id: uuid.UUID) -> Quote:
        return self._visible(principal, quote_id, self.repo.quote(quote_id))

    @staticmethod
    def _visible(principal: Principal, quote_id: uuid.UUID, quote: Quote | None) -> Quote:
        if quote is None or not principal.can_read_organisation(quote.organisation_id):
            raise QuoteNotFound(f"There is no quote {quote_id} that you can see.")
        return quote

    def accept(
        self,
        principal: Principal,
        quote_id: uuid.UUID,
        idempotency_key: str | None,
        present: Callable[[Acceptance], dict[str, Any]],
    ) -> Answer:
        """Accept the quote, or replay the answer an earlier request with the same key got. ``present`` turns
        the acceptance into the response body that is stored for replays."""
        found = self.repo.quote_to_accept(quote_id)  # locked: concurrent retries queue here
        quote = self._visible(principal, quote_id, found[0] if found is not None else None)
        assert found is not None
        held = found[1]

        def perform() -> Answer:
            acceptance = self._accept(principal, quote, held)
            return Answer(201 if acceptance.created else 200, present(acceptance))

        return Idempotency(self.repo, self.clock).run(
            f"{principal.user_id}:accept-quote",
            idempotency_key,
            request_fingerprint(str(quote_id)),
            "to accept another quote",
            perform,
        )

    def _accept(
        self, principal: Principal, quote: Quote, held: Mapping[str, tuple[str, str | None]]
    ) -> Acceptance:
        """Turn a locked quote into one order and one invoice; accepting it again returns the same ones. An
        invoice of nothing to pay (evaluations, free license types) is settled at once."""
        if not principal.can_buy_for(quote.organisation_id):
            raise NotABuyer("Only the organisation's admins (or operator staff) can accept its quotes.")
        if quote.status == QuoteStatus.ACCEPTED:
            order = self.repo.order_of_quote(quote.id)
            assert order is not None
            invoice = self.repo.invoice_of_order(order.id)
            assert invoice is not None
            return Acceptance(order, invoice, created=False)
        if quote.status == QuoteStatus.CANCELLED:
            raise QuoteCancelled(f"Quote {quote.number} was cancelled; ask for a new quote.")
        if self.clock.today() > quote.valid_until:
            raise QuoteExpired(
                f"Quote {quote.number} was valid until {quote.valid_until}. Ask for a new quote: prices may have "
                "changed since."
            )
        self._check_still_unlicensed(quote, held)
        self._check_still_migratable(quote)
        order, invoice = Invoicing(self.repo, self.services).issue(quote)
        return Acceptance(order, invoice, created=True)

    def _check_still_migratable(self, quote: Quote) -> None:
        """A license being migrated must still be a direct license that no other accepted quote moves, and still
        be what the quote priced: another quote may have moved it, or a direct renewal or upgrade changed it,
        since this one was made."""
        for line in quote.lines:
            if line.action is LineAction.MIGRATION and line.license_id is not None:
                license = self.repo.session.get(License, line.license_id, with_for_update=True)
                assert license is not None
                Quoting(self.repo, self.services).check_migratable(license)
                if (
                    tier_of(license.tier_users) > tier_of(line.tier_users)
                    or line.period_end != license.paid_until
                ):
                    raise LicenseChangedSinceQuote(
                        f"License {license.entitlement_number} changed since quote {quote.number} was made (its "
                        "tier or maintenance end): ask for a new migration quote, which prices it as it is now.",
                        license=license.entitlement_number,
                    )

    @staticmethod
    def _check_still_unlicensed(quote: Quote, held: Mapping[str, tuple[str, str | None]]) -> None:
        """The once-per-host rule again at acceptance: another quote for the same app may have been accepted
        (or paid) since this one was made. ``held``: what the host instance holds of the products the quote
        buys new, read with the locked quote."""
        buying = [
            line
            for line in quote.lines
            if line.action in (LineAction.NEW, LineAction.CLOUD_SUBSCRIPTION) and line.license_id is None
        ]
        for line in buying:
            holding = held.get(line.product_key)
            if holding is not None:
                kind, number = holding
                what = f"license {number}" if kind == "license" else f"invoice {number}, waiting for payment,"
                raise AlreadyLicensed(
                    f"Quote {quote.number} buys {line.product_key}, but the host instance already has it on "
                    f"{what} since the quote was made. Renew or upgrade that license instead; this quote "
                    "cannot be accepted.",
                    product_key=line.product_key,
                    **{kind: number},
                )
