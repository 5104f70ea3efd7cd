"""What is sold and on which terms, and what pricing it comes to: channel policies, listings, the host an
item is priced for, the commerce terms, and priced lines. Mappings handed in are copied into read-only views, so
a priced quote cannot change under the caller's feet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from mercato.pricing.errors import HostContextRequired, InvalidPriceTable, InvalidUserCount
from mercato.pricing.money import sum_money
from mercato.pricing.tables import CloudPriceTable, TierPriceTable
from mercato.pricing.types import BillingCycle, Channel, Hosting, LicenseType, LineKind, SellerOfRecord, Tier


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
    ``license_types`` are the types a new license may be bought in (commercial and evaluation always).
    """

    app_key: str
    name: str
    hosting: Hosting
    price_table: TierPriceTable | CloudPriceTable
    policy: ChannelPolicy
    direct_price_table: TierPriceTable | None = None
    host_product: bool = False
    license_types: frozenset[LicenseType] = frozenset(LicenseType)
    """The license types the listing sells; commercial and evaluation always, whatever is given."""

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "license_types",
            frozenset(self.license_types) | {LicenseType.COMMERCIAL, LicenseType.EVALUATION},
        )
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
