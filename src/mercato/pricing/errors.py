"""One exception per pricing rule, each with a stable machine ``type`` slug and a sentence for the buyer.

The HTTP layer turns any :class:`PricingError` into an RFC 9457 problem document with :meth:`as_problem`:
``type`` and ``title`` are fixed per class, ``detail`` is ``str(err)``, and ``details`` adds the structured
facts a client needs to act (for example the tier to choose instead). Detail values are JSON-ready: strings,
integers, booleans, lists of those, or ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import ClassVar

DetailValue = str | int | bool | None | list[str]


class PricingError(Exception):
    """A request that the pricing rules refuse; ``str(err)`` is the sentence to show the buyer."""

    type: ClassVar[str] = "pricing-error"
    title: ClassVar[str] = "The price cannot be computed"
    status: ClassVar[int] = 422

    def __init__(self, detail: str, **details: DetailValue) -> None:
        super().__init__(detail)
        self.detail = detail
        self.details: Mapping[str, DetailValue] = MappingProxyType(dict(details))

    def as_problem(self) -> dict[str, object]:
        """The RFC 9457 members of this error (``type`` is the slug; the HTTP layer may make it a URI)."""
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.details,
        }


@dataclass(frozen=True)
class TierSuggestion:
    """The tier to offer instead: ``tier`` as ``Tier.parse`` reads it ("100 users"), ``label`` for sentences
    ("100-user"), its ``amount`` (a decimal string) in ``currency``, and ``price`` as a buyer reads it."""

    tier: str
    label: str
    amount: str
    currency: str
    price: str


class TierMismatch(PricingError):
    """The app tier is smaller than the host's user tier on a channel whose policy says they must match.

    ``details`` name the smallest tier the listing sells that covers the host (``suggested_tier``) and its
    price (``suggested_amount``, ``currency``, ``suggested_price``); they are ``None`` when no tier covers it.
    """

    type = "tier-mismatch"
    title = "The app tier must cover every user of the host"

    def __init__(
        self,
        *,
        app_name: str,
        requested_tier: str,
        host_tier: str,
        host_description: str,
        channel: str,
        suggestion: TierSuggestion | None,
    ) -> None:
        if suggestion is not None:
            advice = f"Choose the {suggestion.label} tier ({suggestion.price})."
        else:
            advice = f"{app_name} is not sold for that many users, so it cannot be bought for this host."
        super().__init__(
            f"{app_name} must be licensed for at least {host_tier} on the {channel}, because your "
            f"{host_description} is licensed for {host_tier}. {advice}",
            requested_tier=requested_tier,
            host_tier=host_tier,
            channel=channel,
            suggested_tier=None if suggestion is None else suggestion.tier,
            suggested_amount=None if suggestion is None else suggestion.amount,
            currency=None if suggestion is None else suggestion.currency,
            suggested_price=None if suggestion is None else suggestion.price,
        )
        self.suggestion = suggestion


class TierNotSold(PricingError):
    """The listing's price table has no price for the requested tier or user count."""

    type = "tier-not-sold"
    title = "This tier is not sold"

    def __init__(self, *, app_name: str, tier: str, sold_tiers: list[str]) -> None:
        sold = ", ".join(sold_tiers) if sold_tiers else "no tier at all"
        super().__init__(
            f"{app_name} is not sold for {tier}. It is sold for: {sold}.", tier=tier, sold_tiers=sold_tiers
        )


class ChannelNotAllowed(PricingError):
    """The listing cannot be sold through the requested channel."""

    type = "channel-not-allowed"
    title = "This app is not sold through this channel"

    def __init__(self, *, app_name: str, channel: str, allowed_channels: list[str]) -> None:
        if allowed_channels:
            where = "only through the " + " or the ".join(allowed_channels)
        else:
            where = "through no channel at the moment"
        super().__init__(
            f"{app_name} cannot be bought through the {channel} channel; it is sold {where}.",
            channel=channel,
            allowed_channels=allowed_channels,
        )


class HostingMismatch(PricingError):
    """A price was asked for a hosting that the listing, the host or the operation does not have."""

    type = "hosting-mismatch"
    title = "This hosting does not fit"

    def __init__(self, sentence: str, *, expected: list[str], actual: str) -> None:
        super().__init__(sentence, expected=expected, actual=actual)


class LicenseTypeNotAllowed(PricingError):
    """The license type cannot be bought this way (starter above 10 users, academic on a commercial host)."""

    type = "license-type-not-allowed"
    title = "This license type is not available here"

    def __init__(self, sentence: str, *, license_type: str) -> None:
        super().__init__(sentence, license_type=license_type)


class HostContextRequired(PricingError):
    """An app was priced without its host, or the host lacks what the price depends on (its user tier; a cloud
    site's users and billing cycle)."""

    type = "host-context-required"
    title = "The host is needed to price this app"

    def __init__(
        self, *, app_name: str | None = None, missing: list[str] | None = None, host_description: str = "host"
    ) -> None:
        if missing:
            sentence = (
                f"Tell us the {' and '.join(missing)} of your {host_description}: the price depends on it."
            )
        else:
            sentence = (
                f"Tell us which host {app_name or 'the app'} will run on: its user tier decides the tier."
            )
        super().__init__(sentence, missing=missing or [])


class MaintenanceCapExceeded(PricingError):
    """The purchase would leave more maintenance paid ahead than the channel allows."""

    type = "maintenance-cap-exceeded"
    title = "Too much maintenance bought ahead"

    def __init__(
        self, *, channel: str, cap_months: int, requested_end: date, latest_end: date, most_years_now: int
    ) -> None:
        if most_years_now > 0:
            advice = f"You can buy at most {_years(most_years_now)} now."
        else:
            advice = "Renew closer to the current maintenance end."
        super().__init__(
            f"Maintenance can be bought at most {cap_months} months ahead on the {channel} channel, so "
            f"it may run until {latest_end.isoformat()} at the latest, not {requested_end.isoformat()}. "
            f"{advice}",
            channel=channel,
            cap_months=cap_months,
            requested_end=requested_end.isoformat(),
            latest_end=latest_end.isoformat(),
            most_years_now=most_years_now,
        )


class InvalidRenewalYears(PricingError):
    """Maintenance (a renewal, or a new license's years) is sold for one or more whole years."""

    type = "invalid-renewal-years"
    title = "Maintenance is sold in whole years"

    def __init__(self, *, years: int) -> None:
        super().__init__(f"Maintenance is sold for one or more whole years, not {years}.", years=years)


class NotAnUpgrade(PricingError):
    """The new tier is not larger than the old one; tiers only grow (a downgrade is never refunded)."""

    type = "not-an-upgrade"
    title = "Only upgrades to a larger tier are sold"

    def __init__(self, *, old_tier: str, new_tier: str) -> None:
        super().__init__(
            f"You already hold the {old_tier} tier; an upgrade must go to a larger tier than that, "
            f"not to {new_tier}. Smaller tiers are not refunded.",
            old_tier=old_tier,
            new_tier=new_tier,
        )


class RenewalRequiredFirst(PricingError):
    """The license's maintenance has lapsed; it must be renewed before it can be upgraded."""

    type = "renewal-required-first"
    title = "Renew before upgrading"

    def __init__(self, *, maintenance_end: date, today: date) -> None:
        super().__init__(
            f"Maintenance for this license ended on {maintenance_end.isoformat()}. Renew it first, then "
            f"upgrade.",
            maintenance_end=maintenance_end.isoformat(),
            today=today.isoformat(),
        )


class CoTermWouldShorten(PricingError):
    """The co-term target lies before the current maintenance end; co-terming never shortens or refunds."""

    type = "co-term-would-shorten"
    title = "Co-terming only extends maintenance"

    def __init__(self, *, maintenance_end: date, target_date: date) -> None:
        super().__init__(
            f"Maintenance already runs until {maintenance_end.isoformat()}; co-terming can only extend it, "
            f"not move it back to {target_date.isoformat()}.",
            maintenance_end=maintenance_end.isoformat(),
            target_date=target_date.isoformat(),
        )


class CoTermAlreadyAligned(PricingError):
    """The license already ends on the target date, so there is nothing to co-term."""

    type = "co-term-already-aligned"
    title = "Already co-termed"

    def __init__(self, *, maintenance_end: date) -> None:
        super().__init__(
            f"Maintenance already ends on {maintenance_end.isoformat()}, the date asked for; nothing to buy.",
            maintenance_end=maintenance_end.isoformat(),
        )


class CoTermNotOffered(PricingError):
    """Co-terming is a marketplace service; direct sellers renew a year at a time on their own schedule."""

    type = "co-term-not-offered"
    title = "Co-terming is not offered on this channel"

    def __init__(self, *, channel: str) -> None:
        super().__init__(
            f"Co-terming is offered only on the marketplace, not on the {channel} channel.", channel=channel
        )


class InvalidUserCount(PricingError):
    """A user count below one (or otherwise impossible) was given."""

    type = "invalid-user-count"
    title = "Invalid number of users"

    def __init__(self, *, users: int, what: str = "The number of users") -> None:
        super().__init__(f"{what} must be at least 1, not {users}.", users=users)


class DatesOutOfOrder(PricingError):
    """Two dates that must follow each other were given the other way round."""

    type = "dates-out-of-order"
    title = "Dates in the wrong order"

    def __init__(
        self, *, earlier_name: str, earlier: date, later_name: str, later: date, strictly: bool = False
    ) -> None:
        relation = "before" if strictly else "on or before"
        super().__init__(
            f"The {earlier_name} ({earlier.isoformat()}) must be {relation} the {later_name} "
            f"({later.isoformat()}).",
            earlier_name=earlier_name,
            earlier=earlier.isoformat(),
            later_name=later_name,
            later=later.isoformat(),
        )


class InvalidPriceTable(PricingError):
    """A price table, listing or channel policy is not usable (negative or sub-minor-unit prices...)."""

    type = "invalid-price-table"
    title = "The price table is not valid"

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)


class RevenueShareNotConfigured(PricingError):
    """No vendor share was in force for this hosting on the sale date."""

    type = "revenue-share-not-configured"
    title = "No revenue share in force"

    def __init__(self, *, hosting: str, sale_date: date) -> None:
        super().__init__(
            f"No vendor share for {hosting} sales was in force on {sale_date.isoformat()}.",
            hosting=hosting,
            sale_date=sale_date.isoformat(),
        )


class InvalidRefund(PricingError):
    """A refund amount that is not positive or exceeds the line it refunds."""

    type = "invalid-refund"
    title = "Invalid refund amount"

    def __init__(self, *, refund: str, line: str) -> None:
        super().__init__(
            f"A refund must be more than zero and at most the amount paid ({line}), not {refund}.",
            refund=refund,
            line=line,
        )


def _years(years: int) -> str:
    return "1 year" if years == 1 else f"{years} years"


class MigrationWouldDowngrade(PricingError):
    """A migration keeps the license's tier or raises it (to match the host); it never lowers it."""

    type = "migration-would-downgrade"
    title = "A migration never lowers the tier"

    def __init__(self, *, tier: str, requested_tier: str) -> None:
        super().__init__(
            f"The license is for {tier}; a migration keeps that tier or upgrades it, so {requested_tier} "
            "cannot be chosen. Leave the tier out to keep the license's tier (or the host's, if larger).",
            tier=tier,
            requested_tier=requested_tier,
        )


class PrepaidTermUnusable(PricingError):
    """A direct cloud customer's prepayment cannot be credited as recorded: a negative amount, or another
    currency than the marketplace listing's prices."""

    type = "prepaid-term-unusable"
    title = "The prepaid term cannot be credited"
