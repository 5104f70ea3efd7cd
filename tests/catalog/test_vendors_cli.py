"""``mercato vendors`` as an operator runs it, on a SQLite file: output, ``--json`` and exit statuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mercato.cli import app
from mercato.settings import get_settings

runner = CliRunner()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("vendors-cli") / "mercato.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MERCATO_DATABASE_URL", f"sqlite:///{path}")
        get_settings.cache_clear()
        assert runner.invoke(app, ["migrate"]).exit_code == 0
        yield path
    get_settings.cache_clear()


def mercato(*args: str) -> Result:
    return runner.invoke(app, list(args))


def said(result: Result) -> str:
    return " ".join(result.stderr.split())


def test_create_show_and_list(database: Path) -> None:
    created = mercato(
        "vendors", "create", "--slug", "fjord-cli", "--name", "Fjord CLI", "--email", "sales@fjord.example",
        "--member", "ingrid@fjord.example", "--share", "server:2026-01-01:0.80",
        "--payout-method", "paypal", "--account-holder", "Fjord AS", "--account-email", "pay@fjord.example",
        "--payout-currency", "nok",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    vendor_id = created.stdout.strip()
    assert len(vendor_id) == 36 and "Created vendor Fjord CLI (fjord-cli), active." in said(created)

    shown = mercato("vendors", "show", "fjord-cli", "--json")
    document = json.loads(shown.stdout)
    assert document["id"] == vendor_id and document["status"] == "active"
    assert document["payout_details"]["currency"] == "NOK"
    assert document["revenue_share"] == [
        {"hosting": "server", "effective_from": "2026-01-01", "vendor_share": "0.8000"}
    ]
    table = mercato("vendors", "show", "fjord-cli")
    assert table.exit_code == 0 and "server from 2026-01-01: 0.8000" in said(table)

    listed = mercato("vendors", "list")
    assert listed.exit_code == 0 and vendor_id in listed.stderr  # the id whole, never cut
    # Other tests' vendors may share the database: this one is listed, whole.
    assert "fjord-cli" in [v["slug"] for v in json.loads(mercato("vendors", "list", "--json").stdout)]
    assert json.loads(mercato("vendors", "list", "--status", "pending", "--json").stdout) == []
    assert mercato("vendors", "list", "--status", "sleeping").exit_code == 2


def test_refusals_exit_1_and_write_nothing(database: Path) -> None:
    bad = mercato("vendors", "create", "--slug", "Bad Slug", "--name", "X", "--email", "x@x.example")
    assert bad.exit_code == 1 and "Not a slug" in said(bad)
    iban = mercato(
        "vendors", "create", "--slug", "ibanless", "--name", "X", "--email", "x@x.example",
        "--payout-method", "bank_transfer", "--account-holder", "X", "--iban", "DE00123",
        "--bic", "COBADEFFXXX", "--payout-currency", "EUR",
    )  # fmt: skip
    assert iban.exit_code == 1 and "payout_details.iban" in said(iban)
    share = mercato(
        "vendors", "create", "--slug", "x2", "--name", "X", "--email", "x@x.example", "--share", "x"
    )
    assert share.exit_code == 2
    assert mercato("vendors", "show", "ibanless").exit_code == 1
    assert mercato("vendors", "show", "no-such-vendor").exit_code == 1


def test_status_members_and_direct_store(database: Path) -> None:
    mercato("vendors", "create", "--slug", "team-cli", "--name", "Team", "--email", "t@team.example",
            "--member", "a@team.example")  # fmt: skip
    suspended = mercato("vendors", "suspend", "team-cli", "--note", "unpaid fees", "--json")
    assert suspended.exit_code == 0 and json.loads(suspended.stdout)["status_note"] == "unpaid fees"
    assert mercato("vendors", "approve", "team-cli").exit_code == 1  # suspended: reactivate instead
    assert mercato("vendors", "reactivate", "team-cli").exit_code == 0

    assert "is now a member" in said(mercato("vendors", "members", "add", "team-cli", "B@team.example"))
    assert "was a member" in said(mercato("vendors", "members", "add", "team-cli", "b@team.example"))
    members = json.loads(mercato("vendors", "members", "list", "team-cli", "--json").stdout)
    assert [m["email"] for m in members] == ["a@team.example", "b@team.example"]
    assert mercato("vendors", "members", "remove", "team-cli", "a@team.example").exit_code == 0
    last = mercato("vendors", "members", "remove", "team-cli", "b@team.example")
    assert last.exit_code == 1 and "at least one" in said(last)

    opened = mercato("vendors", "direct-store", "on", "team-cli", "--json")
    assert opened.exit_code == 0, opened.output
    first = json.loads(opened.stdout)
    assert first["direct_store"] is True and first["invoice_prefix"] == "TEAM-CLI"
    again = json.loads(mercato("vendors", "direct-store", "on", "team-cli", "--json").stdout)
    assert again["signing_kid"] == first["signing_kid"]
    keys = mercato("keys", "list", "--issuer", "team-cli")
    assert keys.stderr.count("signing") + keys.stdout.count("signing") == 1
    closed = mercato("vendors", "direct-store", "off", "team-cli", "--json")
    assert json.loads(closed.stdout)["selling_direct"] is False
