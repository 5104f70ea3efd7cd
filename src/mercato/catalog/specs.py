"""What a vendor (or the catalog file) says an app and its listings are: one shape for the API, the review
queue and ``mercato catalog apply``, so that what the operator reviews is exactly what gets published.

Amounts are decimal strings in the listing's currency ("1100.00"); tiers are a user count or "unlimited".
Checks that need nothing but the spec are pydantic validators (a 422 naming the field); checks that need the
host product's tiers are in ``check_listing_for_host``, which names the field the same way.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mercato.fields import Note, Text
from mercato.pricing import Hosting, LicenseType, Tier
from mercato.problems import InvalidInput

APP_KEY_PATTERN = r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$"
"""A reverse-domain name in lower case, at least two labels: ``com.example.mockups.wiki``."""

OPTIONAL_LICENSE_TYPES = (
    LicenseType.ACADEMIC,
    LicenseType.STARTER,
    LicenseType.COMMUNITY,
    LicenseType.OPEN_SOURCE,
    LicenseType.DEVELOPER,
)
"""License types a listing may choose to sell; commercial and evaluation are always sold."""

_UNSAFE_MARKUP = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|style|form|input|link|meta)\b|javascript:", re.I
)

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]
AppKey = Annotated[str, StringConstraints(pattern=APP_KEY_PATTERN, min_length=3, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


def refuse_unsafe_markup(text: str) -> str:
    """Markdown is rendered without raw HTML, but text that tries script, frames or ``javascript:`` links is
    refused outright, so the vendor learns at once rather than seeing it silently dropped."""
    found = _UNSAFE_MARKUP.search(text)
    if found:
        raise ValueError(
            f"must not contain {found.group().strip()!r}: write Markdown without HTML tags or script links"
        )
    return text


class MarketplaceChannel(_Spec):
    sold: bool = Field(default=True, description="Whether the marketplace sells this listing.")
    licensed_users: bool = Field(
        default=False,
        description="Sell licensed users: the app's user tier may differ from the host's. Off (the default), "
        "the marketplace requires the app tier to cover the host tier.",
    )
    max_maintenance_months: int = Field(
        default=36, ge=12, le=120, description="The most maintenance sold ahead in one purchase, in months."
    )


class DirectChannel(_Spec):
    sold: bool = Field(default=False, description="Whether the vendor sells it on its own bills.")
    max_maintenance_months: int = Field(default=12, ge=12, le=120)


class CloudBracketSpec(_Spec):
    up_to_users: int | None = Field(
        description="Last user of the bracket; null for the last bracket, which has no upper bound.",
        ge=11,
        le=1_000_000,
    )
    per_user_monthly: Amount


class CloudPricesSpec(_Spec):
    flat_monthly: Amount = Field(description="Monthly price for 1 to 10 users.")
    brackets: list[CloudBracketSpec] = Field(min_length=1, max_length=20)
    annual_tiers: list[str] = Field(
        default_factory=list, max_length=20, description="User tiers sold annually at 10 × the monthly price."
    )

    @field_validator("brackets")
    @classmethod
    def _brackets_grow(cls, brackets: list[CloudBracketSpec]) -> list[CloudBracketSpec]:
        previous = 10
        for index, bracket in enumerate(brackets):
            last = index == len(brackets) - 1
            if bracket.up_to_users is None and not last:
                raise ValueError(f"bracket {index + 1} has no upper bound but is not the last bracket")
            if bracket.up_to_users is not None and last:
                raise ValueError("the last bracket must have no upper bound (up_to_users: null)")
            if bracket.up_to_users is not None and bracket.up_to_users <= previous:
                raise ValueError(
                    f"bracket {index + 1} ends at {bracket.up_to_users} users, not after the previous one "
                    f"({previous}): brackets must grow"
                )
            previous = bracket.up_to_users or previous
        return brackets

    @field_validator("annual_tiers")
    @classmethod
    def _tiers_parse(cls, tiers: list[str]) -> list[str]:
        parsed = [_parse_tier(tier) for tier in tiers]
        if parsed != sorted(set(parsed)):
            raise ValueError("annual tiers must be distinct and in increasing order")
        return [str(tier.users) if tier.users is not None else "unlimited" for tier in parsed]


def _parse_tier(text: str) -> Tier:
    try:
        return Tier.parse(text)
    except Exception as error:  # the pricing core's message says what a tier looks like
        raise ValueError(f"{text!r} is not a user tier: {error}") from None


class ListingSpec(_Spec):
    """One hosting of an app: its channels and rules, the license types it sells and its price table."""

    hosting: Hosting
    currency: Currency = "USD"
    marketplace: MarketplaceChannel = Field(default_factory=MarketplaceChannel)
    direct: DirectChannel = Field(default_factory=DirectChannel)
    license_types: list[LicenseType] = Field(
        default_factory=lambda: list(OPTIONAL_LICENSE_TYPES),
        description="License types sold besides commercial and evaluation.",
    )
    prices: dict[str, Amount] | None = Field(
        default=None,
        description='Server and Data Center: the list price of every tier of the host, e.g. {"10": "10.00", '
        '"25": "300.00", ..., "unlimited": "11000.00"}.',
    )
    direct_prices: dict[str, Amount] | None = Field(
        default=None, description="The vendor's own prices in its direct store, when they differ."
    )
    cloud_prices: CloudPricesSpec | None = None

    @field_validator("license_types")
    @classmethod
    def _optional_types(cls, types: list[LicenseType]) -> list[LicenseType]:
        for license_type in types:
            if license_type not in OPTIONAL_LICENSE_TYPES:
                raise ValueError(
                    f"{license_type.value!r} is always sold; list only optional types: "
                    + ", ".join(t.value for t in OPTIONAL_LICENSE_TYPES)
                )
        return sorted(set(types), key=OPTIONAL_LICENSE_TYPES.index)

    @field_validator("direct")
    @classmethod
    def _cloud_not_direct(cls, direct: DirectChannel, info: ValidationInfo) -> DirectChannel:
        if info.data.get("hosting") is Hosting.CLOUD and direct.sold:
            raise ValueError("cloud apps are sold on the marketplace only: direct.sold must be false")
        return direct

    @field_validator("prices", "direct_prices")
    @classmethod
    def _tiers_not_cloud(
        cls, prices: dict[str, Decimal] | None, info: ValidationInfo
    ) -> dict[str, Decimal] | None:
        if info.data.get("hosting") is Hosting.CLOUD and prices is not None:
            raise ValueError(
                "a cloud listing takes cloud_prices (monthly per-user brackets), not prices per tier"
            )
        return prices

    @field_validator("cloud_prices")
    @classmethod
    def _cloud_only(cls, prices: CloudPricesSpec | None, info: ValidationInfo) -> CloudPricesSpec | None:
        hosting = info.data.get("hosting")
        if hosting is not None and hosting is not Hosting.CLOUD and prices is not None:
            raise ValueError(f"a {hosting.value} listing takes prices per tier, not cloud_prices")
        return prices

    @model_validator(mode="after")
    def _table_fits_hosting(self) -> ListingSpec:
        if self.hosting is Hosting.CLOUD:
            if self.cloud_prices is None:
                raise ValueError("cloud_prices: a cloud listing needs its monthly price table")
        else:
            if self.prices is None:
                raise ValueError(f"prices: a {self.hosting.value} listing needs a price for every tier")
            if self.direct_prices is not None and not self.direct.sold:
                raise ValueError("direct_prices are given but direct.sold is false")
        if not self.marketplace.sold and not self.direct.sold:
            raise ValueError(
                "marketplace.sold and direct.sold are both false: a listing must be sold somewhere"
            )
        return self

    def prices_equal(self, other: ListingSpec) -> bool:
        return (self.prices, self.direct_prices, self.cloud_prices) == (
            other.prices,
            other.direct_prices,
            other.cloud_prices,
        )


class AppLinks(_Spec):
    homepage: Annotated[str, StringConstraints(pattern=r"^https://", max_length=300)] | None = None
    documentation: Annotated[str, StringConstraints(pattern=r"^https://", max_length=300)] | None = None
    support: Annotated[str, StringConstraints(pattern=r"^(https://|mailto:)", max_length=300)] | None = None
    source: Annotated[str, StringConstraints(pattern=r"^https://", max_length=300)] | None = None
    privacy: Annotated[str, StringConstraints(pattern=r"^https://", max_length=300)] | None = None


class AppSpec(_Spec):
    """An app's page: what it is called and says about itself. Listings (one per hosting) come separately."""

    key: AppKey = Field(description="Reverse-domain name, unique in the catalog: com.example.mockups.wiki")
    name: Annotated[Text, StringConstraints(min_length=1, max_length=200)]
    host_product: Annotated[Text, StringConstraints(min_length=1, max_length=64)] = Field(
        description="The host product's key, e.g. wiki."
    )
    summary: Annotated[Text, StringConstraints(max_length=300)] = ""
    description: Annotated[Note, StringConstraints(max_length=20_000)] = Field(
        default="", description="Markdown. HTML tags are not allowed; links must be http(s) or mailto."
    )
    links: AppLinks = Field(default_factory=AppLinks)

    @field_validator("description", "summary")
    @classmethod
    def _safe(cls, text: str) -> str:
        return refuse_unsafe_markup(text)


class ReleaseSpec(_Spec):
    version: Annotated[Text, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$")]
    build_date: date
    notes: Annotated[Note, StringConstraints(max_length=20_000)] = ""
    host_version_min: Annotated[str, StringConstraints(pattern=r"^[0-9][0-9A-Za-z.+-]{0,31}$")] | None = None
    host_version_max: Annotated[str, StringConstraints(pattern=r"^[0-9][0-9A-Za-z.+-]{0,31}$")] | None = None

    @field_validator("notes")
    @classmethod
    def _safe(cls, text: str) -> str:
        return refuse_unsafe_markup(text)


def check_listing_for_host(spec: ListingSpec, host_tiers: list[Tier], where: str = "body") -> None:
    """Refuse a price table that does not fit the host product's tiers: a tier missing (a gap), a tier the
    host does not have, or a price lower than a smaller tier's. Every problem is listed, each naming its field
    (``body.prices.25``); nothing is written."""
    errors: list[dict[str, Any]] = []
    for name in ("prices", "direct_prices"):
        table = getattr(spec, name)
        if table is None:
            continue
        priced: list[tuple[Tier, str, Decimal]] = []
        for label, amount in table.items():
            try:
                tier = Tier.parse(label)
            except Exception:
                errors.append(
                    _error(f"{where}.{name}.{label}", f"{label!r} is not a user tier", "unknown_tier")
                )
                continue
            if tier not in host_tiers:
                tiers = ", ".join(str(t.users or "unlimited") for t in host_tiers)
                errors.append(
                    _error(
                        f"{where}.{name}.{label}",
                        f"the host is not sold in a {label} tier; its tiers: {tiers}",
                        "unknown_tier",
                    )
                )
                continue
            priced.append((tier, label, amount))
        present = {tier for tier, _, _ in priced}
        for tier in host_tiers:
            if tier not in present:
                label = "unlimited" if tier.users is None else str(tier.users)
                errors.append(
                    _error(
                        f"{where}.{name}.{label}",
                        f"no price for the {label} tier: every tier of the host needs one",
                        "missing_tier",
                    )
                )
        priced.sort()
        for (_, smaller, low), (_, label, amount) in pairwise(priced):
            if amount < low:
                errors.append(
                    _error(
                        f"{where}.{name}.{label}",
                        f"{amount} for {label} users is less than {low} for {smaller}: "
                        "prices must not fall as tiers grow",
                        "decreasing_price",
                    )
                )
    if errors:
        raise InvalidInput(
            "The price table does not fit the host: "
            + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            + ".",
            errors=errors,
        )


def _error(field: str, message: str, code: str) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}
