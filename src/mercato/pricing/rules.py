"""Checks and price bases shared by every pricing function: channels, hostings, tiers and license types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from mercato.pricing.errors import (
    ChannelNotAllowed,
    DatesOutOfOrder,
    HostContextRequired,
    HostingMismatch,
    LicenseTypeNotAllowed,
    MaintenanceCapExceeded,
    TierMismatch,
    TierNotSold,
    TierSuggestion,
)
from mercato.pricing.money import format_fraction, format_money, format_percent, round_money
from mercato.pricing.offers import DEFAULT_TERMS, CommerceTerms, HostContext, Listing, PricedLine
from mercato.pricing.periods import add_months, days_between
from mercato.pricing.tables import CloudPriceTable, TierPriceTable
from mercato.pricing.types import Channel, Hosting, LicenseType, LineKind, Tier

FREE_LICENSE_TYPES = frozenset({LicenseType.COMMUNITY, LicenseType.OPEN_SOURCE, LicenseType.DEVELOPER})


def check_channel(listing: Listing, channel: Channel) -> None:
    """Raise :class:`ChannelNotAllowed` unless the listing's policy sells through ``channel``."""
    if not listing.policy.allows(channel):
        raise ChannelNotAllowed(
            app_name=listing.name,
            channel=channel.value,
            allowed_channels=sorted(c.value for c in listing.policy.channels),
        )


def check_hosting(listing: Listing, allowed: Iterable[Hosting], operation: str) -> None:
    """Raise :class:`HostingMismatch` when ``operation`` does not apply to the listing's hosting."""
    allowed = tuple(allowed)
    if listing.hosting not in allowed:
        names = " or ".join(h.value for h in allowed)
        raise HostingMismatch(
            f"{operation} applies to {names} licenses; {listing.name} is a {listing.hosting} app.",
            expected=[h.value for h in allowed],
            actual=listing.hosting.value,
        )


def check_host_hosting(listing: Listing, host: HostContext) -> None:
    """Raise :class:`HostingMismatch` when the app's hosting differs from the host's (cloud app, server)."""
    if host.hosting is not listing.hosting:
        raise HostingMismatch(
            f"{listing.name} for {listing.hosting} cannot be used on your {host.description}; choose the "
            f"{host.hosting} version of the app.",
            expected=[host.hosting.value],
            actual=listing.hosting.value,
        )


def tier_table(listing: Listing, channel: Channel) -> TierPriceTable:
    """The server/Data Center table the channel sells from (the listing is known not to be cloud)."""
    table = listing.price_table_for(channel)
    assert isinstance(table, TierPriceTable)  # Listing guarantees tier tables for server and Data Center
    return table


def cloud_table(listing: Listing) -> CloudPriceTable:
    table = listing.price_table
    assert isinstance(table, CloudPriceTable)  # Listing guarantees a cloud table for cloud listings
    return table


def list_price(listing: Listing, table: TierPriceTable, tier: Tier) -> Decimal:
    """The list price of ``tier``; raises :class:`TierNotSold` when the table does not sell it."""
    price = table.price_of(tier)
    if price is None:
        raise TierNotSold(app_name=listing.name, tier=str(tier), sold_tiers=[str(t) for t in table.tiers])
    return price


def license_type_rate(license_type: LicenseType, terms: CommerceTerms) -> Fraction:
    """The share of the list price a license type pays: commercial and starter 1, academic 1/2, free 0."""
    if license_type is LicenseType.EVALUATION:
        raise LicenseTypeNotAllowed(
            "Evaluation licenses are free and are requested as evaluations, not bought.",
            license_type=license_type.value,
        )
    if license_type in FREE_LICENSE_TYPES:
        return Fraction(0)
    if license_type is LicenseType.ACADEMIC:
        return Fraction(terms.academic_rate)
    return Fraction(1)


def check_license_type_offered(listing: Listing, license_type: LicenseType) -> None:
    """Raise :class:`LicenseTypeNotAllowed` when the listing does not sell new licenses of ``license_type``.

    Commercial and evaluation licenses are always offered. Renewals, upgrades and co-terms of a license already
    sold keep its type, so they do not ask this.
    """
    if license_type in listing.license_types:
        return
    offered = sorted(t.value for t in listing.license_types if t is not LicenseType.EVALUATION)
    raise LicenseTypeNotAllowed(
        f"{listing.name} is not sold with {license_type.label} licenses; it is sold as: {', '.join(offered)}.",
        license_type=license_type.value,
    )


def check_starter_users(users: int | None, license_type: LicenseType, terms: CommerceTerms) -> None:
    """Starter licenses exist only for small teams: raise unless ``users`` is at most the starter limit."""
    if license_type is LicenseType.STARTER and (users is None or users > terms.starter_max_users):
        tier = Tier(users)
        raise LicenseTypeNotAllowed(
            f"A starter license covers at most {terms.starter_max_users} users, not {tier}; choose a "
            f"commercial license instead.",
            license_type=license_type.value,
        )


def check_license_type_for_host(license_type: LicenseType, host: HostContext | None) -> None:
    """Discounted and free app licenses follow the host license: an academic app needs an academic host.

    The host's own license proves eligibility (an academic institution, a registered charity, an open source
    project, a developer instance); a commercial app license fits any paid or discounted host.
    """
    if host is None or license_type in (LicenseType.COMMERCIAL, LicenseType.EVALUATION):
        return
    if host.license_type is not license_type:
        raise LicenseTypeNotAllowed(
            f"An app license of type {license_type.label} is available only for a host licensed as "
            f"{license_type.label}; your {host.description} is licensed as {host.license_type.label}.",
            license_type=license_type.value,
        )


@dataclass(frozen=True)
class TierBasis:
    """The list price a tier line starts from and the license-type share of it (a starter pays the 10-user
    price, whatever tier of ten users or fewer it covers)."""

    priced_tier: Tier
    list_price: Decimal
    type_rate: Fraction
    license_type: LicenseType
    currency: str

    @property
    def price(self) -> Fraction:
        """The license-type price before any renewal rate or proration, exact."""
        return Fraction(self.list_price) * self.type_rate

    def words(self, *, current: bool = False, price_word: str = "list price") -> str:
        """ "the current 100-user list price USD 2,200.00", with the license-type share in front of it."""
        now = "current " if current else ""
        price = format_money(self.list_price, self.currency)
        basis = f"the {now}{self.priced_tier.adjective} {price_word} {price}"
        if self.license_type is LicenseType.STARTER:
            return f"{basis} (starter)"
        if self.type_rate != 1:
            return f"{format_percent(self.type_rate)} ({self.license_type.label}) of {basis}"
        return basis

    def formula(self) -> dict[str, str]:
        return {
            "tier": str(self.priced_tier),
            "list_price": str(self.list_price),
            "license_type": self.license_type.value,
            "license_type_rate": str(self.type_rate),
        }


def tier_basis(
    listing: Listing, table: TierPriceTable, tier: Tier, license_type: LicenseType, terms: CommerceTerms
) -> TierBasis:
    """The list price and license-type share for ``tier``; raises for tiers not sold and misfit types."""
    rate = license_type_rate(license_type, terms)
    list_price(listing, table, tier)
    check_starter_users(tier.users, license_type, terms)
    priced_tier = Tier(terms.starter_max_users) if license_type is LicenseType.STARTER else tier
    return TierBasis(priced_tier, list_price(listing, table, priced_tier), rate, license_type, table.currency)


@dataclass(frozen=True)
class UpgradeDifference:
    """What moving from one tier to a larger one costs before rounding: ``share`` (the difference of the two
    current list prices, times the license type's share, prorated for a Data Center term), with its ``words`` and
    the ``formula`` entries that explain it. Upgrades, renewals at a larger tier and migrations share it."""

    share: Fraction
    words: str
    formula: dict[str, str]


def upgrade_difference(
    listing: Listing,
    old_basis: TierBasis,
    new_basis: TierBasis,
    maintenance_end: date,
    today: date,
    terms: CommerceTerms,
) -> UpgradeDifference:
    """New list price − old list price, at the license type's share; for a Data Center term, × the days left in
    it / 365 (none once it has ended), since the term end is kept."""
    currency, word, license_type = new_basis.currency, price_word(listing.hosting), new_basis.license_type
    words = (
        f"{new_basis.priced_tier.adjective} {word} {format_money(new_basis.list_price, currency)} − "
        f"{old_basis.priced_tier.adjective} {word} {format_money(old_basis.list_price, currency)}"
    )
    if new_basis.type_rate != 1:
        words = f"{format_percent(new_basis.type_rate)} ({license_type.label}) of ({words})"
    share = Fraction(new_basis.list_price - old_basis.list_price) * new_basis.type_rate
    formula = {
        "old_list_price": str(old_basis.list_price),
        "new_list_price": str(new_basis.list_price),
        "license_type": license_type.value,
        "license_type_rate": str(new_basis.type_rate),
    }
    if listing.hosting is Hosting.DATACENTER:
        days_left = max(0, days_between(today, maintenance_end))
        proration = Fraction(days_left, terms.co_term_days_per_year)
        share *= proration
        words = f"({words}) × {days_left}/{terms.co_term_days_per_year} days left in the term"
        formula |= {
            "days_left": str(days_left),
            "days_per_year": str(terms.co_term_days_per_year),
            "proration": format_fraction(proration),
        }
    return UpgradeDifference(share, words, formula)


def tier_suggestion(tier: Tier, amount: Decimal, currency: str) -> TierSuggestion:
    """The tier a :class:`TierMismatch` offers, with its price."""
    return TierSuggestion(str(tier), tier.adjective, str(amount), currency, format_money(amount, currency))


def check_tier_for_host(
    listing: Listing,
    tier: Tier,
    channel: Channel,
    host: HostContext | None,
    license_type: LicenseType = LicenseType.COMMERCIAL,
    terms: CommerceTerms = DEFAULT_TERMS,
) -> None:
    """Raise :class:`TierMismatch` when the channel requires the app tier to cover the host's and it does not.

    The error offers the smallest tier the listing sells on this channel that covers the host, with its price
    for the requested license type. Host products and evaluations are exempt.
    """
    if listing.host_product or license_type is LicenseType.EVALUATION:
        return
    if host is None:
        raise HostContextRequired(app_name=listing.name)
    check_host_hosting(listing, host)
    if not listing.policy.tier_must_match_host.get(channel, False) or tier.covers(host.user_tier):
        return
    table = tier_table(listing, channel)
    suggested = table.smallest_tier_covering(host.user_tier)
    suggestion = None
    if suggested is not None:
        basis = tier_basis(listing, table, suggested, license_type, terms)
        suggestion = tier_suggestion(suggested, round_money(basis.price, table.currency), table.currency)
    raise TierMismatch(
        app_name=listing.name,
        requested_tier=str(tier),
        host_tier=str(host.user_tier),
        host_description=host.description,
        channel=channel.value,
        suggestion=suggestion,
    )


def latest_maintenance_end(
    listing: Listing, channel: Channel, today: date, terms: CommerceTerms = DEFAULT_TERMS
) -> date:
    """The latest maintenance end a purchase on ``channel`` may reach when bought ``today``.

    "Bought ahead" is measured from today: the cap (36 months on the marketplace, 12 direct) plus the renewal
    window (90 days, when the first renewal reminder goes out), so a licence can be renewed for the full cap
    as soon as it is reminded to, but never stacked further ahead.
    """
    cap = listing.policy.max_maintenance_months[channel]
    return add_months(today, cap) + timedelta(days=terms.renewal_window_days)


def check_maintenance_cap(
    listing: Listing, channel: Channel, start: date, new_end: date, today: date, terms: CommerceTerms
) -> None:
    """Raise :class:`MaintenanceCapExceeded` when ``new_end`` lies beyond what the channel sells ahead."""
    latest = latest_maintenance_end(listing, channel, today, terms)
    if new_end <= latest:
        return
    most_years = 0
    while add_months(start, 12 * (most_years + 1)) <= latest:
        most_years += 1
    raise MaintenanceCapExceeded(
        channel=channel.value,
        cap_months=listing.policy.max_maintenance_months[channel],
        requested_end=new_end,
        latest_end=latest,
        most_years_now=most_years,
    )


def check_order(
    earlier_name: str, earlier: date, later_name: str, later: date, *, strictly: bool = False
) -> None:
    """Raise :class:`DatesOutOfOrder` unless ``earlier`` comes before (or on, unless strict) ``later``."""
    if earlier > later or (strictly and earlier == later):
        raise DatesOutOfOrder(
            earlier_name=earlier_name, earlier=earlier, later_name=later_name, later=later, strictly=strictly
        )


def period_word(hosting: Hosting) -> str:
    """What a server or Data Center line buys: maintenance on a perpetual license, or a term."""
    return "term" if hosting is Hosting.DATACENTER else "maintenance"


def period_words(hosting: Hosting, start: date, end: date) -> str:
    """ "maintenance 2027-03-01 → 2029-03-01" or "term 2026-03-01 → 2027-03-01"."""
    return f"{period_word(hosting)} {start.isoformat()} → {end.isoformat()}"


def price_word(hosting: Hosting) -> str:
    return "annual price" if hosting is Hosting.DATACENTER else "list price"


def renewal_words(basis: TierBasis, renewal_rate: Fraction, hosting: Hosting) -> str:
    """ "50% of the current 100-user list price USD 2,200.00"; a renewal rate of 100% is left out."""
    if basis.type_rate == 0:
        return f"free ({basis.license_type.label})"
    words = basis.words(current=True, price_word=price_word(hosting))
    return words if renewal_rate == 1 else f"{format_percent(renewal_rate)} of {words}"


def priced_line(
    listing: Listing,
    channel: Channel,
    kind: LineKind,
    *,
    tier: Tier,
    license_type: LicenseType,
    period_start: date,
    period_end: date,
    amount: Decimal,
    currency: str,
    explanation: str,
    formula: Mapping[str, str],
    users: int | None = None,
) -> PricedLine:
    """A :class:`PricedLine` for ``listing``, with the seller of record the channel implies."""
    return PricedLine(
        kind=kind,
        app_key=listing.app_key,
        hosting=listing.hosting,
        channel=channel,
        seller_of_record=listing.seller_of_record(channel),
        host_product=listing.host_product,
        tier=tier,
        license_type=license_type,
        period_start=period_start,
        period_end=period_end,
        amount=amount,
        currency=currency,
        explanation=explanation,
        formula={**formula, "amount": str(amount)},
        users=users,
    )
