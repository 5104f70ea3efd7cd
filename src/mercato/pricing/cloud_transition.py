"""A vendor's direct cloud customer moves to its marketplace cloud listing, the prepaid term credited.

The customer prepaid the vendor for a term (``start`` → ``end``) of a cloud app on a site. On the transition
date the customer starts a marketplace subscription that runs to the same billing date (the direct term's
end, which carries over), for the same users and the same billing cycle, priced like any cloud subscription
co-termed to that date (:func:`price_cloud_subscription`): that is the **charge**. The part of the prepayment
not used yet is the **credit**: prepaid × days left / days of the term, rounded once to the currency's minor
unit. The line asks for charge − credit, never less than zero; a credit larger than the charge leaves
``credit_unused``, which the vendor (who holds the prepayment) refunds to the customer itself.

The revenue split follows the money: the vendor collected the prepayment, so the credit is the vendor's
money. The operator keeps its share of the charge, exactly as on a sale of that charge, and the vendor gets
the rest of the net, which is negative when the credit is more than the vendor's share of the charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from mercato.pricing.cloud import price_cloud_subscription
from mercato.pricing.errors import PrepaidTermUnusable
from mercato.pricing.money import format_fraction, format_money, round_money
from mercato.pricing.offers import DEFAULT_TERMS, CommerceTerms, HostContext, Listing, PricedLine
from mercato.pricing.periods import days_between
from mercato.pricing.revenue import RevenueShareSchedule, RevenueSplit
from mercato.pricing.rules import check_order, cloud_table, priced_line
from mercato.pricing.types import BillingCycle, Channel, Hosting, LicenseType, LineKind


@dataclass(frozen=True)
class PrepaidTerm:
    """What a direct cloud customer prepaid the vendor: ``amount`` for the term ``start`` → ``end`` of
    ``users`` users, billed ``cycle``."""

    amount: Decimal
    currency: str
    start: date
    end: date
    users: int
    cycle: BillingCycle

    def __post_init__(self) -> None:
        if not self.amount.is_finite() or self.amount < 0:
            raise PrepaidTermUnusable(
                f"A prepaid amount is 0 or more, not {self.amount}: correct the imported prepayment.",
                prepaid=str(self.amount),
            )
        check_order(
            "start of the prepaid term", self.start, "end of the prepaid term", self.end, strictly=True
        )


@dataclass(frozen=True)
class Credit:
    """The unused part of a prepaid term on a day: ``amount`` = prepaid × ``days_left`` / ``term_days``."""

    amount: Decimal
    days_left: int
    term_days: int

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.days_left, self.term_days)


def unused_credit(prepaid: PrepaidTerm, today: date) -> Credit:
    """The credit for the days of the prepaid term after ``today``: none once the term has ended, all of it
    before it began. Rounded once, half-even, to the currency's minor unit."""
    term_days = days_between(prepaid.start, prepaid.end)
    days_left = min(term_days, max(0, days_between(today, prepaid.end)))
    amount = round_money(Fraction(prepaid.amount) * Fraction(days_left, term_days), prepaid.currency)
    return Credit(amount, days_left, term_days)


def direct_subscription_host(
    prepaid: PrepaidTerm,
    *,
    license_type: LicenseType = LicenseType.COMMERCIAL,
    product_name: str = "host",
) -> HostContext:
    """The cloud site as the direct subscription knew it: its users, its cycle, and its billing date (the
    term's end), which the marketplace subscription keeps."""
    return HostContext(
        hosting=Hosting.CLOUD,
        license_type=license_type,
        cloud_users=prepaid.users,
        billing_cycle=prepaid.cycle,
        next_billing_date=prepaid.end,
        product_name=product_name,
    )


@dataclass(frozen=True)
class CloudTransitionPrice:
    """The migration line (``line.amount`` is the net) with the figures it was made of."""

    line: PricedLine
    charge: Decimal
    credit: Credit
    credit_unused: Decimal
    """The part of the credit the charge could not absorb: the vendor refunds it to the customer."""

    @property
    def net(self) -> Decimal:
        return self.line.amount


def price_cloud_transition(
    listing: Listing,
    prepaid: PrepaidTerm,
    today: date,
    *,
    host: HostContext | None = None,
    license_type: LicenseType = LicenseType.COMMERCIAL,
    terms: CommerceTerms = DEFAULT_TERMS,
) -> CloudTransitionPrice:
    """Price moving a direct cloud customer with ``prepaid`` to the marketplace cloud ``listing`` on ``today``.

    The first marketplace period runs from ``today`` to the billing date of ``host`` (by default
    :func:`direct_subscription_host`: the prepaid term's end, users and cycle), priced by
    :func:`price_cloud_subscription` as a subscription that keeps its license type. The line's amount is that
    charge − :func:`unused_credit`, never below zero.

    Raises :class:`PrepaidTermUnusable` when the prepayment is in another currency than the listing's prices,
    and the errors of :func:`price_cloud_subscription` (a term that ended before ``today`` is
    :class:`DatesOutOfOrder`).
    """
    host = host or direct_subscription_host(prepaid, license_type=license_type)
    currency = cloud_table(listing).currency
    if prepaid.currency != currency:
        raise PrepaidTermUnusable(
            f"The prepaid term is in {prepaid.currency} and {listing.name} is sold in {currency}: the credit "
            "cannot be taken off the charge. Record the prepayment in the listing's currency.",
            prepaid_currency=prepaid.currency,
            currency=currency,
        )
    subscription = price_cloud_subscription(
        listing, host, today, license_type=license_type, renewing=True, terms=terms
    )
    charge = subscription.amount
    credit = unused_credit(prepaid, today)
    net = max(round_money(0, currency), charge - credit.amount)
    unused = credit.amount - (charge - net)
    credit_words = (
        f"credit for the unused prepaid term {format_money(prepaid.amount, currency)} × {credit.days_left}/"
        f"{credit.term_days} days left of {prepaid.start.isoformat()} → {prepaid.end.isoformat()} = "
        f"{format_money(credit.amount, currency)}"
    )
    explanation = (
        f"Move to the marketplace: {subscription.explanation}; {credit_words}; net "
        f"{format_money(charge, currency)} − {format_money(credit.amount, currency)}"
    )
    if unused > 0:
        explanation += (
            f", never below zero = {format_money(net, currency)} (the vendor refunds the "
            f"{format_money(unused, currency)} of credit left)"
        )
    else:
        explanation += f" = {format_money(net, currency)}"
    formula = {
        **{f"subscription_{name}": value for name, value in subscription.formula.items() if name != "amount"},
        "rule": "cloud_transition",
        "charge": str(charge),
        "prepaid": str(prepaid.amount),
        "prepaid_start": prepaid.start.isoformat(),
        "prepaid_end": prepaid.end.isoformat(),
        "days_left": str(credit.days_left),
        "term_days": str(credit.term_days),
        "credit_fraction": format_fraction(credit.fraction),
        "credit": str(credit.amount),
        "credit_unused": str(unused),
        "net": str(net),
    }
    line = priced_line(
        listing,
        Channel.MARKETPLACE,
        LineKind.MIGRATION,
        tier=subscription.tier,
        license_type=license_type,
        period_start=subscription.period_start,
        period_end=subscription.period_end,
        amount=net,
        currency=currency,
        explanation=explanation,
        formula=formula,
        users=subscription.users,
    )
    return CloudTransitionPrice(line, charge, credit, unused)


def split_cloud_transition(
    priced: CloudTransitionPrice, schedule: RevenueShareSchedule, sale_date: date
) -> RevenueSplit:
    """The vendor/operator split of a transition line: the operator keeps what a sale of the charge would give
    it (the charge less the vendor's share, rounded once as :func:`split_revenue` does), the vendor gets the
    rest of the net, negative when the credit it owes the customer exceeds its share of the charge. The two
    add up to the net exactly."""
    line = priced.line
    currency = line.currency
    rate = schedule.rate_on(line.hosting, sale_date)
    vendor_of_charge = round_money(Fraction(priced.charge) * Fraction(rate.vendor_share), currency)
    operator_amount = priced.charge - vendor_of_charge
    vendor_amount = line.amount - operator_amount
    explanation = (
        f"The operator keeps its share of the charge {format_money(priced.charge, currency)} = "
        f"{format_money(operator_amount, currency)}; the vendor, who holds the prepayment and so gives the "
        f"credit {format_money(priced.credit.amount, currency)}, gets the rest of the net "
        f"{format_money(line.amount, currency)} = {format_money(vendor_amount, currency)} ({line.hosting} rate "
        f"in force on {sale_date.isoformat()})"
    )
    return RevenueSplit(
        app_key=line.app_key,
        hosting=line.hosting,
        currency=currency,
        line_amount=line.amount,
        vendor_amount=vendor_amount,
        operator_amount=operator_amount,
        vendor_share_rate=rate.vendor_share,
        sale_date=sale_date,
        rate_effective_from=rate.effective_from,
        explanation=explanation,
    )
