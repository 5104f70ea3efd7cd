"""Maintenance (server) and term (Data Center) extensions: renewals by whole years and co-terming by days."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from mercato.pricing.errors import (
    CoTermAlreadyAligned,
    CoTermNotOffered,
    CoTermWouldShorten,
    InvalidRenewalYears,
)
from mercato.pricing.money import format_money, format_percent, round_money
from mercato.pricing.offers import DEFAULT_TERMS, CommerceTerms, Listing, PricedLine
from mercato.pricing.periods import add_months, days_between
from mercato.pricing.purchases import TIERED_HOSTINGS
from mercato.pricing.rules import (
    TierBasis,
    check_channel,
    check_hosting,
    check_maintenance_cap,
    period_words,
    price_word,
    priced_line,
    tier_basis,
    tier_table,
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
        f"{_renewal_title(listing, license_type)}: {_rated(basis, renewal_rate, listing.hosting)} × "
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
        f"Co-term: {_rated(basis, renewal_rate, listing.hosting)} × {days}/{terms.co_term_days_per_year} "
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


def _rated(basis: TierBasis, renewal_rate: Fraction, hosting: Hosting) -> str:
    """ "50% of the current 100-user list price USD 2,200.00"; a renewal rate of 100% is left out."""
    if basis.type_rate == 0:
        return f"free ({basis.license_type.label})"
    words = basis.words(current=True, price_word=price_word(hosting))
    return words if renewal_rate == 1 else f"{format_percent(renewal_rate)} of {words}"
