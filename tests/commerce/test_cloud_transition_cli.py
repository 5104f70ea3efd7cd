"""``mercato licenses cloud-transition`` on the SQLite file that ``mercato demo`` leaves in the working directory:
a dry run changes nothing, a run invoices each direct cloud customer once, and a second run invoices nobody."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from billing.test_billing_cli import engine, mercato, session_factory, settings, workdir
from mercato.clock import FixedClock, noon_of
from mercato.commerce.models import Invoice
from mercato.services import Services
from support.secrets import COMMAND_SECRET
from support.world import World

from .test_cloud_transition import MOCKUPS, TODAY, direct_cloud_customer

__all__ = ["engine", "session_factory", "settings", "workdir"]  # the demo database replaces the shared one


def invoices(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Invoice)) or 0)


def test_the_command_rehearses_then_invoices_each_customer_once(
    workdir: Path, world: World, session_factory: sessionmaker[Session]
) -> None:
    services = Services(secret_key=COMMAND_SECRET, clock=FixedClock(noon_of(TODAY)))
    entitlements = [
        direct_cloud_customer(
            session_factory,
            world,
            organisation=organisation,
            site=site,
            users=40,
            cycle="annual",
            start=date(2026, 4, 1),
            end=date(2027, 4, 1),
            prepaid=prepaid,
            services=services,
        )
        for organisation, site, prepaid in (
            ("acme", "acme-direct.wiki.example", "600.00"),
            ("globex", "globex.wiki.example", "1200.00"),
        )
    ]
    args = ["licenses", "cloud-transition", "--vendor", "example-mockups", "--from", MOCKUPS, "--to", MOCKUPS]
    before = invoices(session_factory)
    rehearsal = mercato(workdir, *args, "--today", "2026-11-26", "--dry-run")
    assert rehearsal.returncode == 0, rehearsal.stderr
    said = " ".join(rehearsal.stderr.split())
    assert "Dry run (nothing was changed)" in said and "1 would_move, 1 would_invoice" in said, said
    assert invoices(session_factory) == before

    run = mercato(workdir, *args, "--today", "2026-11-26", "--json")
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    states = {move["entitlement_number"]: move["state"] for move in answer["licenses"]}
    assert states == {entitlements[0]: "invoiced", entitlements[1]: "moved"}
    assert next(m["net"] for m in answer["licenses"] if m["state"] == "invoiced") == "34.52"
    assert invoices(session_factory) == before + 2

    again = mercato(workdir, *args, "--today", "2026-11-26", "--json")
    assert again.returncode == 0, again.stderr
    assert [move["state"] for move in json.loads(again.stdout)["licenses"]] == ["waiting"]
    assert invoices(session_factory) == before + 2


def test_the_command_names_what_it_cannot_do(workdir: Path) -> None:
    unknown = mercato(
        workdir, "licenses", "cloud-transition", "--vendor", "nobody", "--from", "a", "--to", "b"
    )
    assert unknown.returncode == 1 and "No vendor 'nobody'" in unknown.stderr
    elsewhere = mercato(
        workdir,
        *("licenses", "cloud-transition", "--vendor", "example-mockups", "--from", MOCKUPS),
        *("--to", "com.diagramly.diagrams.wiki"),
    )
    assert elsewhere.returncode == 1 and "is not an app of example-mockups" in " ".join(
        elsewhere.stderr.split()
    )
