"""The cart: items a buyer collects before asking for quotes, grouped as they will be quoted.

A cart holds choices, never prices or rules: it becomes quotes through ``Quoting.create_once``, the very path of
``POST /api/v1/quotes``, so every refusal (tier mismatch, cap on years, channel, closed direct store) comes from
the same rule with the same sentence. One group is one quote: per host instance, the marketplace items (apps of
any vendors, and the host license itself) together, or one vendor's direct items.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mercato import pricing
from mercato.accounts.access import Principal
from mercato.accounts.models import HostInstance
from mercato.catalog.models import App, HostProduct, Vendor
from mercato.commerce import schemas
from mercato.commerce.cart_models import CartItem
from mercato.commerce.idempotency import Answer
from mercato.commerce.models import Quote
from mercato.commerce.quoting import Quoting
from mercato.commerce.repository import CommerceRepository
from mercato.licenses.models import License, LicenseState
from mercato.problems import InvalidInput, NotFound
from mercato.services import Services


class CartItemRefused(InvalidInput):
    """The item cannot go in the cart: the product is not sold for this host, or the host does not fit."""

    type = "cart-item-refused"
    title = "This item cannot be added"


class CartItemNotFound(NotFound):
    type = "cart-item-not-found"
    title = "No such cart item"


@dataclass(frozen=True)
class CartLine:
    """One cart item with what the cart page shows of it (names, the host, the vendor)."""

    item: CartItem
    host: HostInstance
    host_product: HostProduct
    product_name: str
    vendor_id: uuid.UUID | None  # None: the host product's own license
    vendor_name: str | None
    held: str | None = None  # the entitlement number of an active license the host already has for it

    @property
    def hosting(self) -> pricing.Hosting:
        return pricing.Hosting(self.host.hosting)


@dataclass
class CartGroup:
    """Items that make one quote: one host instance, one channel, and on the direct channel one vendor."""

    key: str
    host: HostInstance
    host_product: HostProduct
    channel: pricing.Channel
    vendor_name: str | None
    lines: list[CartLine] = field(default_factory=list)

    @property
    def seller_label(self) -> str:
        if self.channel is pricing.Channel.MARKETPLACE:
            return "the marketplace"
        return f"{self.vendor_name}'s direct store"

    def quote_request(self, po_number: str | None = None) -> schemas.QuoteRequest:
        return schemas.QuoteRequest(
            host_instance_id=self.host.id,
            channel=self.channel,
            po_number=po_number or None,
            items=[
                schemas.NewQuoteItem(
                    action="new",
                    product_key=line.item.product_key,
                    tier=line.item.tier,
                    years=1 if line.hosting is pricing.Hosting.CLOUD else line.item.years,
                )
                for line in self.lines
            ],
        )


def group_key(host_instance_id: uuid.UUID, channel: str, vendor_id: uuid.UUID | None) -> str:
    if channel == pricing.Channel.MARKETPLACE:
        return f"{host_instance_id}:marketplace"
    return f"{host_instance_id}:direct:{vendor_id}"


class Cart:
    def __init__(self, session: Session, services: Services) -> None:
        self.session = session
        self.repo = CommerceRepository(session)
        self.quoting = Quoting(self.repo, services)

    def lines(self, principal: Principal) -> list[CartLine]:
        """The principal's cart, oldest first, with names (one query). Items of hosts the principal may no
        longer buy for are left out: losing the role empties that part of the cart."""
        rows = self.session.execute(
            select(CartItem, HostInstance, HostProduct, App.name, App.vendor_id, Vendor.name)
            .join(HostInstance, HostInstance.id == CartItem.host_instance_id)
            .join(HostProduct, HostProduct.id == HostInstance.host_product_id)
            .outerjoin(App, App.key == CartItem.product_key)
            .outerjoin(Vendor, Vendor.id == App.vendor_id)
            .where(CartItem.user_id == principal.user_id)
            .order_by(CartItem.created_at, CartItem.id)
        ).all()
        held = self._held({item.host_instance_id for item, *_ in rows})
        lines = []
        for item, host, host_product, app_name, vendor_id, vendor_name in rows:
            if not principal.can_buy_for(host.organisation_id):
                continue
            name = app_name or f"{host_product.name} license"
            already = held.get((host.id, item.product_key))
            lines.append(CartLine(item, host, host_product, name, vendor_id, vendor_name, already))
        return lines

    def _held(self, host_ids: set[uuid.UUID]) -> dict[tuple[uuid.UUID, str], str]:
        """The active, bought licenses of these hosts by (host, product): buying one again is rarely meant, and
        the cart says so (a renewal or an upgrade of the license held is the usual way)."""
        if not host_ids:
            return {}
        rows = self.session.execute(
            select(License.host_instance_id, License.product_key, License.entitlement_number).where(
                License.host_instance_id.in_(host_ids),
                License.status == LicenseState.ACTIVE,
                License.evaluation.is_(False),
            )
        ).all()
        return {(host_id, key): number for host_id, key, number in rows if host_id is not None}

    @staticmethod
    def groups(lines: Sequence[CartLine]) -> list[CartGroup]:
        groups: dict[str, CartGroup] = {}
        for line in lines:
            channel = pricing.Channel(line.item.channel)
            key = group_key(line.host.id, channel, line.vendor_id)
            if key not in groups:
                vendor = line.vendor_name if channel is pricing.Channel.DIRECT else None
                groups[key] = CartGroup(key, line.host, line.host_product, channel, vendor)
            groups[key].lines.append(line)
        return list(groups.values())

    def put(
        self,
        principal: Principal,
        host_instance_id: uuid.UUID,
        product_key: str,
        hosting: pricing.Hosting | None,
        channel: pricing.Channel,
        tier: str | None,
        years: int,
    ) -> CartItem:
        """Add the product for the host, or change the item it already has there (a second add is a change)."""
        host = self.quoting.host_instance_for_buyer(principal, host_instance_id)
        host_hosting = pricing.Hosting(host.hosting)
        if hosting is not None and hosting is not host_hosting:
            raise CartItemRefused(
                f"This host is a {host_hosting.label}, not a {hosting.label}: pick one of your "
                f"{hosting.label} hosts, or buy the {host_hosting.label} edition.",
                field="host_instance_id",
            )
        product_key = product_key.strip()
        listing = self.quoting.catalog.listing(product_key, host_hosting.value)
        if listing is None or listing.host_product_id != host.host_product_id:
            raise CartItemRefused(
                f"{product_key!r} is not sold for this host ({host_hosting.label}). Pick a host it runs on.",
                field="host_instance_id",
            )
        existing = self.session.scalars(
            select(CartItem).where(
                CartItem.user_id == principal.user_id,
                CartItem.host_instance_id == host.id,
                CartItem.product_key == product_key,
            )
        ).first()
        item = existing or CartItem(
            user_id=principal.user_id, host_instance_id=host.id, product_key=product_key
        )
        item.channel, item.tier, item.years = channel, tier or None, years
        self.session.add(item)
        self.session.flush()
        return item

    def remove(self, principal: Principal, item_id: int) -> None:
        self.session.execute(
            delete(CartItem).where(CartItem.id == item_id, CartItem.user_id == principal.user_id)
        )

    def item(self, principal: Principal, item_id: int) -> CartItem:
        found = self.session.scalars(
            select(CartItem).where(CartItem.id == item_id, CartItem.user_id == principal.user_id)
        ).first()
        if found is None:
            raise CartItemNotFound(f"There is no item {item_id} in your cart.")
        return found

    def quote(
        self,
        principal: Principal,
        group: CartGroup,
        po_number: str | None,
        idempotency_key: str,
        present: Callable[[Quote], dict[str, Any]],
    ) -> Answer:
        """The group as one quote (once per key); its items leave the cart in the same transaction."""
        answer = self.quoting.create_once(principal, group.quote_request(po_number), idempotency_key, present)
        ids = [line.item.id for line in group.lines]
        self.session.execute(
            delete(CartItem).where(CartItem.id.in_(ids), CartItem.user_id == principal.user_id)
        )
        return answer

    def earlier_quote(self, principal: Principal, idempotency_key: str) -> str | None:
        """The id of the quote an earlier post of the same cart form made (its items have left the cart)."""
        remembered = self.repo.idempotent_request(f"{principal.user_id}:create-quote", idempotency_key)
        if remembered is None or remembered.status_code != 201:
            return None
        return str(remembered.response.get("id"))
