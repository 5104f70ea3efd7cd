"""The words of the pricing engine: hostings, channels, license types, billing cycles, line kinds and tiers.

All values are frozen.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from mercato.pricing.errors import InvalidUserCount


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
    MIGRATION = "migration"


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
        # ASCII digits only: str.isdigit() also takes "²" (which int() refuses) and "١٠٠" (which it reads).
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError(f"{text!r} is not a user tier")
        return cls(int(digits))

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
