"""Prices proposed items for a host by looking up listings and calling the pricing core; buys nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from mercato import pricing
from mercato.catalog.domain import pricing_listing
from mercato.catalog.listings import check_on_sale
from mercato.catalog.listings_errors import ListingNotOnSale
from mercato.catalog.models import HostProduct, Listing
from mercato.catalog.repository import CatalogRepository
from mercato.catalog.vendors import RevenueSchedules
from mercato.preview import schemas
from mercato.problems import InvalidInput, Problem


class UnknownProduct(Problem):
    """No app or host product has this key. `GET /api/v1/apps` and `GET /api/v1/host-products` list them."""

    status = 422
    type = "unknown-product"
    title = "Unknown product"


class ItemRefused(Problem):
    """A pricing rule refused one item; carries the rule's own type, title and structured details."""

    def __init__(self, index: int, product_key: str, error: pricing.PricingError) -> None:
        super().__init__(
            f"Item {index + 1} ({product_key}): {error.detail}",
            item=index + 1,
            pointer=f"/items/{index}",
            **error.details,
        )
        self.status = error.status
        self.type = error.type
        self.title = error.title


NEW_SALES = (schemas.NewItem, schemas.EvaluationItem, schemas.CloudSubscriptionItem)
"""Items that sell a new license: only listings on sale take them. Renewals, upgrades, co-terms and user
changes of licenses already sold go on whatever became of the app."""


@dataclass(frozen=True)
class PricedItem:
    """One priced item: the listing it was priced from, its line, and its revenue split if it has one."""

    listing: Listing
    line: pricing.PricedLine
    split: pricing.RevenueSplit | None


class PreviewService:
    def __init__(self, session: Session) -> None:
        self.catalog = CatalogRepository(session)

    def preview(self, request: schemas.PreviewRequest, today: date) -> schemas.PreviewResponse:
        on = request.date or today
        items = self.price_items(request, on)
        priced = pricing.PricedItems.of(item.line for item in items)
        return schemas.PreviewResponse(
            date=on,
            channel=request.channel.value,
            lines=[
                self._line_out(item.line, item.split, self.price_change(request, index, item, on))
                for index, item in enumerate(items)
            ],
            totals=[schemas.TotalOut(currency=c, amount=a) for c, a in priced.totals.items()],
        )

    def price_items(
        self, request: schemas.PreviewRequest, on: date, host_product: HostProduct | None = None
    ) -> list[PricedItem]:
        """Price every item of the request as of ``on``; the first item a rule refuses raises ``ItemRefused``.
        ``host_product``: the request's host product, when the caller has read it already."""
        if host_product is None or host_product.key != request.host.product:
            host_product = self.catalog.host_product_by_key(request.host.product)
        if host_product is None:
            known = ", ".join(h.key for h in self.catalog.list_host_products())
            raise UnknownProduct(
                f"There is no host product {request.host.product!r}. Host products: {known}."
            )
        host = self._host_context(request.host, host_product.name)
        schedules = RevenueSchedules(self.catalog.session)  # the vendor's agreement, else the standard rates
        lines: list[pricing.PricedLine] = []
        listings: list[Listing] = []
        vendors: set[object] = set()
        # Every item's listing in one go: a quote of many apps costs the catalog's queries once, not per item.
        listed = self.catalog.listings(
            {item.product_key for item in request.items}, request.host.hosting.value
        )
        for index, item in enumerate(request.items):
            listing = self._listing(item.product_key, request.host, index, listed.get(item.product_key))
            if isinstance(item, NEW_SALES):
                vendor = self.catalog.vendor_by_id(listing.app.vendor_id) if listing.app is not None else None
                check_on_sale(
                    listing,
                    vendor,
                    f"Item {index + 1} ({item.product_key}) is not sold to new buyers",
                    channel=request.channel.value,
                    item=index + 1,
                    pointer=f"/items/{index}",
                )
            listings.append(listing)
            if listing.app is not None:
                vendors.add(listing.app.vendor_id)
            name = listing.app.name if listing.app is not None else host_product.name
            try:
                lines.append(self._price(item, pricing_listing(listing, name, on), request.channel, host, on))
            except pricing.PricingError as error:
                raise ItemRefused(index, item.product_key, error) from error
        if request.channel is pricing.Channel.DIRECT and len(vendors) > 1:
            raise InvalidInput(
                "A direct purchase is billed by one vendor, but these items come from several. "
                "Price each vendor's apps separately, or buy them together on the marketplace."
            )
        schedules.read(listing.app.vendor_id for listing in listings if listing.app is not None)
        return [
            PricedItem(
                listing,
                line,
                pricing.split_revenue(line, schedules.of(listing.app.vendor_id if listing.app else None), on),
            )
            for listing, line in zip(listings, lines, strict=True)
        ]

    def price_change(
        self, request: schemas.PreviewRequest, index: int, item: PricedItem, on: date
    ) -> schemas.ComingPriceOut | None:
        """The item priced again on the first day of its listing's next scheduled price change (None when no
        change is scheduled after ``on``, or when the item cannot be bought that day)."""
        in_force = item.listing.prices_on(on)  # before a listing's first prices, they are the prices
        scheduled = [table for table in item.listing.prices_after(on) if table is not in_force]
        if not scheduled:
            return None
        effective = scheduled[0].effective_from
        listing = item.listing
        name = listing.app.name if listing.app is not None else listing.host_product.name
        try:
            host = self._host_context(_host_on(request.host, effective), listing.host_product.name)
            line = self._price(
                request.items[index],
                pricing_listing(listing, name, effective),
                request.channel,
                host,
                effective,
            )
        except pricing.PricingError:
            return None
        return schemas.ComingPriceOut(effective_from=effective, amount_after=line.amount)

    def _host_context(self, host: schemas.HostIn, product_name: str) -> pricing.HostContext:
        if host.hosting is pricing.Hosting.CLOUD:
            if host.users is None or host.billing_cycle is None:
                raise InvalidInput(
                    "A cloud host needs `users` (how many users the site has) and `billing_cycle`."
                )
        elif host.user_tier is None:
            raise InvalidInput(
                f'A {host.hosting.value} host needs its `user_tier`, e.g. "100" or "unlimited".'
            )
        return pricing.HostContext(
            hosting=host.hosting,
            license_type=host.license_type,
            tier=pricing.Tier.parse(host.user_tier) if host.user_tier else None,
            cloud_users=host.users,
            maintenance_end=host.maintenance_end,
            billing_cycle=host.billing_cycle,
            next_billing_date=host.next_billing_date,
            product_name=product_name,
        )

    def _listing(
        self, product_key: str, host: schemas.HostIn, index: int, listing: Listing | None = None
    ) -> Listing:
        """The item's listing (``listing`` if it was looked up already), or the problem saying why there is none."""
        listing = listing or self.catalog.listing(product_key, host.hosting.value)
        if listing is not None and listing.host_product.key == host.product:
            return listing
        prefix = f"Item {index + 1} ({product_key}): "
        if listing is not None:
            raise InvalidInput(
                prefix + f"this is for the {listing.host_product.name}, not for {host.product}.",
                item=index + 1,
                pointer=f"/items/{index}",
            )
        hostings = [other.hosting for other in self.catalog.listings_of_product(product_key)]
        if hostings:
            raise InvalidInput(
                prefix + f"it is not sold for {host.hosting.value}; it is sold for {', '.join(hostings)}.",
                item=index + 1,
                pointer=f"/items/{index}",
            )
        if self.catalog.app_by_key(product_key) is not None:
            raise ListingNotOnSale(
                prefix + f"it is not sold for {host.hosting.value}: no listing of it is published yet (a new "
                "listing is sold once the operator approves it).",
                item=index + 1,
                pointer=f"/items/{index}",
            )
        raise UnknownProduct(
            prefix + "there is no app or host product with this key.",
            item=index + 1,
            pointer=f"/items/{index}",
        )

    @staticmethod
    def _price(
        item: schemas.Item,
        listing: pricing.Listing,
        channel: pricing.Channel,
        host: pricing.HostContext,
        on: date,
    ) -> pricing.PricedLine:
        match item:
            case schemas.NewItem():
                if listing.hosting is pricing.Hosting.CLOUD:
                    if item.years != 1:
                        raise InvalidInput(
                            "A cloud subscription renews with its site, a billing cycle at a time: leave out "
                            "`years` (or send 1)."
                        )
                    return pricing.price_cloud_subscription(
                        listing,
                        host,
                        on,
                        tier=pricing.Tier.parse(item.tier),
                        license_type=item.license_type,
                        channel=channel,
                    )
                return pricing.price_new_purchase(
                    listing,
                    pricing.Tier.parse(item.tier),
                    channel,
                    host,
                    item.license_type,
                    on,
                    years=item.years,
                )
            case schemas.RenewalItem():
                tier = pricing.Tier.parse(item.tier)
                to_tier = pricing.Tier.parse(item.to_tier) if item.to_tier else tier
                if to_tier != tier:
                    return pricing.price_renewal_at_tier(
                        listing,
                        tier,
                        to_tier,
                        channel,
                        item.license_type,
                        item.maintenance_end,
                        item.years,
                        on,
                        host=host,
                    )
                return pricing.price_renewal(
                    listing,
                    pricing.Tier.parse(item.tier),
                    channel,
                    item.license_type,
                    item.maintenance_end,
                    item.years,
                    on,
                )
            case schemas.UpgradeItem():
                return pricing.price_upgrade(
                    listing,
                    pricing.Tier.parse(item.from_tier),
                    pricing.Tier.parse(item.tier),
                    channel,
                    item.license_type,
                    item.maintenance_end,
                    on,
                    host=host,
                )
            case schemas.CoTermItem():
                target = item.target_date or host.maintenance_end
                if target is None:
                    raise InvalidInput(
                        "A co-term needs a target_date, or the host's maintenance_end to co-term with."
                    )
                return pricing.price_co_term(
                    listing,
                    pricing.Tier.parse(item.tier),
                    channel,
                    item.license_type,
                    item.maintenance_end,
                    target,
                    on,
                )
            case schemas.EvaluationItem():
                return pricing.price_evaluation(listing, host, on, channel=channel)
            case schemas.CloudSubscriptionItem():
                return pricing.price_cloud_subscription(
                    listing,
                    host,
                    on,
                    tier=pricing.Tier.parse(item.tier) if item.tier else None,
                    license_type=item.license_type,
                    channel=channel,
                )
            case schemas.CloudUserChangeItem():
                cycle = host.billing_cycle or pricing.BillingCycle.MONTHLY
                return pricing.price_cloud_user_increase(
                    listing,
                    cycle,
                    item.old_users,
                    item.new_users,
                    on,
                    item.cycle_end,
                    license_type=item.license_type,
                    channel=channel,
                )
            case schemas.MigrationItem():
                return pricing.price_migration(
                    listing,
                    pricing.Tier.parse(item.tier),
                    item.license_type,
                    item.maintenance_end,
                    host,
                    on,
                    to_tier=pricing.Tier.parse(item.to_tier) if item.to_tier else None,
                )
        raise AssertionError(f"unhandled item {item!r}")

    @staticmethod
    def _line_out(
        line: pricing.PricedLine,
        split: pricing.RevenueSplit | None,
        price_change: schemas.ComingPriceOut | None = None,
    ) -> schemas.PricedLineOut:
        return schemas.PricedLineOut(
            product_key=line.app_key,
            kind=line.kind.value,
            hosting=line.hosting.value,
            channel=line.channel.value,
            seller_of_record=line.seller_of_record.value,
            tier="unlimited" if line.tier.users is None else str(line.tier.users),
            users=line.users,
            license_type=line.license_type.value,
            period_start=line.period_start,
            period_end=line.period_end,
            amount=line.amount,
            currency=line.currency,
            explanation=line.explanation,
            formula=dict(line.formula),
            revenue_split=None
            if split is None
            else schemas.RevenueSplitOut(
                vendor_share_rate=split.vendor_share_rate,
                vendor_amount=split.vendor_amount,
                operator_amount=split.operator_amount,
                explanation=split.explanation,
            ),
            price_change=price_change,
        )


def _host_on(host: schemas.HostIn, day: date) -> schemas.HostIn:
    """The host as it will be on ``day``: a cloud site's next billing date moved on by whole cycles to the
    first one on or after that day."""
    if host.next_billing_date is None or host.billing_cycle is None or host.next_billing_date >= day:
        return host
    months = pricing.cycle_months(host.billing_cycle)
    next_billing = host.next_billing_date
    while next_billing < day:
        next_billing = pricing.add_months(next_billing, months)
    return host.model_copy(update={"next_billing_date": next_billing})
