"""The import file: a CSV with a header row, read and checked row by row without touching the database.

Every problem is collected rather than raised, each with its line (the header is line 1) and its column, so
that a vendor fixes a whole file in one go. What needs the catalog and the customers (does the app exist, is
the tier sold, is the server someone else's) is checked afterwards by ``mercato.imports.service``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from mercato.accounts.host_instances import HOSTNAME, MAX_CLOUD_USERS
from mercato.catalog.models import UNLIMITED_USERS
from mercato.pricing import BillingCycle, Hosting, LicenseType
from mercato.pricing.money import is_known_currency, is_whole_minor_units

REQUIRED_COLUMNS: tuple[str, ...] = (
    "organisation",
    "contact_email",
    "host_product",
    "hosting",
    "server_id",
    "tier",
    "license_type",
    "purchase_date",
    "maintenance_end",
    "reference",
    "app",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("host_tier", "billing_cycle", "prepaid_amount", "currency")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

IMPORTABLE_TYPES: tuple[LicenseType, ...] = tuple(t for t in LicenseType if t is not LicenseType.EVALUATION)
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_CELL = 200
"""No cell of a sensible file is longer: references, names, server ids and app keys are all at most 200."""
MAX_EMAIL = 254
MAX_USERS = 10_000_000
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,4})?")


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with the file: where (line, column; None for the whole line) and what."""

    line: int
    column: str | None
    detail: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.detail}"


@dataclass(frozen=True)
class ImportRow:
    """One license to import, as the file gives it, checked for form."""

    line: int
    organisation: str
    contact_email: str
    host_product: str
    hosting: Hosting
    server_id: str
    tier_users: int
    """Users, or -1 for unlimited (cloud: the site's users)."""
    license_type: LicenseType
    purchase_date: date
    maintenance_end: date
    reference: str
    app: str
    host_tier: int | None = None
    billing_cycle: BillingCycle | None = None
    prepaid_amount: Decimal | None = None
    currency: str | None = None

    @property
    def host_key(self) -> tuple[str, str, str]:
        return self.host_product, self.hosting.value, self.server_id

    @property
    def terms(self) -> str:
        """A fingerprint of what the row says (its line aside): a reference imported again must say the same."""
        parts = [
            self.organisation,
            self.contact_email,
            *self.host_key,
            str(self.tier_users),
            self.license_type.value,
            self.purchase_date.isoformat(),
            self.maintenance_end.isoformat(),
            self.reference,
            self.app,
            str(self.host_tier),
            str(self.billing_cycle),
            str(self.prepaid_amount),
            str(self.currency),
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class ParsedFile:
    rows: list[ImportRow]
    """The rows that are well formed (all of them when there are no problems)."""
    problems: list[RowProblem]


def ordered(problems: Sequence[RowProblem]) -> list[RowProblem]:
    """Problems in the order of the file: by line, then column."""
    return sorted(problems, key=lambda p: (p.line, p.column or "", p.detail))


def tier_text(users: int) -> str:
    return "unlimited" if users == UNLIMITED_USERS else str(users)


# -- one row ------------------------------------------------------------------------------------------------


class _Row:
    """Reads the cells of one row, noting a problem for each bad one."""

    def __init__(self, line: int, cells: Mapping[str, str]) -> None:
        self.line = line
        self.cells = cells
        self.problems: list[RowProblem] = []

    def problem(self, column: str | None, detail: str) -> None:
        self.problems.append(RowProblem(self.line, column, detail))

    def text(self, column: str, *, required: bool = True, limit: int = MAX_CELL) -> str:
        value = self.cells.get(column) or ""
        if "\x00" in value:
            self.problem(column, "contains a NUL byte; remove it.")
            return ""
        if any(unicodedata.category(c) == "Cc" for c in value):
            self.problem(column, "contains a control character (a tab or a line break inside the cell?).")
            return ""
        value = value.strip()
        if len(value) > limit:
            self.problem(column, f"is {len(value):,} characters long; at most {limit} are allowed.")
            return ""
        if required and not value:
            self.problem(column, "is empty; every row needs it.")
        return value

    def day(self, column: str) -> date | None:
        value = self.text(column)
        if not value:
            return None
        if not _DAY.fullmatch(value):
            self.problem(column, f"{value!r} is not a date; write it as YYYY-MM-DD, like 2026-03-31.")
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.problem(column, f"{value} is not a day of the calendar.")
            return None
        if not FIRST_DAY <= day <= LAST_DAY:
            self.problem(column, f"{value} is outside 2000-01-01 to 2099-12-31.")
            return None
        return day

    def users(self, column: str, *, required: bool = True, unlimited: bool = True) -> int | None:
        value = self.text(column, required=required).lower()
        if not value:
            return None
        if unlimited and value == "unlimited":
            return UNLIMITED_USERS
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_USERS:
            also = ' or "unlimited"' if unlimited else ""
            self.problem(column, f"{value!r} is not a number of users; write a whole number like 100{also}.")
            return None
        return int(value)

    def choice(self, column: str, choices: Sequence[str], *, required: bool = True) -> str | None:
        value = self.text(column, required=required).lower()
        if not value:
            return None
        if value not in choices:
            self.problem(column, f"{value!r} is not one of {', '.join(choices)}.")
            return None
        return value


def parse_row(line: int, cells: Mapping[str, str], today: date) -> ImportRow | list[RowProblem]:
    """The row at ``line`` (cells by column name) as an ``ImportRow``, or every problem it has. ``today`` is
    the server's day: a purchase cannot be later."""
    row = _Row(line, cells)
    organisation = row.text("organisation")
    email = row.text("contact_email", limit=MAX_EMAIL).lower()
    if email and not _EMAIL.fullmatch(email):
        row.problem("contact_email", f"{email!r} is not an e-mail address; write it as name@example.com.")
    host_product = row.text("host_product").lower()
    hosting_text = row.choice("hosting", [h.value for h in Hosting])
    hosting = Hosting(hosting_text) if hosting_text else None
    server_id = _server_id(row, hosting)
    tier = row.users("tier", unlimited=hosting is not Hosting.CLOUD)
    type_text = row.choice("license_type", [t.value for t in IMPORTABLE_TYPES])
    purchased, maintenance_end = row.day("purchase_date"), row.day("maintenance_end")
    if purchased and purchased > today:
        row.problem("purchase_date", f"{purchased} is in the future (today is {today}).")
    if purchased and maintenance_end and maintenance_end <= purchased:
        row.problem("maintenance_end", f"{maintenance_end} is not after the purchase date {purchased}.")
    if maintenance_end and hosting in (Hosting.CLOUD, Hosting.DATACENTER) and maintenance_end < today:
        row.problem(
            "maintenance_end",
            f"the {hosting.value} term ended on {maintenance_end}; import only licenses that are still in term.",
        )
    reference = row.text("reference")
    app = row.text("app").lower()
    host_tier = row.users("host_tier", required=False)
    cycle = row.choice("billing_cycle", [c.value for c in BillingCycle], required=False)
    amount, currency = _prepaid(row, hosting)
    if hosting is Hosting.CLOUD:
        if tier is not None and tier > MAX_CLOUD_USERS:
            row.problem("tier", f"a cloud site has at most {MAX_CLOUD_USERS:,} users, not {tier:,}.")
        if host_tier is not None:
            row.problem("host_tier", "a cloud site has users, not a host tier: give them in tier.")
        cycle = cycle or BillingCycle.ANNUAL.value
    elif hosting is not None and cycle is not None:
        row.problem("billing_cycle", f"only cloud rows have a billing cycle, not {hosting.value} ones.")
    if row.problems:
        return ordered(row.problems)
    assert hosting is not None and tier is not None and type_text and purchased and maintenance_end
    return ImportRow(
        line=line,
        organisation=organisation,
        contact_email=email,
        host_product=host_product,
        hosting=hosting,
        server_id=server_id,
        tier_users=tier,
        license_type=LicenseType(type_text),
        purchase_date=purchased,
        maintenance_end=maintenance_end,
        reference=reference,
        app=app,
        host_tier=host_tier,
        billing_cycle=BillingCycle(cycle) if cycle else None,
        prepaid_amount=amount,
        currency=currency,
    )


def _server_id(row: _Row, hosting: Hosting | None) -> str:
    value = row.text("server_id")
    if not value:
        return ""
    if hosting is Hosting.CLOUD:
        site = value.lower().removeprefix("https://").rstrip("/")
        if not HOSTNAME.fullmatch(site):
            row.problem(
                "server_id", f"{value!r} is not a cloud site; give its hostname, like acme.wiki.example."
            )
        return site
    if any(c.isspace() for c in value):
        row.problem("server_id", f"{value!r} has spaces; a server id is like BX7Q-2M9L-33KD-W1PA.")
    return value


def _prepaid(row: _Row, hosting: Hosting | None) -> tuple[Decimal | None, str | None]:
    amount_text = row.text("prepaid_amount", required=False)
    currency = row.text("currency", required=False).upper() or None
    if hosting is not Hosting.CLOUD:
        if hosting is not None and (amount_text or currency):
            column = "prepaid_amount" if amount_text else "currency"
            row.problem(column, f"only cloud rows carry a prepaid amount, not {hosting.value} ones.")
        return None, None
    if not amount_text:
        row.problem("prepaid_amount", "a cloud row needs what the customer prepaid for the current term.")
    if currency is None:
        row.problem("currency", "a cloud row needs the currency of its prepaid amount, like USD.")
    elif not is_known_currency(currency):
        row.problem("currency", f"{currency!r} is not a currency code (ISO 4217), like USD or EUR.")
        currency = None
    if not amount_text:
        return None, currency
    if not _AMOUNT.fullmatch(amount_text):
        row.problem("prepaid_amount", f"{amount_text!r} is not an amount; write it like 120.00.")
        return None, currency
    try:
        amount = Decimal(amount_text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        row.problem("prepaid_amount", f"{amount_text!r} is not an amount; write it like 120.00.")
        return None, currency
    if currency is not None and not is_whole_minor_units(amount, currency):
        row.problem("prepaid_amount", f"{amount_text} has more decimals than {currency} has.")
    return amount, currency


# -- the whole file -----------------------------------------------------------------------------------------


# Line breaks as the csv module counts them (its reader's line_num): CRLF, and a lone CR or LF (files saved by
# old Mac tools end lines with CR alone), so every problem names the line an editor shows.
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def parse_file(data: bytes, today: date) -> ParsedFile:
    """Every row of the file, or every problem of it (a file with problems gives no rows)."""
    problems: list[RowProblem] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = len(_LINE_BREAK.findall(data[: error.start])) + 1
        return ParsedFile([], [RowProblem(line, None, "is not UTF-8 text; save the file as UTF-8 CSV.")])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        return ParsedFile([], [RowProblem(1, None, f"the header row is not CSV: {error}.")])
    if header is None or not any(cell.strip() for cell in header):
        return ParsedFile([], [RowProblem(1, None, "the file is empty; it needs a header row and rows.")])
    columns = _header(header, problems)
    rows: list[ImportRow] = []
    references: dict[str, int] = {}
    start = reader.line_num + 1
    count = 0
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as error:
            problems.append(RowProblem(start, None, f"is not CSV: {error} (check the quotes)."))
            break
        if cells is None:
            break
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # blank lines (a trailing newline) are not rows
        count += 1
        if count > MAX_ROWS:
            problems.append(RowProblem(line, None, f"the file has more than {MAX_ROWS:,} rows; split it."))
            break
        if columns is None:
            continue
        if len(cells) != len(header):
            problems.append(RowProblem(line, None, f"has {len(cells)} cells, the header has {len(header)}."))
            continue
        named = dict(zip(columns, cells, strict=True))
        reference = named["reference"].strip()
        first = references.setdefault(reference, line) if reference else line
        if first != line:
            problems.append(RowProblem(line, "reference", f"{reference!r} is on line {first} already."))
        parsed = parse_row(line, named, today)
        if isinstance(parsed, list):
            problems.extend(parsed)
        else:
            rows.append(parsed)
    if count == 0 and not problems:
        problems.append(RowProblem(1, None, "the file has a header but no rows."))
    problems.extend(within_file(rows))
    return ParsedFile(rows, ordered(problems))


def _header(header: list[str], problems: list[RowProblem]) -> list[str] | None:
    """The column names, or None (with problems) when the header is not usable."""
    names = [name.strip().lower() for name in header]
    seen: set[str] = set()
    for name, given in zip(names, header, strict=True):
        if len(given) > MAX_CELL or "\x00" in given:
            problems.append(RowProblem(1, None, "a header cell is not a column name."))
        elif name not in COLUMNS:
            problems.append(
                RowProblem(
                    1, given.strip() or "(empty)", f"is not a column; the columns are {', '.join(COLUMNS)}."
                )
            )
        elif name in seen:
            problems.append(RowProblem(1, name, "appears twice in the header."))
        seen.add(name)
    for missing in REQUIRED_COLUMNS:
        if missing not in seen:
            problems.append(RowProblem(1, missing, "is missing from the header; every file needs it."))
    return None if problems else names


def within_file(rows: Sequence[ImportRow]) -> list[RowProblem]:
    """What well-formed rows say against each other: one app twice on one host. (A reference twice is found as
    the file is read, whatever else is wrong with its rows.)"""
    problems: list[RowProblem] = []
    licensed: dict[tuple[str, str, str, str], int] = {}
    for row in rows:
        place = (row.app, *row.host_key)
        earlier = licensed.setdefault(place, row.line)
        if earlier != row.line:
            problems.append(
                RowProblem(
                    row.line,
                    "app",
                    f"line {earlier} licenses {row.app} on {row.server_id} already; "
                    "an app is licensed once per host.",
                )
            )
    return problems
