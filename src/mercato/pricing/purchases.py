"""New server and Data Center licenses, tier upgrades, and evaluations."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from mercato.pricing.errors import (
    HostContextRequired,
    InvalidRenewalYears,
    NotAnUpgrade,
    RenewalRequiredFirst,
)
from mercato.pricing.money import format_money, round_money
from mercato.pricing.offers import DEFAULT_TERMS, CommerceTerms, HostContext, Listing, PricedLine
from mercato.pricing.periods import add_months
from mercato.pricing.rules import (
    check_channel,
    check_host_hosting,
    check_hosting,
    check_license_type_for_host,
    check_license_type_offered,
    check_maintenance_cap,
    check_tier_for_host,
    cloud_table,
    period_word,
    price_word,
    priced_line,
    renewal_words,
    tier_basis,
    tier_table,
    upgrade_difference,
)
from mercato.pricing.types import Channel, Hosting, LicenseType, LineKind, Tier

TIERED_HOSTINGS = (Hosting.SERVER, Hosting.DATACENTER)


def price_new_purchase(
    listing: Listing,
    tier: Tier,
    channel: Channel,
    host: HostContext | None,
    license_type: LicenseType,
    today: date,
    *,
    years: int = 1,
    terms: CommerceTerms = DEFAULT_TERMS,
) -> PricedLine:
    """Price a new server or Data Center license of ``tier`` bought ``today``, with ``years`` of maintenance.

    Server: the tier's list price, with 12 months of maintenance from today. Data Center: the tier's annual
    price for a term of 12 months from today. Academic pays 50% of list, community, open source and developer
    licenses are free (a zero line still records the sale), starter pays the 10-user price and covers at most
    10 users. ``host`` is the customer's host instance (``None`` only for the operator's host products); on a
    channel that requires it, the tier must cover the host's tier. The listing must offer the license type.

    More than one year at once: the first year at the new price, each further year at the renewal price of the
    same tier and license type (what :func:`~mercato.pricing.maintenance.price_renewal` would charge for it),
    one period ``today`` → ``today + 12 × years`` months, rounded once. The channel's cap on maintenance bought
    ahead applies (the marketplace sells up to 3 years at once, the direct channel 1).

    Raises :class:`ChannelNotAllowed`, :class:`HostingMismatch`, :class:`TierNotSold`, :class:`TierMismatch`,
    :class:`LicenseTypeNotAllowed`, :class:`HostContextRequired`, :class:`InvalidRenewalYears` (fewer than
    one year) or :class:`MaintenanceCapExceeded` (more years than the channel sells ahead).
    """
    check_hosting(listing, TIERED_HOSTINGS, "A new license by tier")
    check_channel(listing, channel)
    if years < 1:
        raise InvalidRenewalYears(years=years)
    table = tier_table(listing, channel)
    basis = tier_basis(listing, table, tier, license_type, terms)
    check_license_type_offered(listing, license_type)
    check_license_type_for_host(license_type, host)
    check_tier_for_host(listing, tier, channel, host, license_type, terms)
    further_years = years - 1
    period_end = add_months(today, terms.maintenance_months + 12 * further_years)
    if further_years:
        check_maintenance_cap(listing, channel, today, period_end, today, terms)

    renewal_rate = Fraction(terms.renewal_rate(listing.hosting))
    amount = round_money(basis.price * (1 + renewal_rate * further_years), table.currency)
    kind_words = "Data Center license" if listing.hosting is Hosting.DATACENTER else "license"
    type_words = "" if license_type is LicenseType.COMMERCIAL else f"{license_type.label} "
    word = price_word(listing.hosting)
    if basis.type_rate == 0:
        price_words = "free"
    elif further_years:
        more = "1 more year" if further_years == 1 else f"{further_years} more years"
        price_words = (
            f"{basis.words(price_word=word)} (first year) + "
            f"{renewal_words(basis, renewal_rate, listing.hosting)} × {more} (renewal)"
        )
    else:
        price_words = basis.words(price_word=word)
    explanation = (
        f"New {type_words}{kind_words}: {price_words} = {format_money(amount, table.currency)}, "
        f"{period_word(listing.hosting)} {today.isoformat()} → {period_end.isoformat()}"
    )
    formula = {"rule": "new", **basis.formula(), "months": str(terms.maintenance_months)}
    if further_years:
        formula |= {
            "months": str(terms.maintenance_months + 12 * further_years),
            "years": str(years),
            "renewal_rate": str(renewal_rate),
        }
    return priced_line(
        listing,
        channel,
        LineKind.NEW,
        tier=tier,
        license_type=license_type,
        period_start=today,
        period_end=period_end,
        amount=amount,
        currency=table.currency,
        explanation=explanation,
        formula=formula,
    )


def price_upgrade(
    listing: Listing,
    old_tier: Tier,
    new_tier: Tier,
    channel: Channel,
    license_type: LicenseType,
    maintenance_end: date,
    today: date,
    *,
    host: HostContext | None = None,
    terms: CommerceTerms = DEFAULT_TERMS,
) -> PricedLine:
    """Price moving a license from ``old_tier`` to the larger ``new_tier``; the maintenance end stays.

    Server: new tier list price − old tier list price, both current. Data Center: the same difference of
    annual prices, prorated to the days left in the term (days / 365), since the term end is kept.
    The license-type share applies to the difference. When ``host`` is given, the new tier must also cover it
    on a channel that requires a match.

    Raises :class:`NotAnUpgrade` for a tier that is not larger, :class:`RenewalRequiredFirst` when maintenance
    ended before ``today``, and the tier, channel and license-type errors of :func:`price_new_purchase`.
    """
    check_hosting(listing, TIERED_HOSTINGS, "A tier upgrade")
    check_channel(listing, channel)
    if new_tier <= old_tier:
        raise NotAnUpgrade(old_tier=str(old_tier), new_tier=str(new_tier))
    if maintenance_end < today:
        raise RenewalRequiredFirst(maintenance_end=maintenance_end, today=today)
    table = tier_table(listing, channel)
    new_basis = tier_basis(listing, table, new_tier, license_type, terms)
    old_basis = tier_basis(listing, table, old_tier, license_type, terms)
    if host is not None:
        check_license_type_for_host(license_type, host)
        check_tier_for_host(listing, new_tier, channel, host, license_type, terms)

    currency = table.currency
    difference = upgrade_difference(listing, old_basis, new_basis, maintenance_end, today, terms)
    share, words = difference.share, difference.words
    formula = {"rule": "upgrade", "old_tier": str(old_tier), "new_tier": str(new_tier), **difference.formula}
    amount = round_money(share, currency)
    explanation = (
        f"Upgrade to {new_tier}: {words} = {format_money(amount, currency)}, "
        f"{period_word(listing.hosting)} end stays {maintenance_end.isoformat()}"
    )
    return priced_line(
        listing,
        channel,
        LineKind.UPGRADE,
        tier=new_tier,
        license_type=license_type,
        period_start=today,
        period_end=maintenance_end,
        amount=amount,
        currency=currency,
        explanation=explanation,
        formula=formula,
    )


def price_evaluation(
    listing: Listing,
    host: HostContext | None,
    today: date,
    *,
    channel: Channel = Channel.MARKETPLACE,
    terms: CommerceTerms = DEFAULT_TERMS,
) -> PricedLine:
    """A free 30-day evaluation from ``today`` at the highest tier the listing sells.

    Evaluations are exempt from the tier-match rule; the host must still be of the listing's hosting
    (``host`` may be ``None`` only for the operator's host products, whose trial needs no host). For a cloud
    listing the highest tier is the most users its brackets admit (unlimited when the last is open).
    How many evaluations a host instance may have is the licensing service's rule, not a price.
    """
    check_channel(listing, channel)
    if host is not None:
        check_host_hosting(listing, host)
    elif not listing.host_product:
        raise HostContextRequired(app_name=listing.name)
    if listing.hosting is Hosting.CLOUD:
        max_users = cloud_table(listing).max_users
        tier = Tier.UNLIMITED if max_users is None else Tier(max_users)
        currency = cloud_table(listing).currency
    else:
        table = tier_table(listing, channel)
        tier, currency = table.highest_tier, table.currency
    period_end = today + timedelta(days=terms.evaluation_days)
    amount = round_money(0, currency)
    explanation = (
        f"Evaluation: free for {terms.evaluation_days} days at the highest tier ({tier}) = "
        f"{format_money(amount, currency)}, {today.isoformat()} → {period_end.isoformat()}"
    )
    return priced_line(
        listing,
        channel,
        LineKind.EVALUATION,
        tier=tier,
        license_type=LicenseType.EVALUATION,
        period_start=today,
        period_end=period_end,
        amount=amount,
        currency=currency,
        explanation=explanation,
        formula={"rule": "evaluation", "days": str(terms.evaluation_days), "tier": str(tier)},
    )
