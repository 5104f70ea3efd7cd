"""The values the pricing engine works on: tiers, price tables, channel policies, listings, hosts and lines.

All are frozen; mappings handed in are copied into read-only views, so a priced quote cannot change under
the caller's feet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from types import MappingProxyType
from typing import ClassVar

from mercato.pricing.errors import HostContextRequired, InvalidPriceTable, InvalidUserCount
from mercato.pricing.money import exact_decimal, is_known_currency, is_whole_minor_units, sum_money


class Hosting(StrEnum):
    SERVER = "server"
    DATACENTER = "datacenter"
    CLOUD = "cloud"

    @property
    def label(self) -> str:
        """How a buyer names this kind of host: "server", "Data Center instance", "cloud site"."""
        return {
            Hosting.SERVER: "server",
            Hosting.DATACENTER: "Data Center instance",
            Hosting.CLOUD: "cloud site",
        }[self]


class Channel(StrEnum):
    MARKETPLACE = "marketplace"
    DIRECT = "direct"


class LicenseType(StrEnum):
    COMMERCIAL = "commercial"
    ACADEMIC = "academic"
    STARTER = "starter"
    COMMUNITY = "community"
    OPEN_SOURCE = "open_source"
    EVALUATION = "evaluation"
    DEVELOPER = "developer"

    @property
    def label(self) -> str:
        """The type as a buyer reads it: "open source", "academic"."""
        return self.value.replace("_", " ")


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"


class SellerOfRecord(StrEnum):
    """Who bills the customer: the operator on the marketplace, the vendor on its direct store."""

    OPERATOR = "operator"
    VENDOR = "vendor"


class LineKind(StrEnum):
    NEW = "new"
    RENEWAL = "renewal"
    UPGRADE = "upgrade"
    CO_TERM = "co_term"
    CLOUD_MONTHLY = "cloud_monthly"
    CLOUD_ANNUAL = "cloud_annual"
    CLOUD_USER_INCREASE = "cloud_user_increase"
    CLOUD_USER_DECREASE = "cloud_user_decrease"
    EVALUATION = "evaluation"


@dataclass(frozen=True)
class Tier:
    """A user tier: a number of users, or unlimited (``users is None``), which ranks above every number."""

    users: int | None

    UNLIMITED: ClassVar[Tier]

    def __post_init__(self) -> None:
        if self.users is not None and self.users < 1:
            raise InvalidUserCount(users=self.users, what="A user tier")

    @classmethod
    def parse(cls, text: str) -> Tier:
        """``"25"``, ``"25 users"``, ``"10,000"``, ``"unlimited"`` or ``"Unlimited users"`` as a tier."""
        words = text.strip().lower().removesuffix("users").removesuffix("user").strip()
        if words == "unlimited":
            return cls.UNLIMITED
        digits = words.replace(",", "").replace("_", "")
        if not digits.isdigit():
            raise ValueError(f"{text!r} is not a user tier")
        return cls(int(digits))

    @property
    def is_unlimited(self) -> bool:
        return self.users is None

    def covers(self, other: Tier) -> bool:
        """Whether this tier admits at least as many users as ``other``."""
        return self >= other

    @property
    def adjective(self) -> str:
        """The tier before a noun: "100-user", "unlimited-user"."""
        return "unlimited-user" if self.users is None else f"{self.users:,}-user"

    def __str__(self) -> str:
        if self.users is None:
            return "Unlimited users"
        return f"{self.users:,} user" if self.users == 1 else f"{self.users:,} users"

    def _rank(self) -> tuple[int, int]:
        return (1, 0) if self.users is None else (0, self.users)

    def __lt__(self, other: Tier) -> bool:
        return self._rank() < other._rank()

    def __le__(self, other: Tier) -> bool:
        return self._rank() <= other._rank()

    def __gt__(self, other: Tier) -> bool:
        return self._rank() > other._rank()

    def __ge__(self, other: Tier) -> bool:
        return self._rank() >= other._rank()


Tier.UNLIMITED = Tier(None)

DEFAULT_SERVER_TIERS: tuple[Tier, ...] = (
    *(Tier(users) for users in (10, 25, 50, 100, 250, 500, 2000, 10000)),
    Tier.UNLIMITED,
)


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


@dataclass(frozen=True)
class ChannelPolicy:
    """Where a listing may be sold and on which terms, per channel."""

    channels: frozenset[Channel]
    tier_must_match_host: Mapping[Channel, bool]
    max_maintenance_months: Mapping[Channel, int]

    def __post_init__(self) -> None:
        for channel in self.channels:
            if channel not in self.tier_must_match_host or channel not in self.max_maintenance_months:
                raise InvalidPriceTable(f"The channel policy does not say how the {channel} channel sells.")
            if self.max_maintenance_months[channel] < 12:
                raise InvalidPriceTable(
                    "At least 12 months of maintenance must be sellable on every channel."
                )
        object.__setattr__(self, "tier_must_match_host", MappingProxyType(dict(self.tier_must_match_host)))
        object.__setattr__(
            self, "max_maintenance_months", MappingProxyType(dict(self.max_maintenance_months))
        )

    @classmethod
    def default_for(cls, hosting: Hosting) -> ChannelPolicy:
        """Server and Data Center: both channels; the marketplace requires app tier ≥ host tier and sells up
        to 36 months of maintenance ahead, the direct channel neither requires a match nor sells more than
        12 months. Cloud: marketplace only."""
        if hosting is Hosting.CLOUD:
            return cls(
                frozenset({Channel.MARKETPLACE}), {Channel.MARKETPLACE: True}, {Channel.MARKETPLACE: 12}
            )
        return cls(
            frozenset({Channel.MARKETPLACE, Channel.DIRECT}),
            {Channel.MARKETPLACE: True, Channel.DIRECT: False},
            {Channel.MARKETPLACE: 36, Channel.DIRECT: 12},
        )

    def allows(self, channel: Channel) -> bool:
        return channel in self.channels


@dataclass(frozen=True)
class Listing:
    """One hosting of an app (or of a host product the operator sells) with its prices and channel policy.

    The direct channel uses ``direct_price_table`` when the vendor set one, otherwise the same table as the
    marketplace. ``host_product`` marks the operator's own host products: no host to match, no revenue share.
    """

    app_key: str
    name: str
    hosting: Hosting
    price_table: TierPriceTable | CloudPriceTable
    policy: ChannelPolicy
    direct_price_table: TierPriceTable | None = None
    host_product: bool = False

    def __post_init__(self) -> None:
        is_cloud = self.hosting is Hosting.CLOUD
        if is_cloud != isinstance(self.price_table, CloudPriceTable):
            kind = "a cloud" if is_cloud else "a tier"
            raise InvalidPriceTable(f"A {self.hosting} listing needs {kind} price table.")
        if is_cloud and (Channel.DIRECT in self.policy.channels or self.direct_price_table is not None):
            raise InvalidPriceTable("Cloud apps are sold on the marketplace only.")
        if self.host_product and Channel.DIRECT in self.policy.channels:
            raise InvalidPriceTable("Host products are sold by the operator on the marketplace only.")

    def price_table_for(self, channel: Channel) -> TierPriceTable | CloudPriceTable:
        """The table the given channel sells from."""
        if channel is Channel.DIRECT and self.direct_price_table is not None:
            return self.direct_price_table
        return self.price_table

    def seller_of_record(self, channel: Channel) -> SellerOfRecord:
        return SellerOfRecord.OPERATOR if channel is Channel.MARKETPLACE else SellerOfRecord.VENDOR


@dataclass(frozen=True)
class HostContext:
    """The customer's host instance an app is bought for.

    Server and Data Center hosts have a user ``tier``; cloud sites have ``cloud_users``, a ``billing_cycle``
    and, once subscribed, the ``next_billing_date`` that apps co-term with. ``product_name`` ("wiki") only
    makes sentences read well.
    """

    hosting: Hosting
    license_type: LicenseType = LicenseType.COMMERCIAL
    tier: Tier | None = None
    cloud_users: int | None = None
    maintenance_end: date | None = None
    billing_cycle: BillingCycle | None = None
    next_billing_date: date | None = None
    product_name: str = "host"

    def __post_init__(self) -> None:
        if self.cloud_users is not None and self.cloud_users < 1:
            raise InvalidUserCount(users=self.cloud_users, what="The number of users of the cloud site")
        missing: list[str] = []
        if self.hosting is Hosting.CLOUD:
            missing += ["number of users"] if self.cloud_users is None else []
            missing += ["billing cycle"] if self.billing_cycle is None else []
        elif self.tier is None:
            missing.append("user tier")
        if missing:
            raise HostContextRequired(missing=missing, host_description=self.description)

    @property
    def user_tier(self) -> Tier:
        """The tier an app must cover: the host's tier, or a cloud site's user count as a tier."""
        if self.tier is not None:
            return self.tier
        assert self.cloud_users is not None  # guaranteed by __post_init__ for cloud hosts
        return Tier(self.cloud_users)

    @property
    def description(self) -> str:
        """The host in a buyer's words: "wiki server"."""
        return f"{self.product_name} {self.hosting.label}"


@dataclass(frozen=True)
class CommerceTerms:
    """The named commerce settings the rules read; the service builds this from settings.

    Renewals cost 50% of the current list price per year on both hostings, as the product design says. An
    operator who sells Data Center terms at full price every year sets ``datacenter_renewal_rate`` to 1.
    """

    server_renewal_rate: Decimal = Decimal("0.5")
    datacenter_renewal_rate: Decimal = Decimal("0.5")
    academic_rate: Decimal = Decimal("0.5")
    starter_max_users: int = 10
    maintenance_months: int = 12
    evaluation_days: int = 30
    renewal_window_days: int = 90
    co_term_days_per_year: int = 365

    def renewal_rate(self, hosting: Hosting) -> Decimal:
        return self.datacenter_renewal_rate if hosting is Hosting.DATACENTER else self.server_renewal_rate


DEFAULT_TERMS = CommerceTerms()


@dataclass(frozen=True)
class PricedLine:
    """One priced line of a quote, in words (``explanation``) and numbers (``formula``).

    ``amount`` is rounded once, half-even, to the currency's minor unit. ``period_start``/``period_end`` are
    the maintenance, term or subscription period the line buys (for an upgrade, the unchanged maintenance
    period; for a cloud decrease, the cycle it takes effect in). ``formula`` holds every input as a string,
    so it serialises without loss.
    """

    kind: LineKind
    app_key: str
    hosting: Hosting
    channel: Channel
    seller_of_record: SellerOfRecord
    host_product: bool
    tier: Tier
    license_type: LicenseType
    period_start: date
    period_end: date
    amount: Decimal
    currency: str
    explanation: str
    formula: Mapping[str, str] = field(default_factory=dict)
    users: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "formula", MappingProxyType(dict(self.formula)))


@dataclass(frozen=True)
class PricedItems:
    """The lines of a quote and their totals per currency; each total is the exact sum of its lines."""

    lines: tuple[PricedLine, ...]

    @classmethod
    def of(cls, lines: Iterable[PricedLine]) -> PricedItems:
        return cls(tuple(lines))

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(sorted({line.currency for line in self.lines}))

    @property
    def totals(self) -> Mapping[str, Decimal]:
        """Currency → total of the lines in that currency."""
        return MappingProxyType({currency: self.total(currency) for currency in self.currencies})

    def total(self, currency: str) -> Decimal:
        """The exact sum of the lines in ``currency`` (zero, at the currency's precision, when none)."""
        return sum_money((line.amount for line in self.lines if line.currency == currency), currency)
