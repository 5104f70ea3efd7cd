"""Cloud subscriptions: monthly by user count or annual by fixed tier, co-termed with the site's billing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from mercato.pricing.errors import ChannelNotAllowed, InvalidUserCount, TierMismatch, TierNotSold
from mercato.pricing.money import format_money, format_percent, round_money
from mercato.pricing.offers import DEFAULT_TERMS, CommerceTerms, HostContext, Listing, PricedLine
from mercato.pricing.periods import add_months, days_between
from mercato.pricing.rules import (
    check_channel,
    check_host_hosting,
    check_hosting,
    check_license_type_for_host,
    check_license_type_offered,
    check_order,
    check_starter_users,
    cloud_table,
    license_type_rate,
    priced_line,
    tier_suggestion,
)
from mercato.pricing.tables import CLOUD_ANNUAL_MONTHS_CHARGED, CLOUD_FLAT_USERS, CloudPriceTable
from mercato.pricing.types import BillingCycle, Channel, Hosting, LicenseType, LineKind, Tier


def cycle_months(cycle: BillingCycle) -> int:
    """The length of a billing cycle in months."""
    return 1 if cycle is BillingCycle.MONTHLY else 12


def price_cloud_subscription(
    listing: Listing,
    host: HostContext,
    start: date,
    *,
    tier: Tier | None = None,
    license_type: LicenseType = LicenseType.COMMERCIAL,
    channel: Channel = Channel.MARKETPLACE,
    terms: CommerceTerms = DEFAULT_TERMS,
    renewing: bool = False,
) -> PricedLine:
    """Price the first billing period of a cloud app subscribed on ``start`` for the cloud site ``host``.

    The app follows the site: its billing cycle, and every user of the site. Monthly: the bracketed monthly
    price for the site's users. Annual: 10 × the monthly price of a fixed tier, by default the smallest annual
    tier that covers the site's users (``tier`` may choose a larger one). When the site has a
    ``next_billing_date``, the first period runs from ``start`` to it and is prorated by days over the site's
    current cycle (co-terming), so the app renews with the site; otherwise a full cycle from ``start``.
    Rounded once. A new subscription must be of a license type the listing offers; ``renewing`` (the billing
    run's next cycle of a subscription already sold) keeps the type it was sold with.

    Raises :class:`ChannelNotAllowed` (cloud is marketplace-only), :class:`HostingMismatch`,
    :class:`TierNotSold`, :class:`TierMismatch` (a chosen annual tier below the site's users),
    :class:`LicenseTypeNotAllowed` and :class:`DatesOutOfOrder`.
    """
    table = _cloud_checks(listing, channel, license_type, terms)
    if not renewing:
        check_license_type_offered(listing, license_type)
    check_host_hosting(listing, host)
    check_license_type_for_host(license_type, host)
    assert host.cloud_users is not None and host.billing_cycle is not None  # HostContext ensures it for cloud
    users, cycle = host.cloud_users, host.billing_cycle
    check_starter_users(users, license_type, terms)
    months = cycle_months(cycle)

    if cycle is BillingCycle.MONTHLY:
        _check_users_sold(listing, table, users)
        line_tier, full_price = Tier(users), table.monthly_price(users)
        price_words, per = _monthly_words(table, users), "a month"
        kind = LineKind.CLOUD_MONTHLY
    else:
        line_tier = _annual_tier(listing, table, users, tier, license_type, host, terms)
        full_price = table.annual_price(line_tier)
        price_words, per = _annual_words(table, line_tier), "a year"
        kind = LineKind.CLOUD_ANNUAL

    next_billing = host.next_billing_date
    if next_billing is None or next_billing == start:
        period_end, proration, proration_words = add_months(start, months), Fraction(1), ""
    else:
        check_order("subscription start", start, "site's next billing date", next_billing)
        cycle_start = add_months(next_billing, -months)
        check_order("start of the site's current billing cycle", cycle_start, "subscription start", start)
        days_left, cycle_days = days_between(start, next_billing), days_between(cycle_start, next_billing)
        period_end, proration = next_billing, Fraction(days_left, cycle_days)
        proration_words = f" × {days_left}/{cycle_days} days to the site's next billing date"

    rate = license_type_rate(license_type, terms)
    amount = round_money(Fraction(full_price) * rate * proration, table.currency)
    cycle_title = "Cloud monthly" if cycle is BillingCycle.MONTHLY else "Cloud annual"
    if rate != 1 or proration != 1:
        # Name the full cycle price before taking a share of it or prorating it.
        price_words = f"{price_words} = {format_money(full_price, table.currency)} {per}"
    explanation = (
        f"{cycle_title} for {users:,} users: {_with_type(price_words, rate, license_type)}{proration_words}"
        f" = {format_money(amount, table.currency)}, {start.isoformat()} → {period_end.isoformat()}"
    )
    formula = {
        "rule": kind.value,
        "users": str(users),
        "cycle": cycle.value,
        "tier": str(line_tier),
        "cycle_price": str(full_price),
        "license_type": license_type.value,
        "license_type_rate": str(rate),
        "proration": str(proration),
    }
    return priced_line(
        listing,
        channel,
        kind,
        tier=line_tier,
        license_type=license_type,
        period_start=start,
        period_end=period_end,
        amount=amount,
        currency=table.currency,
        explanation=explanation,
        formula=formula,
        users=users,
    )


def price_cloud_user_increase(
    listing: Listing,
    cycle: BillingCycle,
    old_users: int,
    new_users: int,
    change_date: date,
    cycle_end: date,
    *,
    license_type: LicenseType = LicenseType.COMMERCIAL,
    channel: Channel = Channel.MARKETPLACE,
    terms: CommerceTerms = DEFAULT_TERMS,
) -> PricedLine:
    """Price a change of a cloud site's users on ``change_date``, within the cycle ending on ``cycle_end``.

    More users: (price for the new users − price for the old) × days left / days in the cycle, rounded once,
    where prices are monthly prices (monthly cycle) or the annual prices of the smallest annual tiers covering
    each count (annual cycle: users within the same tier cost nothing). Fewer users: nothing is charged or
    credited now; the returned zero line of kind ``cloud_user_decrease`` covers the next cycle, when the lower
    count applies. Days left never increase the price less: the proration is monotonic.

    Raises :class:`InvalidUserCount`, :class:`DatesOutOfOrder` (a change outside the cycle),
    :class:`TierNotSold`, :class:`ChannelNotAllowed` and :class:`LicenseTypeNotAllowed`.
    """
    table = _cloud_checks(listing, channel, license_type, terms)
    for users in (old_users, new_users):
        if users < 1:
            raise InvalidUserCount(users=users)
    check_starter_users(new_users, license_type, terms)
    months = cycle_months(cycle)
    cycle_start = add_months(cycle_end, -months)
    check_order("start of the billing cycle", cycle_start, "date of the change", change_date)
    check_order("date of the change", change_date, "end of the billing cycle", cycle_end)
    currency = table.currency
    rate = license_type_rate(license_type, terms)
    formula = {
        "old_users": str(old_users),
        "new_users": str(new_users),
        "cycle": cycle.value,
        "license_type": license_type.value,
        "license_type_rate": str(rate),
    }

    old_price, _, old_words = _cycle_price(listing, table, cycle, old_users)
    new_price, new_tier, new_words = _cycle_price(listing, table, cycle, new_users)

    if new_users < old_users:
        amount = round_money(0, currency)
        next_end = add_months(cycle_end, months)
        explanation = (
            f"Fewer users ({old_users:,} → {new_users:,}) take effect at the next billing date "
            f"{cycle_end.isoformat()}: nothing is charged or credited now = {format_money(amount, currency)}"
        )
        return priced_line(
            listing,
            channel,
            LineKind.CLOUD_USER_DECREASE,
            tier=new_tier,
            license_type=license_type,
            period_start=cycle_end,
            period_end=next_end,
            amount=amount,
            currency=currency,
            explanation=explanation,
            formula={"rule": "cloud_user_decrease", **formula},
            users=new_users,
        )

    days_left, cycle_days = days_between(change_date, cycle_end), days_between(cycle_start, cycle_end)
    amount = round_money(Fraction(new_price - old_price) * rate * Fraction(days_left, cycle_days), currency)
    formula |= {
        "rule": "cloud_user_increase",
        "old_cycle_price": str(old_price),
        "new_cycle_price": str(new_price),
        "days_left": str(days_left),
        "cycle_days": str(cycle_days),
    }
    if new_price == old_price:
        reason = (
            "no users added"
            if new_users == old_users
            else f"{new_users:,} users stay within the {new_tier.adjective} annual tier"
        )
        explanation = (
            f"Users {old_users:,} → {new_users:,}: {reason}, nothing to pay = "
            f"{format_money(amount, currency)}"
        )
    else:
        difference = f"({new_words} − {old_words})"
        explanation = (
            f"Users added mid-cycle ({old_users:,} → {new_users:,}): "
            f"{_with_type(difference, rate, license_type)} × {days_left}/{cycle_days} days left in the cycle"
            f" = {format_money(amount, currency)}, "
            f"{change_date.isoformat()} → {cycle_end.isoformat()}"
        )
    return priced_line(
        listing,
        channel,
        LineKind.CLOUD_USER_INCREASE,
        tier=new_tier,
        license_type=license_type,
        period_start=change_date,
        period_end=cycle_end,
        amount=amount,
        currency=currency,
        explanation=explanation,
        formula=formula,
        users=new_users,
    )


def _cloud_checks(
    listing: Listing, channel: Channel, license_type: LicenseType, terms: CommerceTerms
) -> CloudPriceTable:
    check_hosting(listing, (Hosting.CLOUD,), "A cloud subscription")
    if channel is not Channel.MARKETPLACE:
        # Cloud apps run on the operator's sites, so only the operator can bill them, whatever a policy says.
        raise ChannelNotAllowed(
            app_name=listing.name, channel=channel.value, allowed_channels=[Channel.MARKETPLACE.value]
        )
    check_channel(listing, channel)
    license_type_rate(license_type, terms)
    return cloud_table(listing)


def _check_users_sold(listing: Listing, table: CloudPriceTable, users: int) -> None:
    if not table.covers_users(users):
        raise TierNotSold(
            app_name=listing.name, tier=f"{users:,} users", sold_tiers=[f"up to {table.max_users:,} users"]
        )


def _annual_tier(
    listing: Listing,
    table: CloudPriceTable,
    users: int,
    chosen: Tier | None,
    license_type: LicenseType,
    host: HostContext,
    terms: CommerceTerms,
) -> Tier:
    """The annual tier to bill: ``chosen`` if it is sold and covers the site, else the smallest that does."""
    sold = [str(t) for t in table.annual_tiers]
    smallest = table.smallest_annual_tier_covering(users)
    if smallest is None:
        raise TierNotSold(app_name=listing.name, tier=f"{users:,} users", sold_tiers=sold)
    if chosen is None:
        return smallest
    if chosen not in table.annual_tiers:
        raise TierNotSold(app_name=listing.name, tier=str(chosen), sold_tiers=sold)
    if chosen < smallest:
        rate = license_type_rate(license_type, terms)
        price = round_money(Fraction(table.annual_price(smallest)) * rate, table.currency)
        raise TierMismatch(
            app_name=listing.name,
            requested_tier=str(chosen),
            host_tier=str(Tier(users)),
            host_description=host.description,
            channel=Channel.MARKETPLACE.value,
            suggestion=tier_suggestion(smallest, price, table.currency),
        )
    return chosen


def _cycle_price(
    listing: Listing, table: CloudPriceTable, cycle: BillingCycle, users: int
) -> tuple[Decimal, Tier, str]:
    """The price of one cycle for ``users``, the tier the line names, and the price in words."""
    if cycle is BillingCycle.MONTHLY:
        _check_users_sold(listing, table, users)
        price = table.monthly_price(users)
        return price, Tier(users), f"monthly price for {users:,} users {format_money(price, table.currency)}"
    tier = table.smallest_annual_tier_covering(users)
    if tier is None:
        raise TierNotSold(
            app_name=listing.name, tier=f"{users:,} users", sold_tiers=[str(t) for t in table.annual_tiers]
        )
    price = table.annual_price(tier)
    return price, tier, f"annual price of the {tier.adjective} tier {format_money(price, table.currency)}"


def _monthly_words(table: CloudPriceTable, users: int) -> str:
    """ "flat USD 10.00 for the first 10 users + 90 users × USD 5.00 + 150 users × USD 3.00"."""
    flat = f"flat {format_money(table.flat_monthly, table.currency)} for the first {CLOUD_FLAT_USERS} users"
    charges = [
        f"{c.users:,} users × {format_money(c.per_user_monthly, table.currency)}"
        for c in table.monthly_breakdown(users)
    ]
    return " + ".join([flat, *charges])


def _annual_words(table: CloudPriceTable, tier: Tier) -> str:
    assert tier.users is not None  # annual tiers are never unlimited
    monthly = table.monthly_price(tier.users)
    return (
        f"{tier.adjective} tier, {CLOUD_ANNUAL_MONTHS_CHARGED} × the monthly price "
        f"{format_money(monthly, table.currency)}"
    )


def _with_type(words: str, rate: Fraction, license_type: LicenseType) -> str:
    if rate == 1:
        return words
    if rate == 0:
        return f"free ({license_type.label}; {words})"
    return f"{format_percent(rate)} ({license_type.label}) of {words}"
