"""Migrating a direct server or Data Center license to the marketplace (DESIGN §5).

The license keeps its entitlement number, its maintenance (or term) end and its history; what changes is the
channel, the seller of record and, when the marketplace's tier rule requires it, the tier. A license whose tier
already covers the host's moves as it is, for nothing. One that does not is upgraded to the smallest tier the
marketplace sells that covers the host, in the same step, and pays what the marketplace's upgrade rule asks:
the difference of the two tiers' current list prices (prorated to the days left for a Data Center term), the
maintenance end kept.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from mercato.pricing.errors import MigrationWouldDowngrade, RenewalRequiredFirst
from mercato.pricing.money import format_money, round_money
from mercato.pricing.offers import DEFAULT_TERMS, CommerceTerms, HostContext, Listing, PricedLine
from mercato.pricing.purchases import TIERED_HOSTINGS
from mercato.pricing.rules import (
    check_channel,
    check_hosting,
    check_license_type_for_host,
    check_license_type_offered,
    check_tier_for_host,
    period_word,
    priced_line,
    tier_basis,
    tier_table,
    upgrade_difference,
)
from mercato.pricing.tables import TierPriceTable
from mercato.pricing.types import Channel, LicenseType, LineKind, Tier

MARKETPLACE = Channel.MARKETPLACE


def migration_tier(listing: Listing, tier: Tier, host: HostContext, chosen: Tier | None = None) -> Tier:
    """The tier a license of ``tier`` has on the marketplace: ``chosen`` if given (never below ``tier``), else
    ``tier`` itself when the marketplace sells it and it covers the host, else the smallest tier the marketplace
    sells that covers both. ``tier`` itself is returned when no tier covers (the tier check then refuses it with
    its suggestion)."""
    if chosen is not None:
        if chosen < tier:
            raise MigrationWouldDowngrade(tier=str(tier), requested_tier=str(chosen))
        return chosen
    table = tier_table(listing, MARKETPLACE)
    needed = tier
    if listing.policy.tier_must_match_host.get(MARKETPLACE, False) and host.tier is not None:
        needed = max(tier, host.tier)
    if table.price_of(needed) is not None:
        return needed
    return table.smallest_tier_covering(needed) or tier


def price_migration(
    listing: Listing,
    tier: Tier,
    license_type: LicenseType,
    maintenance_end: date,
    host: HostContext,
    today: date,
    *,
    to_tier: Tier | None = None,
    terms: CommerceTerms = DEFAULT_TERMS,
) -> PricedLine:
    """Price moving a direct license of ``tier`` (paid until ``maintenance_end``) to the marketplace for
    ``host``, at :func:`migration_tier`.

    Nothing to pay when the tier stays. An upgrade costs the marketplace's current list price of the new tier
    minus the old tier's (from the marketplace table, or the direct table when the marketplace does not sell the
    old tier), times the license type's share, prorated by days left / 365 for a Data Center term; never less
    than zero. The period is ``today`` → ``maintenance_end`` (kept).

    Raises :class:`RenewalRequiredFirst` for an upgrade of a license whose maintenance ended (renew it in the
    direct channel first), :class:`MigrationWouldDowngrade`, and the channel, hosting, tier and license-type
    errors of :func:`price_new_purchase` (:class:`TierMismatch` names the tier to choose).
    """
    check_hosting(listing, TIERED_HOSTINGS, "A migration to the marketplace")
    check_channel(listing, MARKETPLACE)
    check_license_type_offered(listing, license_type)
    check_license_type_for_host(license_type, host)
    target = migration_tier(listing, tier, host, to_tier)
    check_tier_for_host(listing, target, MARKETPLACE, host, license_type, terms)
    table = tier_table(listing, MARKETPLACE)
    new_basis = tier_basis(listing, table, target, license_type, terms)  # the marketplace must sell the tier
    currency = table.currency
    word = period_word(listing.hosting)
    formula: dict[str, str] = {
        "rule": "migration",
        "old_tier": str(tier),
        "new_tier": str(target),
        "license_type": license_type.value,
        "maintenance_end": maintenance_end.isoformat(),
    }
    if target == tier:
        amount = round_money(0, currency)
        explanation = (
            f"Migration to the marketplace: the {tier.adjective} license covers the host; nothing to pay = "
            f"{format_money(amount, currency)}, {word} end stays {maintenance_end.isoformat()}"
        )
    else:
        if maintenance_end < today:
            raise RenewalRequiredFirst(maintenance_end=maintenance_end, today=today)
        old_table = table if table.price_of(tier) is not None else _direct_table(listing)
        old_basis = tier_basis(listing, old_table, tier, license_type, terms)
        difference = upgrade_difference(listing, old_basis, new_basis, maintenance_end, today, terms)
        # A direct table may price the old tier above the marketplace's new one: a migration never pays back.
        share, words = max(Fraction(0), difference.share), difference.words
        formula |= difference.formula
        amount = round_money(share, currency)
        explanation = (
            f"Migration to the marketplace with an upgrade to {target} to match the host: {words} = "
            f"{format_money(amount, currency)}, {word} end stays {maintenance_end.isoformat()}"
        )
    return priced_line(
        listing,
        MARKETPLACE,
        LineKind.MIGRATION,
        tier=target,
        license_type=license_type,
        period_start=today,
        period_end=maintenance_end,
        amount=amount,
        currency=currency,
        explanation=explanation,
        formula=formula,
    )


def _direct_table(listing: Listing) -> TierPriceTable:
    table = listing.price_table_for(Channel.DIRECT)
    assert isinstance(table, TierPriceTable)  # tiered hostings only
    return table
