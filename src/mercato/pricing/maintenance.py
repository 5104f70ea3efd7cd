"""Maintenance (server) and term (Data Center) extensions: renewals by whole years (at the license's tier, or
at a larger one the host has grown into) and co-terming by days."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from mercato.pricing.errors import (
    CoTermAlreadyAligned,
    CoTermNotOffered,
    CoTermWouldShorten,
    InvalidRenewalYears,
    NotAnUpgrade,
    TierMismatch,
)
from mercato.pricing.money import format_money, round_money
from mercato.pricing.offers import DEFAULT_TERMS, CommerceTerms, HostContext, Listing, PricedLine
from mercato.pricing.periods import add_months, days_between
from mercato.pricing.purchases import TIERED_HOSTINGS
from mercato.pricing.rules import (
    check_channel,
    check_hosting,
    check_maintenance_cap,
    check_tier_for_host,
    period_words,
    priced_line,
    renewal_words,
    tier_basis,
    tier_table,
    upgrade_difference,
)
from mercato.pricing.types import Channel, Hosting, LicenseType, LineKind, Tier


def price_renewal(
    listing: Listing,
    tier: Tier,
    channel: Channel,
    license_type: LicenseType,
    current_maintenance_end: date,
    years: int,
    today: date,
    *,
    terms: CommerceTerms = DEFAULT_TERMS,
) -> PricedLine:
    """Price ``years`` whole years of maintenance (server) or term (Data Center) for a license of ``tier``.

    The new period starts at ``current_maintenance_end``, also when that date has passed: a lapsed license
    back-fills the lapsed time, it never restarts at ``today``. Price: the renewal rate (50% by default, a setting
    per hosting) × the license-type price of the tier at the CURRENT list price × years, rounded once.

    The new end may lie at most the channel's cap (36 months marketplace, 12 direct) plus the 90-day renewal
    window after ``today``, else :class:`MaintenanceCapExceeded`; its details say how many years can be
    bought now. Raises :class:`InvalidRenewalYears` for fewer than one year, and the tier, channel and
    license-type errors of :func:`price_new_purchase`.
    """
    check_hosting(listing, TIERED_HOSTINGS, "A maintenance renewal")
    check_channel(listing, channel)
    if years < 1:
        raise InvalidRenewalYears(years=years)
    table = tier_table(listing, channel)
    basis = tier_basis(listing, table, tier, license_type, terms)
    period_start = current_maintenance_end
    period_end = add_months(period_start, 12 * years)
    check_maintenance_cap(listing, channel, period_start, period_end, today, terms)

    renewal_rate = Fraction(terms.renewal_rate(listing.hosting))
    amount = round_money(basis.price * renewal_rate * years, table.currency)
    year_words = "1 year" if years == 1 else f"{years} years"
    explanation = (
        f"{_renewal_title(listing, license_type)}: {renewal_words(basis, renewal_rate, listing.hosting)} × "
        f"{year_words} = {format_money(amount, table.currency)}, "
        f"{period_words(listing.hosting, period_start, period_end)}"
    )
    return priced_line(
        listing,
        channel,
        LineKind.RENEWAL,
        tier=tier,
        license_type=license_type,
        period_start=period_start,
        period_end=period_end,
        amount=amount,
        currency=table.currency,
        explanation=explanation,
        formula={
            "rule": "renewal",
            **basis.formula(),
            "renewal_rate": str(renewal_rate),
            "years": str(years),
        },
    )


def renewal_tier(
    listing: Listing,
    tier: Tier,
    channel: Channel,
    host: HostContext | None,
    *,
    requested: Tier | None = None,
    license_type: LicenseType = LicenseType.COMMERCIAL,
    terms: CommerceTerms = DEFAULT_TERMS,
) -> Tier:
    """The tier a license of ``tier`` renews at on ``channel`` for ``host``.

    The buyer's ``requested`` tier when given (it must cover the host where the channel requires a match, and
    may not be smaller than ``tier``). Otherwise the license's own tier, unless the channel requires the app
    tier to cover the host and the host has grown past it: then the smallest tier sold that covers the host,
    because a key of the old tier would answer ``USER_MISMATCH`` on it. Raises :class:`TierMismatch` when no
    tier sold covers the host (or the requested one does not), :class:`NotAnUpgrade` for a smaller tier.
    """
    check_hosting(listing, TIERED_HOSTINGS, "A maintenance renewal")
    if requested is not None:
        if requested < tier:
            raise NotAnUpgrade(old_tier=str(tier), new_tier=str(requested))
        check_tier_for_host(listing, requested, channel, host, license_type, terms)
        return requested
    needs_match = listing.policy.tier_must_match_host.get(channel, False) and not listing.host_product
    if host is None or not needs_match or host.tier is None or tier.covers(host.tier):
        return tier
    covering = tier_table(listing, channel).smallest_tier_covering(host.tier)
    if covering is None:
        raise TierMismatch(
            app_name=listing.name,
            requested_tier=str(tier),
            host_tier=str(host.tier),
            host_description=host.description,
            channel=channel.value,
            suggestion=None,
        )
    return covering


def price_renewal_at_tier(
    listing: Listing,
    old_tier: Tier,
    new_tier: Tier,
    channel: Channel,
    license_type: LicenseType,
    current_maintenance_end: date,
    years: int,
    today: date,
    *,
    host: HostContext | None = None,
    terms: CommerceTerms = DEFAULT_TERMS,
) -> PricedLine:
    """Price renewing a license of ``old_tier`` for ``years`` at the larger ``new_tier``, in one line.

    Used when the host has grown past the license's tier on a channel that requires the app tier to cover it:
    a renewal at the old tier would sign a key the host refuses (``USER_MISMATCH``). The line is the upgrade
    difference at today's list prices (as :func:`~mercato.pricing.purchases.price_upgrade` computes it: the
    full difference for server, prorated to the days left in the current term for Data Center, nothing for a
    term that has already ended) plus the renewal of ``new_tier`` × ``years`` (as :func:`price_renewal`), rounded
    once. The period starts at ``current_maintenance_end`` (a lapsed license back-fills) and obeys the channel's
    cap; when ``host`` is given, ``new_tier`` must cover it.

    Raises :class:`NotAnUpgrade` unless ``new_tier`` is larger, and the errors of :func:`price_renewal`.
    """
    check_hosting(listing, TIERED_HOSTINGS, "A maintenance renewal")
    check_channel(listing, channel)
    if years < 1:
        raise InvalidRenewalYears(years=years)
    if new_tier <= old_tier:
        raise NotAnUpgrade(old_tier=str(old_tier), new_tier=str(new_tier))
    table = tier_table(listing, channel)
    new_basis = tier_basis(listing, table, new_tier, license_type, terms)
    old_basis = tier_basis(listing, table, old_tier, license_type, terms)
    if host is not None:
        check_tier_for_host(listing, new_tier, channel, host, license_type, terms)
    period_start = current_maintenance_end
    period_end = add_months(period_start, 12 * years)
    check_maintenance_cap(listing, channel, period_start, period_end, today, terms)

    currency = table.currency
    difference = upgrade_difference(listing, old_basis, new_basis, current_maintenance_end, today, terms)
    upgrade, upgrade_words = difference.share, difference.words
    formula = {
        "rule": "renewal_at_tier",
        "old_tier": str(old_tier),
        "new_tier": str(new_tier),
        **difference.formula,
    }
    renewal_rate = Fraction(terms.renewal_rate(listing.hosting))
    renewal = new_basis.price * renewal_rate * years
    amount = round_money(upgrade + renewal, currency)
    year_words = "1 year" if years == 1 else f"{years} years"
    explanation = (
        f"{_renewal_title(listing, license_type)} at {new_tier} (was {old_tier}): upgrade ({upgrade_words}) + "
        f"renewal {renewal_words(new_basis, renewal_rate, listing.hosting)} × {year_words} = "
        f"{format_money(amount, currency)}, {period_words(listing.hosting, period_start, period_end)}"
    )
    return priced_line(
        listing,
        channel,
        LineKind.RENEWAL,
        tier=new_tier,
        license_type=license_type,
        period_start=period_start,
        period_end=period_end,
        amount=amount,
        currency=currency,
        explanation=explanation,
        formula=formula | {"renewal_rate": str(renewal_rate), "years": str(years)},
    )


def price_co_term(
    listing: Listing,
    tier: Tier,
    channel: Channel,
    license_type: LicenseType,
    maintenance_end: date,
    target_date: date,
    today: date,
    *,
    terms: CommerceTerms = DEFAULT_TERMS,
) -> PricedLine:
    """Price extending maintenance (or a Data Center term) from ``maintenance_end`` to ``target_date``.

    Price: the renewal price of one year × days / 365, where days = ``target_date`` − ``maintenance_end``,
    rounded once. Marketplace only (:class:`CoTermNotOffered` on the direct channel). Co-terming only extends:
    a target before the current end raises :class:`CoTermWouldShorten`, the same date raises
    :class:`CoTermAlreadyAligned` (a quote co-terming many licenses leaves that one out). The target obeys the
    same cap as a renewal (:class:`MaintenanceCapExceeded`).
    """
    check_hosting(listing, TIERED_HOSTINGS, "Co-terming")
    check_channel(listing, channel)
    if channel is not Channel.MARKETPLACE:
        raise CoTermNotOffered(channel=channel.value)
    if target_date < maintenance_end:
        raise CoTermWouldShorten(maintenance_end=maintenance_end, target_date=target_date)
    if target_date == maintenance_end:
        raise CoTermAlreadyAligned(maintenance_end=maintenance_end)
    table = tier_table(listing, channel)
    basis = tier_basis(listing, table, tier, license_type, terms)
    check_maintenance_cap(listing, channel, maintenance_end, target_date, today, terms)

    days = days_between(maintenance_end, target_date)
    renewal_rate = Fraction(terms.renewal_rate(listing.hosting))
    amount = round_money(
        basis.price * renewal_rate * Fraction(days, terms.co_term_days_per_year), table.currency
    )
    explanation = (
        f"Co-term: {renewal_words(basis, renewal_rate, listing.hosting)} × {days}/{terms.co_term_days_per_year} "
        f"days = {format_money(amount, table.currency)}, "
        f"{period_words(listing.hosting, maintenance_end, target_date)}"
    )
    return priced_line(
        listing,
        channel,
        LineKind.CO_TERM,
        tier=tier,
        license_type=license_type,
        period_start=maintenance_end,
        period_end=target_date,
        amount=amount,
        currency=table.currency,
        explanation=explanation,
        formula={
            "rule": "co_term",
            **basis.formula(),
            "renewal_rate": str(renewal_rate),
            "days": str(days),
            "days_per_year": str(terms.co_term_days_per_year),
        },
    )


def _renewal_title(listing: Listing, license_type: LicenseType) -> str:
    """ "Renewal", "Academic renewal", "Data Center renewal"."""
    words = ["Data Center"] if listing.hosting is Hosting.DATACENTER else []
    if license_type is not LicenseType.COMMERCIAL:
        words.append(license_type.label)
    words.append("renewal")
    title = " ".join(words)
    return title[0].upper() + title[1:]
