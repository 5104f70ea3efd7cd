"""The catalog as a file: ``mercato catalog export`` writes the whole catalog, ``mercato catalog apply`` makes the
database say what a file says.

The file is the operator's word, so it is authoritative: listings it names are published at once, without the
review vendors' changes go through. Applying is an upsert keyed by natural keys (vendor slug, host product key,
app key, hosting, release version, price table date, revenue share hosting and date): what the file names is
created or brought in line, what it omits is left as it is (nothing is ever deleted). The whole file is
checked before anything is written, and every problem is reported with its place in the file
(``apps[2].listings[0].prices.25``).

A listing's prices are a timeline: ``prices`` take effect on ``prices_from`` and each of ``price_changes`` on
its own date. They are written with ``publishing.apply_listing_spec``, the same function review approval uses,
so a table equal to the prices already in force that day adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import null

from mercato.catalog.domain import tier_label, tier_users
from mercato.catalog.file_repository import CatalogFileRepository
from mercato.catalog.models import (
    App,
    AppVisibility,
    HostProduct,
    Listing,
    Operator,
    Release,
    RevenueShareRate,
    Vendor,
    VendorRevenueShare,
)
from mercato.catalog.publishing import apply_listing_spec, listing_spec, spec_prices
from mercato.catalog.specs import (
    AppSpec,
    CloudPricesSpec,
    Currency,
    ListingSpec,
    ReleaseSpec,
    Slug,
    check_listing_for_host,
)
from mercato.fields import Day, Note, Text
from mercato.pricing import Hosting, Tier
from mercato.problems import InvalidInput

Name = Annotated[Text, StringConstraints(min_length=1, max_length=200)]
Email = Annotated[Text, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Website = Annotated[Text, StringConstraints(pattern=r"^https://", max_length=300)]
HostKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,63}$")]
Share = Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4, allow_inf_nan=False)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _tiers_as_text(value: Any) -> Any:
    """Tiers are text ("25", "unlimited"), but hand-written YAML reads ``25: 300`` with a number for the key
    and ``annual_tiers: [10, 25]`` as numbers: take those as the tiers they mean."""
    if not isinstance(value, dict):
        return value
    value = dict(value)
    for name in ("prices", "direct_prices"):
        if isinstance(value.get(name), dict):
            value[name] = {str(tier): amount for tier, amount in value[name].items()}
    cloud = value.get("cloud_prices")
    if isinstance(cloud, dict) and isinstance(cloud.get("annual_tiers"), list):
        value["cloud_prices"] = {**cloud, "annual_tiers": [str(tier) for tier in cloud["annual_tiers"]]}
    return value


class OperatorEntry(_Entry):
    """The marketplace operator, seller of record on marketplace orders."""

    slug: Slug
    name: Name
    email: Email
    currency: Currency = "USD"


class RevenueShareEntry(_Entry):
    """The vendor's share of marketplace sales of a hosting, from ``effective_from`` on."""

    hosting: Hosting
    effective_from: Day
    vendor_share: Share = Field(description='A fraction: "0.75" is 75% to the vendor.')


class PriceChangeEntry(_Entry):
    """A later price table of the listing, taking effect on ``effective_from``."""

    effective_from: Day
    prices: dict[str, Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]] | None = None
    direct_prices: dict[str, Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]] | None = None
    cloud_prices: CloudPricesSpec | None = None

    _tiers = model_validator(mode="before")(_tiers_as_text)


class ListingEntry(ListingSpec):
    """One hosting of an app or host product: its channel policy and prices (see ``ListingSpec``), when those
    prices take effect, its later price changes and its releases."""

    prices_from: Day | None = Field(
        default=None,
        description="The day `prices` take effect. Omitted: the day the file is applied, for a new listing "
        "or changed prices.",
    )
    price_changes: list[PriceChangeEntry] = Field(
        default_factory=list, max_length=50, description="Later price tables, each from its own date."
    )
    releases: list[ReleaseSpec] = Field(default_factory=list, max_length=500)

    _tiers = model_validator(mode="before")(_tiers_as_text)

    def spec(self) -> ListingSpec:
        """The listing with its first prices, as review and publishing know it."""
        return ListingSpec.model_validate(
            self.model_dump(exclude={"prices_from", "price_changes", "releases"})
        )


class HostProductEntry(_Entry):
    """One of the operator's host products, sold like any app."""

    key: HostKey = Field(description="Short key, e.g. wiki.")
    name: Name
    summary: Annotated[Text, StringConstraints(max_length=300)] = ""
    user_tiers: list[str] = Field(
        min_length=1,
        max_length=30,
        description='The user tiers it is sold in, e.g. ["10", ..., "unlimited"].',
    )
    listings: list[ListingEntry] = Field(default_factory=list, max_length=3)

    @field_validator("user_tiers", mode="before")
    @classmethod
    def _as_text(cls, tiers: Any) -> Any:
        return [str(tier) for tier in tiers] if isinstance(tiers, list) else tiers

    @field_validator("user_tiers")
    @classmethod
    def _tiers(cls, tiers: list[str]) -> list[str]:
        parsed = []
        for text in tiers:
            try:
                parsed.append(Tier.parse(text))
            except Exception as error:
                raise ValueError(f"{text!r} is not a user tier: {error}") from None
        if parsed != sorted(set(parsed)):
            raise ValueError("user tiers must be distinct and in increasing order")
        return [tier_label(tier_users(tier)) for tier in parsed]


class VendorEntry(_Entry):
    """A vendor: its profile, how it is paid and its own revenue-share agreement."""

    slug: Slug
    name: Name
    legal_name: Annotated[Text, StringConstraints(max_length=200)] = Field(
        default="", description="The name on contracts and payouts."
    )
    email: Email
    website: Website | None = None
    direct_store: bool = Field(default=False, description="Whether it sells on its own bills.")
    payout_details: dict[Annotated[Text, StringConstraints(max_length=64)], Note] | None = Field(
        default=None, description='How the operator pays it: {"method": "bank_transfer", "iban": ...}.'
    )
    revenue_share: list[RevenueShareEntry] = Field(
        default_factory=list,
        max_length=50,
        description="Its own agreement; where it has none, the standard rates apply.",
    )


class AppEntry(AppSpec):
    """A vendor's app (see ``AppSpec``): its vendor, whether it is listed, and its listings."""

    vendor: Slug = Field(description="The vendor's slug.")
    visibility: AppVisibility = AppVisibility.PUBLIC
    listings: list[ListingEntry] = Field(default_factory=list, max_length=3)


class CatalogFile(_Entry):
    """A Mercato catalog: ``mercato catalog apply FILE`` creates or updates what it names and deletes nothing."""

    model_config = ConfigDict(extra="forbid", title="Mercato catalog")

    operator: OperatorEntry | None = None
    revenue_share: list[RevenueShareEntry] = Field(
        default_factory=list, description="The standard vendor share of marketplace sales, per hosting."
    )
    host_products: list[HostProductEntry] = Field(default_factory=list)
    vendors: list[VendorEntry] = Field(default_factory=list)
    apps: list[AppEntry] = Field(default_factory=list)


def catalog_schema() -> dict[str, Any]:
    """The JSON Schema of the catalog file (published as ``docs/catalog.schema.json``)."""
    schema = CatalogFile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def catalog_schema_text() -> str:
    return json.dumps(catalog_schema(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------------------
# Reading a file: every problem, each with its place


_SECTIONS: dict[str, type[_Entry] | type[AppSpec]] = {
    "revenue_share": RevenueShareEntry,
    "host_products": HostProductEntry,
    "vendors": VendorEntry,
    "apps": AppEntry,
}


def place(location: Iterable[int | str]) -> str:
    """A place in the file as people write it: ``apps[2].listings[0].prices.25``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _error(where: str, message: str, code: str) -> dict[str, Any]:
    return {"field": where or "(file)", "message": message, "code": code}


def _validation_errors(error: ValidationError, prefix: Sequence[int | str]) -> list[dict[str, Any]]:
    return [
        _error(place([*prefix, *e["loc"]]), e["msg"].removeprefix("Value error, "), e["type"])
        for e in error.errors()
    ]


def _refuse(errors: list[dict[str, Any]]) -> None:
    if errors:
        shown = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise InvalidInput(
            f"The catalog file has {len(errors)} problem(s); nothing was written. {shown}{more}.",
            errors=errors,
        )


@dataclass
class ParsedCatalog:
    """A file's entries that are valid on their own, where each is in the file, and the problems of the rest.

    The entries that parsed are still checked against each other and the database (``apply_catalog``), so that
    one bad entry does not hide the problems of the others; the keys of entries that did not parse count as
    known, so that they do not also make every reference to them a problem."""

    catalog: CatalogFile
    positions: dict[str, list[int]]
    errors: list[dict[str, Any]] = field(default_factory=list)
    unparsed_keys: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, catalog: CatalogFile) -> ParsedCatalog:
        return cls(catalog, {section: list(range(len(getattr(catalog, section)))) for section in _SECTIONS})

    def where(self, section: str, index: int) -> str:
        return f"{section}[{self.positions[section][index]}]"


def parse_catalog(data: object) -> ParsedCatalog:
    """The file's content (as YAML or JSON loads it), every entry of every section validated on its own."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return ParsedCatalog(
            CatalogFile(),
            {section: [] for section in _SECTIONS},
            [
                _error(
                    "",
                    "must be a mapping of sections (operator, vendors, apps, ...), not a list or a value",
                    "type",
                )
            ],
        )
    errors: list[dict[str, Any]] = []
    for key in data:
        if key not in CatalogFile.model_fields:
            errors.append(
                _error(
                    str(key),
                    "is not a section of a catalog file: operator, revenue_share, host_products, vendors, apps",
                    "extra_forbidden",
                )
            )
    parsed: dict[str, Any] = {}
    positions: dict[str, list[int]] = {section: [] for section in _SECTIONS}
    unparsed: dict[str, set[str]] = {section: set() for section in _SECTIONS}
    if data.get("operator") is not None:
        try:
            parsed["operator"] = OperatorEntry.model_validate(data["operator"])
        except ValidationError as error:
            errors += _validation_errors(error, ["operator"])
    for section, model in _SECTIONS.items():
        items = data.get(section) or []
        if not isinstance(items, list):
            errors.append(_error(section, "must be a list", "list_type"))
            continue
        parsed[section] = []
        for index, item in enumerate(items):
            try:
                parsed[section].append(model.model_validate(item))
                positions[section].append(index)
            except ValidationError as error:
                errors += _validation_errors(error, [section, index])
                if isinstance(item, dict):
                    unparsed[section].add(str(item.get("slug") or item.get("key")))
    return ParsedCatalog(CatalogFile.model_validate(parsed), positions, errors, unparsed)


# ---------------------------------------------------------------------------------------------------------
# The database as the file sees it


class Action(StrEnum):
    CREATED = "created"
    CHANGED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: Any
    new: Any


@dataclass
class ObjectChange:
    """What applying the file does to one object: created, updated (which fields, old → new) or nothing."""

    kind: str
    key: str
    action: Action
    fields: list[FieldChange] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "action": self.action.value,
            "fields": [{"field": f.name, "old": _shown(f.old), "new": _shown(f.new)} for f in self.fields],
        }


@dataclass
class CatalogPlan:
    """Every object the file names, in the file's order, and what applying it does (or did)."""

    changes: list[ObjectChange] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for change in self.changes if change.action is action)

    @property
    def changes_anything(self) -> bool:
        return any(change.action is not Action.UNCHANGED for change in self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.count(Action.CREATED),
            "updated": self.count(Action.CHANGED),
            "unchanged": self.count(Action.UNCHANGED),
            "objects": [change.as_dict() for change in self.changes],
        }


def _shown(value: Any) -> Any:
    if isinstance(value, Decimal | date):
        return str(value)
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


def _flat(view: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in view.items():
        name = f"{prefix.removesuffix('.')}{key}" if str(key).startswith("[") else f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _compare(
    kind: str, key: str, current: Mapping[str, Any] | None, wanted: Mapping[str, Any]
) -> ObjectChange:
    if current is None:
        return ObjectChange(kind, key, Action.CREATED)
    old, new = _flat(current), _flat(wanted)
    fields = [
        FieldChange(name, old.get(name), new.get(name))
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    ]
    return ObjectChange(kind, key, Action.CHANGED if fields else Action.UNCHANGED, fields)


def _prices_view(spec: ListingSpec) -> dict[str, Any]:
    return spec.model_dump(include={"prices", "direct_prices", "cloud_prices"}, exclude_none=True)


def _listing_view(listing: Listing) -> dict[str, Any]:
    releases = {f"[{release.version}]": _release_view(release) for release in listing.releases}
    if not listing.price_tables:  # not priced yet: whatever the file says is a change
        return {"published": listing.published_at is not None, "price_tables": {}, "releases": releases}
    first = listing.price_tables[0].effective_from
    spec = listing_spec(listing, first)
    return {
        **spec.model_dump(exclude={"prices", "direct_prices", "cloud_prices", "hosting"}),
        "published": listing.published_at is not None,
        "price_tables": {
            f"[{table.effective_from}]": _prices_view(spec_prices(spec, table, listing.currency))
            for table in listing.price_tables
        },
        "releases": releases,
    }


def _release_view(release: Release | ReleaseSpec) -> dict[str, Any]:
    return {
        "build_date": release.build_date,
        "notes": release.notes,
        "host_version_min": release.host_version_min,
        "host_version_max": release.host_version_max,
    }


@dataclass(frozen=True)
class _PriceStep:
    """One price table of a listing in the file: its day, its prices, and where the file says them."""

    day: date
    spec: ListingSpec
    where: str  # the listing or the price change, as a place in the file
    date_place: str  # the field that gives the day


def _merge_prices(
    tables: Mapping[str, dict[str, Any]], timeline: list[_PriceStep]
) -> tuple[dict[str, dict[str, Any]], list[_PriceStep]]:
    """The price tables once the file's are written as ``apply_listing_spec`` writes them (a table equal to the
    prices in force that day adds nothing), and the steps that write one."""
    merged = dict(tables)
    written = []
    for step in timeline:
        wanted = _prices_view(step.spec)
        if merged:
            days = sorted(merged)
            before = [day for day in days if day <= f"[{step.day}]"]
            if merged[before[-1] if before else days[0]] == wanted:
                continue
        merged[f"[{step.day}]"] = wanted
        written.append(step)
    return merged, written


def _wanted_listing_view(
    current: dict[str, Any] | None, entry: ListingEntry, timeline: list[_PriceStep]
) -> dict[str, Any]:
    """The listing as it will be once the entry is applied: the file's fields, the merged price tables, and the
    file's releases over those already there."""
    tables, _ = _merge_prices(current["price_tables"] if current else {}, timeline)
    releases = dict(current["releases"]) if current else {}
    releases.update({f"[{release.version}]": _release_view(release) for release in entry.releases})
    return {
        **entry.spec().model_dump(exclude={"prices", "direct_prices", "cloud_prices", "hosting"}),
        "published": True,
        "price_tables": tables,
        "releases": releases,
    }


@dataclass
class _Catalog:
    """The database's catalog, loaded once, by natural key."""

    operator: Operator | None
    rates: dict[tuple[str, date], RevenueShareRate]
    hosts: dict[str, HostProduct]
    vendors: dict[str, Vendor]
    vendor_shares: dict[tuple[str, str, date], VendorRevenueShare]
    apps: dict[str, App]
    listings: dict[tuple[str, str], Listing]

    def listings_of(self, product_key: str) -> dict[str, Listing]:
        return {hosting: row for (key, hosting), row in self.listings.items() if key == product_key}

    @classmethod
    def load(cls, repository: CatalogFileRepository) -> _Catalog:
        vendors = {vendor.slug: vendor for vendor in repository.vendors()}
        slugs = {vendor.id: vendor.slug for vendor in vendors.values()}
        return cls(
            operator=repository.operator(),
            rates={(r.hosting.value, r.effective_from): r for r in repository.revenue_share_rates()},
            hosts={host.key: host for host in repository.host_products()},
            vendors=vendors,
            vendor_shares={
                (slugs[s.vendor_id], s.hosting.value, s.effective_from): s
                for s in repository.vendor_revenue_shares()
            },
            apps={app.key: app for app in repository.apps()},
            listings={(lst.product_key, lst.hosting.value): lst for lst in repository.listings()},
        )


# ---------------------------------------------------------------------------------------------------------
# Checks that need the whole file and the database


def _duplicates(
    errors: list[dict[str, Any]],
    where: str,
    keys: Iterable[object],
    field_name: str,
    what: str,
    positions: Sequence[int] | None = None,
) -> None:
    seen: dict[object, int] = {}
    for number, key in enumerate(keys):
        index = positions[number] if positions is not None else number
        if key in seen:
            errors.append(
                _error(
                    f"{where}[{index}].{field_name}" if field_name else f"{where}[{index}]",
                    f"{what} {key} is already at {where}[{seen[key]}]: name each once",
                    "duplicate",
                )
            )
        else:
            seen[key] = index


def _timeline(entry: ListingEntry, where: str, today: date, errors: list[dict[str, Any]]) -> list[_PriceStep]:
    """The listing's price tables in date order, or problems naming each bad one."""
    base = entry.spec()
    timeline = [_PriceStep(entry.prices_from or today, base, where, f"{where}.prices_from")]
    for index, change in enumerate(entry.price_changes):
        change_place = f"{where}.price_changes[{index}]"
        if entry.prices_from is not None and change.effective_from <= entry.prices_from:
            errors.append(
                _error(
                    f"{change_place}.effective_from",
                    f"{change.effective_from} is not after prices_from ({entry.prices_from}): a price change "
                    "takes effect after the prices it changes",
                    "price_change_date",
                )
            )
        try:
            spec = ListingSpec.model_validate(
                {
                    **base.model_dump(exclude={"prices", "direct_prices", "cloud_prices"}),
                    **change.model_dump(exclude={"effective_from"}),
                }
            )
        except ValidationError as error:
            errors += [
                {**e, "field": change_place + (f".{e['field']}" if e["field"] != "(file)" else "")}
                for e in _validation_errors(error, [])
            ]
            continue
        timeline.append(
            _PriceStep(change.effective_from, spec, change_place, f"{change_place}.effective_from")
        )
    _duplicates(
        errors,
        f"{where}.price_changes",
        (c.effective_from for c in entry.price_changes),
        "effective_from",
        "the price change of",
    )
    return sorted(timeline, key=lambda step: step.day)


def _check_listings(
    entries: list[ListingEntry],
    where: str,
    existing: Mapping[str, Listing],
    tiers: list[Tier] | None,
    direct_store: bool | None,
    vendor_place: str,
    today: date,
    errors: list[dict[str, Any]],
) -> list[list[_PriceStep]]:
    _duplicates(errors, where, (e.hosting.value for e in entries), "hosting", "the listing for hosting")
    timelines = []
    for index, entry in enumerate(entries):
        listing_place = f"{where}[{index}]"
        timeline = _timeline(entry, listing_place, today, errors)
        timelines.append(timeline)
        if tiers is not None:
            for step in timeline:
                try:
                    check_listing_for_host(step.spec, tiers, where=step.where)
                except InvalidInput as problem:
                    errors += problem.extensions["errors"]
        listing = existing.get(entry.hosting.value)
        if listing is not None and listing.price_tables:
            # Prices of days gone by are history (renewals and reports read them): a file changes prices from
            # today on, never before.
            _, written = _merge_prices(_listing_view(listing)["price_tables"], timeline)
            errors += [
                _error(
                    step.date_place,
                    f"{step.day} has passed (today is {today}), and the listing's prices on it are history: give "
                    "the new prices a date from today on",
                    "price_change_in_the_past",
                )
                for step in written
                if step.day < today
            ]
        _duplicates(
            errors, f"{listing_place}.releases", (r.version for r in entry.releases), "version", "release"
        )
        if entry.direct.sold and direct_store is False:
            errors.append(
                _error(
                    f"{listing_place}.direct.sold",
                    f"the vendor has no direct store ({vendor_place}direct_store is false): turn it on or "
                    "sell this listing on the marketplace only",
                    "no_direct_store",
                )
            )
    return timelines


def _parsed_tiers(labels: Iterable[str]) -> list[Tier]:
    return [Tier.parse(label) for label in labels]


def _check(
    parsed: ParsedCatalog, db: _Catalog, today: date
) -> tuple[list[list[list[_PriceStep]]], list[list[list[_PriceStep]]]]:
    """Every problem of the file, those of entries on their own and those that need more than one entry or the
    database; raises ``InvalidInput`` listing them all. Returns the price timelines of the host products' and
    the apps' listings."""
    catalog, at = parsed.catalog, parsed.where
    errors: list[dict[str, Any]] = list(parsed.errors)
    _duplicates(
        errors,
        "revenue_share",
        ((r.hosting.value, r.effective_from) for r in catalog.revenue_share),
        "",
        "the rate for",
        parsed.positions["revenue_share"],
    )
    _duplicates(
        errors,
        "host_products",
        (h.key for h in catalog.host_products),
        "key",
        "host product",
        parsed.positions["host_products"],
    )
    _duplicates(
        errors, "vendors", (v.slug for v in catalog.vendors), "slug", "vendor", parsed.positions["vendors"]
    )
    _duplicates(errors, "apps", (a.key for a in catalog.apps), "key", "app", parsed.positions["apps"])
    host_tiers = {
        key: _parsed_tiers(tier_label(t) for t in host.user_tiers) for key, host in db.hosts.items()
    }
    host_tiers.update({host.key: _parsed_tiers(host.user_tiers) for host in catalog.host_products})
    direct_stores: dict[str, tuple[bool, str]] = {
        slug: (vendor.direct_store, f"vendor {slug}: ") for slug, vendor in db.vendors.items()
    }
    for index, vendor in enumerate(catalog.vendors):
        direct_stores[vendor.slug] = (vendor.direct_store, f"{at('vendors', index)}.")
        _duplicates(
            errors,
            f"{at('vendors', index)}.revenue_share",
            ((r.hosting.value, r.effective_from) for r in vendor.revenue_share),
            "",
            "the rate for",
        )
    host_timelines = [
        _check_listings(
            host.listings,
            f"{at('host_products', index)}.listings",
            db.listings_of(host.key),
            host_tiers[host.key],
            None,
            "",
            today,
            errors,
        )
        for index, host in enumerate(catalog.host_products)
    ]
    app_timelines = []
    for index, entry in enumerate(catalog.apps):
        where = at("apps", index)
        existing = db.apps.get(entry.key)
        if entry.vendor in parsed.unparsed_keys.get("vendors", ()):
            pass  # its own problems are reported
        elif entry.vendor not in direct_stores:
            errors.append(
                _error(
                    f"{where}.vendor",
                    f"there is no vendor {entry.vendor!r} in the file or the catalog: add it under vendors",
                    "unknown_vendor",
                )
            )
        elif existing is not None and existing.vendor.slug != entry.vendor:
            errors.append(
                _error(
                    f"{where}.vendor",
                    f"{entry.key} belongs to vendor {existing.vendor.slug}; an app cannot move to another vendor",
                    "vendor_changed",
                )
            )
        if entry.host_product in parsed.unparsed_keys.get("host_products", ()):
            pass
        elif entry.host_product not in host_tiers:
            errors.append(
                _error(
                    f"{where}.host_product",
                    f"there is no host product {entry.host_product!r} in the file or the catalog: add it under "
                    "host_products",
                    "unknown_host_product",
                )
            )
        elif existing is not None and existing.host_product.key != entry.host_product:
            errors.append(
                _error(
                    f"{where}.host_product",
                    f"{entry.key} is an app for {existing.host_product.key}; an app's host product cannot change",
                    "host_product_changed",
                )
            )
        if entry.key in host_tiers:
            errors.append(
                _error(f"{where}.key", f"{entry.key} is a host product's key: choose another", "duplicate")
            )
        direct_store, vendor_place = direct_stores.get(entry.vendor, (None, ""))
        app_timelines.append(
            _check_listings(
                entry.listings,
                f"{where}.listings",
                db.listings_of(entry.key),
                host_tiers.get(entry.host_product),
                direct_store,
                vendor_place,
                today,
                errors,
            )
        )
    _refuse(errors)
    return host_timelines, app_timelines


# ---------------------------------------------------------------------------------------------------------
# Applying


class _Applier:
    def __init__(self, repository: CatalogFileRepository, db: _Catalog, now: datetime, write: bool) -> None:
        self.repository = repository
        self.db = db
        self.now = now
        self.write = write
        self.plan = CatalogPlan()

    def _record(self, change: ObjectChange) -> bool:
        """Note the change; True when it is to be written."""
        self.plan.changes.append(change)
        return self.write and change.action is not Action.UNCHANGED

    def operator(self, entry: OperatorEntry) -> None:
        row = self.db.operator
        current = None if row is None else {k: getattr(row, k) for k in ("slug", "name", "email", "currency")}
        if not self._record(_compare("operator", entry.slug, current, entry.model_dump())):
            return
        if row is None:
            self.db.operator = row = Operator()
        for key, value in entry.model_dump().items():
            setattr(row, key, value)
        self.repository.add(row)

    def rate(self, entry: RevenueShareEntry) -> None:
        row = self.db.rates.get((entry.hosting.value, entry.effective_from))
        current = None if row is None else {"vendor_share": row.vendor_share}
        key = f"{entry.hosting.value} from {entry.effective_from}"
        if not self._record(_compare("revenue share", key, current, {"vendor_share": entry.vendor_share})):
            return
        if row is None:
            self.repository.add(
                RevenueShareRate(
                    hosting=entry.hosting,
                    effective_from=entry.effective_from,
                    vendor_share=entry.vendor_share,
                )
            )
        else:
            row.vendor_share = entry.vendor_share

    def host_product(self, entry: HostProductEntry, timelines: list[list[_PriceStep]]) -> None:
        row = self.db.hosts.get(entry.key)
        wanted = {
            "name": entry.name,
            "summary": entry.summary,
            "user_tiers": [tier_users(Tier.parse(t)) for t in entry.user_tiers],
        }
        current = None if row is None else {k: getattr(row, k) for k in wanted}
        if self._record(_compare("host product", entry.key, current, wanted)):
            if row is None:
                self.db.hosts[entry.key] = row = HostProduct(key=entry.key)
            for key, value in wanted.items():
                setattr(row, key, value)
            self.repository.add(row)
        for listing, timeline in zip(entry.listings, timelines, strict=True):
            self.listing(entry.key, listing, timeline, app=None, host_key=entry.key)

    def vendor(self, entry: VendorEntry) -> None:
        row = self.db.vendors.get(entry.slug)
        fields = ("name", "legal_name", "email", "website", "direct_store", "payout_details")
        wanted = entry.model_dump(include=set(fields))
        wanted["payout_details"] = wanted["payout_details"] or {}
        shares = {
            (entry.slug, share.hosting.value, share.effective_from): share.vendor_share
            for share in entry.revenue_share
        }

        def share_view(rows: Mapping[tuple[str, str, date], Decimal]) -> dict[str, Decimal]:
            return {
                f"{hosting} from {day}": value
                for (slug, hosting, day), value in rows.items()
                if slug == entry.slug
            }

        current_shares = {key: s.vendor_share for key, s in self.db.vendor_shares.items()}
        current = None
        if row is not None:
            current = {k: getattr(row, k) for k in fields}
            current["payout_details"] = current["payout_details"] or {}
            current["revenue_share"] = share_view(current_shares)
        wanted["revenue_share"] = share_view({**current_shares, **shares})
        if not self._record(_compare("vendor", entry.slug, current, wanted)):
            return
        if row is None:
            self.db.vendors[entry.slug] = row = Vendor(slug=entry.slug)
        for key in fields:
            setattr(row, key, getattr(entry, key))
        if entry.payout_details is None:
            row.payout_details = null()  # SQL NULL, as a vendor without payout details has; not JSON null
        self.repository.add(row)
        for (_, hosting, day), share in shares.items():
            existing = self.db.vendor_shares.get((entry.slug, hosting, day))
            if existing is None:
                self.repository.add(
                    VendorRevenueShare(
                        vendor_id=row.id, hosting=Hosting(hosting), effective_from=day, vendor_share=share
                    )
                )
            else:
                existing.vendor_share = share

    def app(self, entry: AppEntry, timelines: list[list[_PriceStep]]) -> None:
        row = self.db.apps.get(entry.key)
        fields = ("name", "summary", "description", "links", "visibility")
        wanted = {
            **entry.model_dump(include=set(fields)),
            "vendor": entry.vendor,
            "host_product": entry.host_product,
        }
        wanted["links"] = {k: v for k, v in wanted["links"].items() if v is not None}
        current = None
        if row is not None:
            current = {k: getattr(row, k) for k in fields}
            current["vendor"] = row.vendor.slug
            current["host_product"] = row.host_product.key
        if self._record(_compare("app", entry.key, current, wanted)):
            if row is None:
                # Ids, not relationships: a relationship would reach into the vendor's and host's unloaded
                # collections of apps.
                row = App(
                    key=entry.key,
                    vendor_id=self.db.vendors[entry.vendor].id,
                    host_product_id=self.db.hosts[entry.host_product].id,
                )
                self.db.apps[entry.key] = row
            for key in fields:
                setattr(row, key, wanted[key])
            self.repository.add(row)
        for listing, timeline in zip(entry.listings, timelines, strict=True):
            self.listing(entry.key, listing, timeline, app=row, host_key=entry.host_product)

    def listing(
        self,
        product_key: str,
        entry: ListingEntry,
        timeline: list[_PriceStep],
        *,
        app: App | None,
        host_key: str,
    ) -> None:
        row = self.db.listings.get((product_key, entry.hosting.value))
        current = None if row is None else _listing_view(row)
        change = _compare(
            "listing",
            f"{product_key} {entry.hosting.value}",
            current,
            _wanted_listing_view(current, entry, timeline),
        )
        if not self._record(change):
            return
        if row is None:
            row = Listing(
                product_key=product_key,
                hosting=entry.hosting,
                app_id=None if app is None else app.id,
                host_product_id=self.db.hosts[host_key].id,
                currency=entry.currency,
                price_tables=[],
                releases=[],
            )
            self.db.listings[(product_key, entry.hosting.value)] = row
            self.repository.add(row)
        for step in timeline:
            apply_listing_spec(row, step.spec, step.day)
        if row.published_at is None:
            row.published_at = self.now
        releases = {release.version: release for release in row.releases}
        for release_spec in entry.releases:
            release = releases.get(release_spec.version)
            if release is None:
                release = Release(version=release_spec.version)
                row.releases.append(release)
            for key, value in _release_view(release_spec).items():
                setattr(release, key, value)
        self.repository.flush()


def apply_catalog(
    repository: CatalogFileRepository,
    parsed: ParsedCatalog | CatalogFile,
    *,
    now: datetime,
    dry_run: bool = False,
) -> CatalogPlan:
    """Check the whole file, its entries and their references, against itself and the database; then (unless
    ``dry_run``) create or update every object it names, in the caller's transaction. Returns what changed,
    object by object. Raises ``InvalidInput`` listing every problem, having written nothing."""
    if isinstance(parsed, CatalogFile):
        parsed = ParsedCatalog.of(parsed)
    catalog = parsed.catalog
    db = _Catalog.load(repository)
    host_timelines, app_timelines = _check(parsed, db, now.date())
    applier = _Applier(repository, db, now, write=not dry_run)
    if catalog.operator is not None:
        applier.operator(catalog.operator)
    for rate in catalog.revenue_share:
        applier.rate(rate)
    for host, timelines in zip(catalog.host_products, host_timelines, strict=True):
        applier.host_product(host, timelines)
    for vendor in catalog.vendors:
        applier.vendor(vendor)
    for app, timelines in zip(catalog.apps, app_timelines, strict=True):
        applier.app(app, timelines)
    if not dry_run:
        repository.flush()
    return applier.plan


# ---------------------------------------------------------------------------------------------------------
# Exporting


_HOSTING_ORDER = list(Hosting)


def _listing_entry(listing: Listing) -> ListingEntry:
    first, *later = listing.price_tables
    spec = listing_spec(listing, first.effective_from)
    changes = [
        PriceChangeEntry.model_validate(
            {
                "effective_from": table.effective_from,
                **_prices_view(spec_prices(spec, table, listing.currency)),
            }
        )
        for table in later
    ]
    releases = sorted(listing.releases, key=lambda r: (r.build_date, r.version))
    return ListingEntry.model_validate(
        {
            **spec.model_dump(),
            "prices_from": first.effective_from,
            "price_changes": [c.model_dump() for c in changes],
            "releases": [{"version": r.version, **_release_view(r)} for r in releases],
        }
    )


def export_catalog(repository: CatalogFileRepository) -> CatalogFile:
    """The whole catalog as a file, in a stable order (two exports of the same data are identical)."""
    db = _Catalog.load(repository)
    listings_of: dict[str, list[Listing]] = {}
    for (product_key, _), listing in db.listings.items():
        if listing.price_tables:
            listings_of.setdefault(product_key, []).append(listing)

    def listings(key: str) -> list[ListingEntry]:
        rows = sorted(listings_of.get(key, []), key=lambda lst: _HOSTING_ORDER.index(Hosting(lst.hosting)))
        return [_listing_entry(row) for row in rows]

    operator = db.operator
    return CatalogFile(
        operator=None
        if operator is None
        else OperatorEntry(
            slug=operator.slug, name=operator.name, email=operator.email, currency=operator.currency
        ),
        revenue_share=[
            RevenueShareEntry(hosting=Hosting(hosting), effective_from=day, vendor_share=rate.vendor_share)
            for (hosting, day), rate in sorted(
                db.rates.items(), key=lambda item: (item[0][1], _HOSTING_ORDER.index(Hosting(item[0][0])))
            )
        ],
        host_products=[
            HostProductEntry(
                key=host.key,
                name=host.name,
                summary=host.summary,
                user_tiers=[tier_label(t) for t in host.user_tiers],
                listings=listings(host.key),
            )
            for host in sorted(db.hosts.values(), key=lambda h: h.key)
        ],
        vendors=[
            VendorEntry(
                slug=vendor.slug,
                name=vendor.name,
                legal_name=vendor.legal_name,
                email=vendor.email,
                website=vendor.website,
                direct_store=vendor.direct_store,
                payout_details=vendor.payout_details,
                revenue_share=[
                    RevenueShareEntry(
                        hosting=Hosting(hosting), effective_from=day, vendor_share=share.vendor_share
                    )
                    for (slug, hosting, day), share in sorted(
                        db.vendor_shares.items(),
                        key=lambda item: (item[0][2], _HOSTING_ORDER.index(Hosting(item[0][1]))),
                    )
                    if slug == vendor.slug
                ],
            )
            for vendor in sorted(db.vendors.values(), key=lambda v: v.slug)
        ],
        apps=[
            AppEntry.model_validate(
                {
                    "key": app.key,
                    "name": app.name,
                    "host_product": app.host_product.key,
                    "summary": app.summary,
                    "description": app.description,
                    "links": app.links,
                    "vendor": app.vendor.slug,
                    "visibility": app.visibility,
                    "listings": [entry.model_dump() for entry in listings(app.key)],
                }
            )
            for app in sorted(db.apps.values(), key=lambda a: a.key)
        ],
    )


def catalog_document(catalog: CatalogFile) -> dict[str, Any]:
    """The file's content as plain data, leaving out what equals its default."""
    return catalog.model_dump(mode="json", exclude_defaults=True)


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML has no type hints
    """Block style for mappings, one line for short lists of plain values (tiers, license types)."""


def _represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    flow = all(isinstance(item, str | int | float | bool) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_Dumper.add_representer(list, _represent_list)

_YAML_HEADER = (
    "# A Mercato catalog. Apply it with `mercato catalog apply FILE` (try --dry-run first); its JSON Schema is\n"
    "# printed by `mercato catalog schema`. Applying creates or updates what the file names, never deletes.\n"
)


def write_catalog(catalog: CatalogFile, file_format: str = "yaml") -> str:
    """The catalog as YAML (with a short header) or JSON text."""
    document = catalog_document(catalog)
    if file_format == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    body: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return _YAML_HEADER + body


def read_catalog(text: str) -> ParsedCatalog:
    """A catalog file's text (YAML, or JSON, which YAML reads too), each entry validated; raises
    ``InvalidInput`` only for text that is not YAML at all."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"
        reason = getattr(error, "problem", None) or str(error)
        raise InvalidInput(
            f"The catalog file is not YAML or JSON ({where}: {reason}); nothing was written.",
            errors=[_error(where, f"is not YAML or JSON: {reason}", "syntax")],
        ) from None
    return parse_catalog(data)


__all__ = [
    "Action",
    "CatalogFile",
    "CatalogPlan",
    "ParsedCatalog",
    "apply_catalog",
    "catalog_document",
    "catalog_schema",
    "catalog_schema_text",
    "export_catalog",
    "parse_catalog",
    "place",
    "read_catalog",
    "write_catalog",
]
