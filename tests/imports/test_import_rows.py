"""The import file's row checks, without a database: any row either parses or yields problems that name their
line and a column of the file, never an exception; and the file reader says where each problem is."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.imports.rows import COLUMNS, ImportRow, RowProblem, parse_file, parse_row
from mercato.pricing import BillingCycle, Hosting, LicenseType
from support.imports import HEADER, csv_file, row

TODAY = date(2026, 11, 26)

# Cells people and programs write: valid values, near misses and garbage (NUL bytes, control characters,
# huge and non-ASCII text).
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "server",
            "cloud",
            "datacenter",
            "25",
            "unlimited",
            "0",
            "-1",
            "1e3",
            "١٠٠",
            "2026-02-29",
            "2026-02-28",
            "2099-12-31",
            "9999-01-01",
            "2026-13-01",
            "commercial",
            "evaluation",
            "annual",
            "monthly",
            "120.00",
            "120.001",
            "USD",
            "XXX",
            "a@b.example",
            "acme.wiki.example",
            "\x00",
            "a\x00b",
            "\t",
            "x" * 5000,
        ]
    ),
    st.text(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(line=st.integers(min_value=2, max_value=10**6), cells=st.dictionaries(st.sampled_from(COLUMNS), CELLS))
def test_any_row_parses_or_yields_problems_with_its_line(line: int, cells: dict[str, str]) -> None:
    parsed = parse_row(line, cells, TODAY)
    if isinstance(parsed, ImportRow):
        assert parsed.line == line
        assert parsed.purchase_date <= TODAY < date(2100, 1, 1)
        assert parsed.purchase_date < parsed.maintenance_end
        assert parsed.license_type is not LicenseType.EVALUATION
        assert (parsed.hosting is Hosting.CLOUD) == (parsed.prepaid_amount is not None)
        assert "\x00" not in parsed.reference + parsed.organisation + parsed.server_id
    else:
        assert parsed, "a row that does not parse has problems"
        for problem in parsed:
            assert isinstance(problem, RowProblem)
            assert problem.line == line
            assert problem.column in COLUMNS
            assert problem.detail


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_file_parses_or_yields_problems_with_line_numbers(data: bytes) -> None:
    for header in (b"", ",".join(HEADER).encode() + b"\n"):
        parsed = parse_file(header + data, TODAY)
        lines = len(re.findall(rb"\r\n|\r|\n", header + data)) + 2  # a lone CR ends a line too
        for problem in parsed.problems:
            assert 1 <= problem.line <= lines, problem
            assert problem.column is None or problem.column
        assert parsed.rows or parsed.problems


def test_lines_ended_by_a_lone_carriage_return_are_counted_as_an_editor_shows_them() -> None:
    header = ",".join(HEADER).encode() + b"\n"
    short = parse_file(header + b"\r\r\x00", TODAY)  # line 1 the header, 2 and 3 empty, 4 one cell
    assert [(problem.line, problem.detail) for problem in short.problems] == [
        (4, f"has 1 cells, the header has {len(HEADER)}.")
    ]
    not_utf8 = parse_file(header + b"\r\r\xff", TODAY)
    assert [problem.line for problem in not_utf8.problems] == [4]


def test_a_clean_row_parses_with_its_defaults() -> None:
    cloud = row(
        hosting="cloud",
        server_id="https://Initech.Wiki.Example/",
        tier="50",
        host_tier="",
        prepaid_amount="120.00",
        currency="usd",
    )
    parsed = parse_row(7, cloud, TODAY)
    assert isinstance(parsed, ImportRow)
    assert (parsed.server_id, parsed.billing_cycle, parsed.prepaid_amount, parsed.currency) == (
        "initech.wiki.example",
        BillingCycle.ANNUAL,
        Decimal("120.00"),
        "USD",
    )


def test_the_header_is_line_one_and_names_unknown_and_missing_columns() -> None:
    data = b"organisation,colour,reference\nAcme,red,R-1\n"
    problems = parse_file(data, TODAY).problems
    assert {p.column for p in problems} >= {"colour", "app", "tier", "hosting"}
    assert all(p.line == 1 for p in problems)


def test_problems_of_the_file_name_their_lines() -> None:
    good = csv_file([row()]).decode()
    data = (
        good
        + ",".join(row(reference="R-2").values())
        + ",extra\n"  # one cell too many
        + ",".join(row(reference="MOCK-0001", server_id="S-3").values())
        + "\n"  # the reference of line 2
        + '"unclosed,quote\n'
    ).encode()
    problems = parse_file(data, TODAY).problems
    assert [(p.line, p.column) for p in problems] == [(3, None), (4, "reference"), (5, None)]
    assert parse_file(b"\xff\xfe" + data, TODAY).problems[0].line == 1
    assert parse_file(data.replace(b"R-2", b"R-\xff"), TODAY).problems == [
        RowProblem(3, None, "is not UTF-8 text; save the file as UTF-8 CSV.")
    ]
    assert parse_file(b"", TODAY).problems == [
        RowProblem(1, None, "the file is empty; it needs a header row and rows.")
    ]
