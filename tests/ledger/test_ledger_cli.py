"""`mercato payouts` and `mercato ledger` on the console: sentences for mistakes, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mercato.catalog.models import Vendor
from mercato.cli import app
from mercato.database import make_engine, make_session_factory, transaction
from mercato.ledger.models import EntryKind, LedgerEntry
from mercato.migrations import upgrade_to_head
from mercato.pricing import Channel
from mercato.settings import get_settings

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    url = f"sqlite:///{tmp_path / 'mercato.db'}"
    monkeypatch.setenv("MERCATO_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = make_engine(url)
    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        vendor = Vendor(slug="cli-vendor", name="CLI Vendor", email="cli@test.example")
        session.add(vendor)
        session.flush()
        for day, amount in ((3, 2000), (17, 1001)):
            session.add(
                LedgerEntry(
                    source=f"seed:{day}",
                    kind=EntryKind.NEW,
                    channel=Channel.MARKETPLACE,
                    vendor_id=vendor.id,
                    currency="EUR",
                    gross_minor=amount,
                    discount_minor=0,
                    amount_minor=amount,
                    vendor_share_rate=Decimal("0.75"),
                    vendor_amount_minor=amount * 3 // 4,
                    operator_amount_minor=amount - amount * 3 // 4,
                    occurred_at=datetime(2026, 11, day, 9, tzinfo=UTC),
                )
            )
    engine.dispose()
    yield
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_a_month_not_over_or_not_a_month_is_a_sentence(database: None) -> None:
    code, _, err = invoke("payouts", "run", "--month", "2026-11", "--today", "2026-11-20")
    assert code == 1 and "is not over yet" in err
    code, _, err = invoke("payouts", "run", "--month", "2026-13", "--today", "2026-12-01")
    assert code == 1 and "is not a month" in err
    code, _, _ = invoke("payouts", "run", "--month", "2026-11", "--threshold", "lots")
    assert code == 2


def test_a_run_pays_and_the_statement_and_remittance_reconcile(database: None) -> None:
    code, out, err = invoke("payouts", "run", "--month", "2026-11", "--today", "2026-12-01", "--json")
    assert code == 0, err
    document = json.loads(out)
    (decision,) = document["decisions"]
    assert (document["paid"], decision["outcome"], decision["balance"]) == (1, "paid", "22.50")
    assert decision["payout"]["reference"] == "PAYOUT-2026-11-cli-vendor-EUR"

    code, out, _ = invoke("payouts", "statement", "--vendor", "cli-vendor", "--month", "2026-11", "--json")
    (statement,) = json.loads(out)
    assert (statement["entries_total"], statement["payouts_total"], statement["closing_balance"]) == (
        "22.50",
        "22.50",
        "0.00",
    )
    code, out, _ = invoke("payouts", "remittance", decision["payout"]["id"], "--json")
    remittance = json.loads(out)
    assert (remittance["reconciled"], remittance["entries_total"], len(remittance["entries"])) == (
        True,
        "22.50",
        2,
    )
    code, _, err = invoke("payouts", "remittance", "not-a-payout")
    assert code == 1 and "There is no payout" in err

    code, out, _ = invoke("payouts", "run", "--month", "2026-11", "--today", "2026-12-01", "--json")
    assert json.loads(out)["paid"] == 0


def test_backfill_and_adjust_on_the_console(database: None) -> None:
    code, _, err = invoke("ledger", "backfill")
    assert code == 0 and "0 entries written" in err
    code, out, err = invoke(
        "ledger", "adjust", "--entry", "1", "--amount", "-1.00", "--reason", "credit", "--key", "k1", "--json"
    )
    assert code == 0, err
    assert json.loads(out) | {"id": 0} == {
        "id": 0,
        "corrects": 1,
        "currency": "EUR",
        "amount": "-1.00",
        "vendor_amount": "-0.75",
        "operator_amount": "-0.25",
    }
    code, _, _ = invoke(
        "ledger", "adjust", "--entry", "1", "--amount", "-1.001", "--reason", "x", "--key", "k2"
    )
    assert code == 2
    code, _, err = invoke(
        "ledger", "adjust", "--entry", "99", "--amount", "-1", "--reason", "x", "--key", "k3"
    )
    assert code == 1 and "no ledger entry 99" in err
