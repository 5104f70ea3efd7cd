"""Price tables: one list price per server/Data Center tier, and cloud per-user monthly brackets. Frozen, and
checked when made, so a table with gaps, decreasing tiers or prices finer than the currency never prices a line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from types import MappingProxyType

from mercato.pricing.errors import InvalidPriceTable, InvalidUserCount
from mercato.pricing.money import exact_decimal, is_known_currency, is_whole_minor_units
from mercato.pricing.types import Tier


def _check_currency(currency: str) -> None:
    if not is_known_currency(currency):
        raise InvalidPriceTable(f"{currency!r} is not an ISO 4217 currency code.")


def _check_price(price: Decimal, currency: str, what: str) -> None:
    if not price.is_finite() or price < 0:
        raise InvalidPriceTable(f"The {what} must be zero or more, not {price}.")
    if not is_whole_minor_units(price, currency):
        raise InvalidPriceTable(f"The {what} {price} has more decimals than {currency} allows.")


@dataclass(frozen=True)
class TierPriceTable:
    """Server or Data Center list prices per tier.

    Server: the price of a perpetual license including 12 months of maintenance. Data Center: the price of an
    annual term. Every price is a whole number of the currency's minor units.
    """

    currency: str
    prices: Mapping[Tier, Decimal]

    def __post_init__(self) -> None:
        _check_currency(self.currency)
        if not self.prices:
            raise InvalidPriceTable("A price table needs at least one tier.")
        for tier, price in self.prices.items():
            _check_price(price, self.currency, f"{tier.adjective} price")
        ordered = dict(sorted(self.prices.items()))
        # A larger tier never costs less: upgrades are priced as a difference and must never be negative.
        for (smaller, smaller_price), (larger, larger_price) in pairwise(ordered.items()):
            if larger_price < smaller_price:
                raise InvalidPriceTable(
                    f"The {larger.adjective} price ({larger_price}) is below the {smaller.adjective} price "
                    f"({smaller_price}); a larger tier must not cost less."
                )
        object.__setattr__(self, "prices", MappingProxyType(ordered))

    @property
    def tiers(self) -> tuple[Tier, ...]:
        """The tiers sold, smallest first."""
        return tuple(self.prices)

    @property
    def highest_tier(self) -> Tier:
        return self.tiers[-1]

    def price_of(self, tier: Tier) -> Decimal | None:
        """The list price of ``tier``, or ``None`` when the table does not sell it."""
        return self.prices.get(tier)

    def smallest_tier_covering(self, needed: Tier) -> Tier | None:
        """The smallest tier sold that admits at least the users of ``needed``, if any."""
        return next((tier for tier in self.tiers if tier.covers(needed)), None)


@dataclass(frozen=True)
class CloudBracket:
    """The per-user monthly rate for users above the previous bracket up to ``up_to_users`` (None: no end)."""

    up_to_users: int | None
    per_user_monthly: Decimal


@dataclass(frozen=True)
class BracketCharge:
    """The users of one bracket that a monthly price counts, and what they cost."""

    from_user: int
    to_user: int
    per_user_monthly: Decimal

    @property
    def users(self) -> int:
        return self.to_user - self.from_user + 1

    @property
    def amount(self) -> Decimal:
        return exact_decimal(Fraction(self.per_user_monthly) * self.users)


CLOUD_FLAT_USERS = 10
CLOUD_ANNUAL_MONTHS_CHARGED = 10


@dataclass(frozen=True)
class CloudPriceTable:
    """Cloud prices: ``flat_monthly`` for 1..10 users, then graduated per-user ``brackets``.

    Users 11 up to the first bracket's ``up_to_users`` pay its rate, the next users the next rate, and so on.
    Annual subscriptions are sold for the fixed user tiers in ``annual_tiers`` at 10 × the monthly price of
    the tier's user count (12 months for the price of 10). Per-user rates may be finer than the minor unit;
    a line is rounded once, at its end.
    """

    currency: str
    flat_monthly: Decimal
    brackets: tuple[CloudBracket, ...]
    annual_tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        _check_currency(self.currency)
        _check_price(self.flat_monthly, self.currency, "flat monthly price")
        floor = CLOUD_FLAT_USERS
        for index, bracket in enumerate(self.brackets):
            if not bracket.per_user_monthly.is_finite() or bracket.per_user_monthly < 0:
                raise InvalidPriceTable(
                    f"A per-user price must be zero or more, not {bracket.per_user_monthly}."
                )
            if bracket.up_to_users is None:
                if index != len(self.brackets) - 1:
                    raise InvalidPriceTable("Only the last cloud bracket may be open-ended.")
            elif bracket.up_to_users <= floor:
                raise InvalidPriceTable(
                    f"Cloud brackets must end above {floor} users and grow, not end at {bracket.up_to_users}."
                )
            else:
                floor = bracket.up_to_users
        tiers = tuple(sorted(set(self.annual_tiers)))
        for tier in tiers:
            if tier.users is None or not self.covers_users(tier.users):
                raise InvalidPriceTable(f"The annual tier {tier} has no monthly price to be based on.")
        object.__setattr__(self, "annual_tiers", tiers)

    @property
    def max_users(self) -> int | None:
        """The most users a subscription can have (None when the last bracket is open-ended)."""
        if not self.brackets:
            return CLOUD_FLAT_USERS
        return self.brackets[-1].up_to_users

    def covers_users(self, users: int) -> bool:
        return self.max_users is None or users <= self.max_users

    def monthly_breakdown(self, users: int) -> tuple[BracketCharge, ...]:
        """The bracket charges above the flat fee for ``users`` (empty for 10 users or fewer)."""
        if users < 1:
            raise InvalidUserCount(users=users)
        if not self.covers_users(users):
            raise ValueError(f"{users} users is above the last cloud bracket")
        charges: list[BracketCharge] = []
        first = CLOUD_FLAT_USERS + 1
        for bracket in self.brackets:
            if users < first:
                break
            last = users if bracket.up_to_users is None else min(users, bracket.up_to_users)
            charges.append(BracketCharge(first, last, bracket.per_user_monthly))
            first = last + 1
        return tuple(charges)

    def monthly_price(self, users: int) -> Decimal:
        """The exact (unrounded) monthly price for ``users``; never smaller for more users."""
        charges = self.monthly_breakdown(users)
        return exact_decimal(
            Fraction(self.flat_monthly) + sum((Fraction(c.amount) for c in charges), Fraction())
        )

    def annual_price(self, tier: Tier) -> Decimal:
        """The exact annual price of a fixed tier: 10 × the monthly price of its user count."""
        if tier not in self.annual_tiers or tier.users is None:
            raise ValueError(f"{tier} is not an annual tier of this table")
        return exact_decimal(Fraction(self.monthly_price(tier.users)) * CLOUD_ANNUAL_MONTHS_CHARGED)

    def smallest_annual_tier_covering(self, users: int) -> Tier | None:
        return next(
            (tier for tier in self.annual_tiers if tier.users is not None and tier.users >= users), None
        )
