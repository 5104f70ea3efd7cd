"""``mercato catalog export|apply|schema`` as an operator runs them, on SQLite and PostgreSQL: exit status 0 when
applied, 1 for a file with problems (each printed with its place), 2 for a command used wrongly."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from mercato.catalog.demo import demo_catalog_text
from mercato.catalog.file import catalog_schema_text
from mercato.cli import app
from mercato.database import make_engine
from mercato.migrations import upgrade_to_head
from mercato.settings import get_settings

runner = CliRunner()


def migrated(url: str) -> str:
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def database_url(backend: str, fresh_database_url: Callable[[str], str]) -> str:
    """A database of the backend shared by the module's tests: each applies the demo catalog first, and none
    leaves it changed, so that they pass in any order."""
    return migrated(fresh_database_url(backend))


@pytest.fixture(autouse=True)
def environment(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MERCATO_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def empty_database(
    backend: str, fresh_database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("MERCATO_DATABASE_URL", migrated(fresh_database_url(backend)))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def mercato(*args: str) -> Result:
    return runner.invoke(app, list(args))


def said(result: Result) -> str:
    return " ".join(result.stderr.split())


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(demo_catalog_text(), encoding="utf-8")
    return path


def test_apply_fills_an_empty_catalog_and_a_second_apply_changes_nothing(
    empty_database: None, demo_file: Path
) -> None:
    first = mercato("catalog", "apply", str(demo_file))
    assert first.exit_code == 0, first.output
    assert "+ vendor example-mockups\n" in first.stdout
    assert "+ listing com.example.mockups.wiki cloud\n" in first.stdout
    assert "Applied: 32 created, 0 updated, 0 unchanged. Nothing the file omits was deleted." in said(first)
    again = mercato("catalog", "apply", str(demo_file))
    assert again.exit_code == 0, again.output
    assert again.stdout == ""
    assert "Applied: 0 created, 0 updated, 32 unchanged. Nothing the file omits was deleted." in said(again)


def test_export_writes_the_catalog_the_same_way_every_time(demo_file: Path, tmp_path: Path) -> None:
    mercato("catalog", "apply", str(demo_file))
    exported = mercato("catalog", "export")
    assert exported.exit_code == 0, exported.output
    assert exported.stdout == demo_catalog_text()
    as_json = tmp_path / "catalog.json"
    assert mercato("catalog", "export", str(as_json)).exit_code == 0
    assert json.loads(as_json.read_text()) == yaml.safe_load(demo_catalog_text())
    assert mercato("catalog", "apply", str(as_json)).exit_code == 0


def test_a_dry_run_prints_the_diff_and_writes_nothing(demo_file: Path, tmp_path: Path) -> None:
    mercato("catalog", "apply", str(demo_file))
    document: dict[str, Any] = yaml.safe_load(demo_catalog_text())
    document["vendors"][0]["website"] = "https://diagramly-labs.example"
    document["vendors"].append({"slug": "acme-tools", "name": "Acme Tools", "email": "sales@acme.example"})
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(document), encoding="utf-8")
    before = mercato("catalog", "export").stdout

    dry = mercato("catalog", "apply", str(changed), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert (
        "~ vendor diagramly\n    website: 'https://diagramly.example' → 'https://diagramly-labs.example'\n"
        in (dry.stdout)
    )
    assert "+ vendor acme-tools\n" in dry.stdout
    assert "= app com.example.mockups.wiki\n" in dry.stdout
    assert "Dry run: applying would make 1 created, 1 updated, 31 unchanged. Nothing was written." in said(
        dry
    )
    assert mercato("catalog", "export").stdout == before

    as_json = mercato("catalog", "apply", str(changed), "--dry-run", "--json")
    plan = json.loads(as_json.stdout)
    assert (plan["dry_run"], plan["created"], plan["updated"]) == (True, 1, 1)
    assert {
        "field": "website",
        "old": "https://diagramly.example",
        "new": "https://diagramly-labs.example",
    } in (next(o for o in plan["objects"] if o["key"] == "diagramly")["fields"])
    assert mercato("catalog", "export").stdout == before


def test_a_file_with_problems_exits_1_naming_each_and_writes_nothing(demo_file: Path, tmp_path: Path) -> None:
    mercato("catalog", "apply", str(demo_file))
    before = mercato("catalog", "export").stdout
    document: dict[str, Any] = yaml.safe_load(demo_catalog_text())
    document["apps"][0]["listings"][0]["prices"]["25"] = "-1"
    document["apps"][1]["vendor"] = "nobody"
    document["vendors"].append({"slug": "new-vendor", "name": "New", "email": "new@vendor.example"})
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document), encoding="utf-8")
    refused = mercato("catalog", "apply", str(bad))
    assert refused.exit_code == 1
    assert "bad.yaml has 2 problem(s); nothing was written." in said(refused)
    assert "apps[0].listings[0].prices.25: Input should be greater than or equal to 0" in said(refused)
    assert "apps[1].vendor: there is no vendor 'nobody'" in said(refused)
    assert mercato("catalog", "export").stdout == before

    not_yaml = tmp_path / "broken.yaml"
    not_yaml.write_text("apps: [\n", encoding="utf-8")
    broken = mercato("catalog", "apply", str(not_yaml))
    assert broken.exit_code == 1 and "line " in said(broken)


def test_a_command_used_wrongly_exits_2(tmp_path: Path) -> None:
    assert mercato("catalog", "apply").exit_code == 2
    assert mercato("catalog", "apply", str(tmp_path / "missing.yaml")).exit_code == 2
    assert mercato("catalog", "export", "--format", "xml").exit_code == 2
    assert mercato("catalog", "export", str(tmp_path / "no-such-folder" / "catalog.yaml")).exit_code == 2


def test_schema_prints_the_published_schema() -> None:
    printed = mercato("catalog", "schema")
    assert printed.exit_code == 0
    assert printed.stdout == catalog_schema_text()
