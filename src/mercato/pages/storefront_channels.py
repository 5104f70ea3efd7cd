"""Which channels sell a listing, and what differs between them, in sentences a buyer decides by.

The sentences come from the listing's own channel policy (which channels sell it, whether the app tier must
cover the host's, how much maintenance may be bought ahead, its own direct prices) and from whether the
vendor's direct store is open (``check_on_sale``), never from a text written per app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm.attributes import set_committed_value

from mercato.catalog.listings import check_on_sale
from mercato.catalog.listings_errors import ListingNotOnSale
from mercato.catalog.models import App, Listing, Vendor
from mercato.pricing import Hosting


@dataclass(frozen=True)
class ChannelOffer:
    """One channel of one listing: whether it sells it now, who bills, and its pros and cons."""

    channel: str  # marketplace, direct
    title: str
    on_sale: bool
    seller: str
    pros: list[str] = field(default_factory=list)
    cons: list[str] = field(default_factory=list)
    refusal: str | None = None  # why it does not sell it, when it does not


def _years(months: int) -> str:
    if months % 12 == 0:
        years = months // 12
        return "1 year" if years == 1 else f"{years} years"
    return f"{months} months"


def _tier_sentence(must_match: bool, host_name: str) -> tuple[bool, str]:
    """(is it a pro, the sentence) for the channel's tier rule."""
    if must_match:
        return False, (
            f"The app's user tier must cover your {host_name} license's tier: a 100-user {host_name} needs "
            "the 100-user tier or larger."
        )
    return True, (
        f"The app's tier may be smaller than your {host_name} license's: for example a 10-user license on a "
        "100-user host, and the app then admits at most 10 of its users."
    )


def _maintenance_sentence(months: int) -> tuple[bool, str]:
    if months > 12:
        return (
            True,
            f"Up to {_years(months)} of maintenance in one purchase, each year after the first at the renewal rate.",
        )
    return False, f"Maintenance is sold {_years(months)} at a time."


def marketplace_offer(listing: Listing, vendor: Vendor, operator_name: str, host_name: str) -> ChannelOffer:
    offer = ChannelOffer(
        channel="marketplace",
        title="Marketplace",
        on_sale=listing.sold_on_marketplace,
        seller=operator_name,
        refusal=None
        if listing.sold_on_marketplace
        else f"{vendor.name} does not sell it on the marketplace.",
    )
    offer.pros.append(
        f"One bill from {operator_name}, together with your {host_name} licenses, on the same terms."
    )
    if listing.hosting is not Hosting.CLOUD:
        offer.pros.append(
            f"Co-terming: its maintenance can end on the same day as your {host_name} license's, priced by "
            "the day."
        )
    else:
        offer.pros.append("Billed with your cloud site, on its billing date.")
    for is_pro, sentence in (
        _tier_sentence(listing.tier_must_match_host_marketplace, host_name),
        _maintenance_sentence(listing.max_maintenance_months_marketplace),
    ):
        (offer.pros if is_pro else offer.cons).append(sentence)
    if listing.hosting is Hosting.CLOUD:
        offer.pros.append("Cloud apps are sold only here.")
    return offer


def direct_offer(listing: Listing, vendor: Vendor, today: date) -> ChannelOffer:
    refusal = None
    if listing.hosting is Hosting.CLOUD:
        refusal = "Cloud apps are sold only on the marketplace."
    elif not listing.sold_direct:
        refusal = f"{vendor.name} sells this listing only on the marketplace."
    else:
        try:
            check_on_sale(listing, vendor, f"{listing.product_key} is not sold directly", channel="direct")
        except ListingNotOnSale as closed:
            refusal = closed.detail
    offer = ChannelOffer(
        channel="direct",
        title=f"{vendor.name}'s direct store",
        on_sale=refusal is None,
        seller=vendor.name,
        refusal=refusal,
    )
    if refusal is not None:
        return offer
    offer.pros.append(f"Bought from {vendor.name} itself, on its own bills and its own terms.")
    if any(price.price_list == "direct" for price in listing.prices_on(today).tier_prices):
        offer.cons.append(f"{vendor.name}'s own prices, not the marketplace's: see the price table.")
    offer.cons.append(
        f"A second supplier to deal with: {vendor.name} bills you apart from your host licenses."
    )
    offer.cons.append("No co-terming: it renews on its own schedule.")
    for is_pro, sentence in (
        _tier_sentence(listing.tier_must_match_host_direct, "host"),
        _maintenance_sentence(listing.max_maintenance_months_direct),
    ):
        (offer.pros if is_pro else offer.cons).append(sentence)
    return offer


def channel_offers(
    app: App, listing: Listing, vendor: Vendor, operator_name: str, host_name: str, today: date
) -> list[ChannelOffer]:
    """The marketplace and the direct store for ``listing`` of ``app`` (an app of ``vendor``)."""
    set_committed_value(listing, "app", app)  # loaded already: the sale check reads the listing's app
    return [
        marketplace_offer(listing, vendor, operator_name, host_name),
        direct_offer(listing, vendor, today),
    ]
