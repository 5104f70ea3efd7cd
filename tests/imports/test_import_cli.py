"""`mercato licenses import` on the console: a summary for a clean file, every problem on a line of its own for a
bad one (status 1, nothing written), a dry run that writes nothing, and the same file again that changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mercato.cli import app
from mercato.settings import get_settings
from support.imports import clean_rows, csv_file, row, seeded_database, table_counts

runner = CliRunner()


@pytest.fixture
def database(
    backend: str, fresh_database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    url = fresh_database_url(backend)
    seeded_database(url)
    monkeypatch.setenv("MERCATO_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app, ["licenses", "import", "--today", "2026-11-26", *args], env={"COLUMNS": "200"}
    )
    return result.exit_code, result.stdout, result.stderr


def test_a_clean_file_imports_and_the_same_file_again_changes_nothing(database: str, tmp_path: Path) -> None:
    file = tmp_path / "licenses.csv"
    rows = clean_rows()
    for r in rows:
        r["organisation"] = "Initech"
    file.write_bytes(csv_file(rows))
    code, _, err = invoke("--vendor", "example-mockups", str(file))
    assert code == 0, err
    assert "Imported 3 rows" in err and "Created 3 licenses, 1 organisations, 3 host instances" in err
    after = table_counts(database)
    assert after["licenses"] == 3 and after["imported_licenses"] == 3
    code, out, err = invoke("--vendor", "example-mockups", str(file), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["repeated"], summary["licenses_created"], len(summary["lines"])) == (True, 3, 3)
    assert table_counts(database) == after


def test_problems_are_listed_one_per_line_and_nothing_is_written(database: str, tmp_path: Path) -> None:
    file = tmp_path / "licenses.csv"
    rows = [
        row(organisation="Initech"),
        row(organisation="Initech", reference="R-2", server_id="S-2", tier="33"),
        row(organisation="Initech", reference="R-3", server_id="S-3", maintenance_end="2026-01-01"),
    ]
    file.write_bytes(csv_file(rows))
    before = table_counts(database)
    code, _, err = invoke("--vendor", "example-mockups", str(file))
    assert code == 1
    assert "2 found; nothing was imported" in err
    lines = [line.strip() for line in err.splitlines() if line.strip().startswith("line ")]
    assert lines[0].startswith("line 3, tier: com.example.mockups.wiki is not sold direct with 33 users")
    assert lines[1].startswith(
        "line 4, maintenance_end: 2026-01-01 is not after the purchase date 2026-03-01"
    )
    assert len(lines) == 2
    assert table_counts(database) == before


def test_a_dry_run_says_what_it_would_make_and_writes_nothing(database: str, tmp_path: Path) -> None:
    file = tmp_path / "licenses.csv"
    file.write_bytes(
        csv_file([row(organisation="Initech"), row(organisation="Initech", reference="R-2", server_id="S-2")])
    )
    before = table_counts(database)
    code, _, err = invoke("--vendor", "example-mockups", str(file), "--dry-run")
    assert code == 0, err
    assert "Dry run" in err and "2 licenses, 1 organisations, 2 host instances, 1 invitations" in err
    assert table_counts(database) == before


def test_an_unknown_vendor_or_a_missing_file_is_a_sentence(database: str, tmp_path: Path) -> None:
    file = tmp_path / "licenses.csv"
    file.write_bytes(csv_file([row(organisation="Initech")]))
    code, _, err = invoke("--vendor", "nobody", str(file))
    assert code == 1 and "no vendor" in err.lower()
    code, _, err = invoke("--vendor", "example-mockups", str(tmp_path / "missing.csv"))
    assert code == 1 and "Cannot read" in err
