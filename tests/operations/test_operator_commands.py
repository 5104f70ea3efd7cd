"""The operator's look-up commands (``users``, ``customers``, ``license list|show``) and a support key issued
for a customer, as an operator runs them on a demo SQLite file: their output, ``--json`` and exit status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from mercato.app import create_app
from mercato.cli import app
from mercato.database import make_engine, make_session_factory
from mercato.settings import Settings, get_settings
from support.secrets import COMMAND_SECRET

runner = CliRunner()
WIKI_APP = "com.example.mockups.wiki"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "mercato.db"
    monkeypatch.setenv("MERCATO_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    return path


def mercato(*args: str, input: str | None = None) -> Result:
    get_settings.cache_clear()
    return runner.invoke(app, list(args), input=input)


def said(result: Result) -> str:
    return " ".join(result.stderr.split())


def as_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = mercato(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def shop(database: Path) -> Iterator[TestClient]:
    """The HTTP API on the same file, to see what a customer sees."""
    engine = make_engine(f"sqlite:///{database}")
    settings = Settings(
        database_url=f"sqlite:///{database}", secret_key=COMMAND_SECRET, serve_drains_outbox=False
    )
    with TestClient(create_app(settings, engine, make_session_factory(engine))) as client:
        yield client
    engine.dispose()


def test_users_are_listed_with_their_roles_and_shown_one_by_one(database: Path) -> None:
    listed = mercato("users", "list")
    assert listed.exit_code == 0, listed.output
    assert "admin@acme.example" in listed.stderr and "operator_admin" in listed.stderr
    assert "5 user(s)" in said(listed)
    document = as_json("users", "list", "--role", "operator_admin")
    assert document["total"] == 1 and document["items"][0]["email"] == "ops@northwind.example"
    assert document["items"][0]["roles"] == [{"role": "operator_admin", "organisation": None, "vendor": None}]
    assert as_json("users", "list", "--search", "GLOBEX")["items"][0]["email"] == "admin@globex.example"

    shown = mercato("users", "show", "Admin@Acme.example")
    assert shown.exit_code == 0, shown.output
    assert "customer_admin of acme" in said(shown) and "signs in with a password" in said(shown)
    user = as_json("users", "show", "admin@acme.example")
    assert user["active"] is True and user["active_tokens"] >= 1 and len(user["id"]) == 36

    missing = mercato("users", "show", "nobody@acme.example")
    assert missing.exit_code == 1 and "There is no user with the e-mail nobody@acme.example" in said(missing)


def test_a_search_that_finds_nothing_names_the_database(database: Path) -> None:
    result = mercato("users", "list", "--search", "zebra")
    assert result.exit_code == 0
    assert result.stderr.startswith("No users match in the SQLite file")
    assert str(database.name) in result.stderr
    assert mercato("customers", "list", "--search", "zebra").stderr.startswith(
        "No customers match in the SQLite"
    )
    assert mercato("license", "list").stderr.startswith("No licenses in the SQLite file")


def test_a_password_is_set_and_a_disabled_user_can_sign_in_no_more(database: Path, shop: TestClient) -> None:
    password = "correct horse battery staple"
    short = mercato("users", "set-password", "admin@acme.example", input="short\nshort\n")
    assert short.exit_code == 1 and "at least 12 characters" in said(short)
    done = mercato("users", "set-password", "admin@acme.example", input=f"{password}\n{password}\n")
    assert done.exit_code == 0, done.output
    assert "Password of admin@acme.example set" in said(done) and password not in done.output
    signed_in = shop.post("/api/v1/session", json={"email": "admin@acme.example", "password": password})
    assert signed_in.status_code in (200, 201), signed_in.text
    assert shop.get("/api/v1/me", headers={"Authorization": "Bearer mct_demo_acme_admin"}).status_code == 200

    disabled = mercato("users", "disable", "admin@acme.example")
    assert disabled.exit_code == 0, disabled.output
    assert "Disabled admin@acme.example" in said(disabled)
    assert shop.get("/api/v1/me", headers={"Authorization": "Bearer mct_demo_acme_admin"}).status_code == 401
    shop.cookies.clear()
    again = shop.post("/api/v1/session", json={"email": "admin@acme.example", "password": password})
    assert again.status_code == 401
    assert "already disabled" in said(mercato("users", "disable", "admin@acme.example"))
    assert as_json("users", "show", "admin@acme.example")["active"] is False

    enabled = mercato("users", "enable", "admin@acme.example")
    assert enabled.exit_code == 0 and "is now active" in said(enabled)
    assert shop.get("/api/v1/me", headers={"Authorization": "Bearer mct_demo_acme_admin"}).status_code == 200


def test_customers_are_listed_and_shown_with_whole_host_instance_ids(database: Path) -> None:
    listed = mercato("customers", "list")
    assert listed.exit_code == 0 and "2 customer(s)" in said(listed)
    customers = as_json("customers", "list")["items"]
    acme = next(customer for customer in customers if customer["slug"] == "acme")
    assert acme["id"] in listed.stderr  # whole, on one line, at 80 columns

    shown = mercato("customers", "show", "acme")
    assert shown.exit_code == 0, shown.output
    detail = as_json("customers", "show", acme["id"])
    assert detail["slug"] == "acme"
    assert {"email": "admin@acme.example", "role": "customer_admin"} in detail["members"]
    for host in detail["host_instances"]:
        assert host["id"] in shown.stderr and host["server_id"] in shown.stderr
    assert mercato("customers", "show", "nowhere").exit_code == 1


def _server_wiki(detail: dict) -> dict:  # type: ignore[type-arg]
    return next(
        host
        for host in detail["host_instances"]
        if host["host_product"] == "wiki" and host["hosting"] == "server"
    )


def test_a_support_key_for_a_customer_belongs_to_it(database: Path, shop: TestClient) -> None:
    host = _server_wiki(as_json("customers", "show", "acme"))
    common = [
        "--app",
        WIKI_APP,
        "--channel",
        "marketplace",
        "--tier",
        "100",
        "--type",
        "commercial",
        "--maintenance-end",
        "2027-11-30",
    ]
    issued = mercato("license", "issue", *common, "--organisation", "acme", "--host-instance", host["id"])
    assert issued.exit_code == 0, issued.output
    assert issued.stdout.count(".") == 2  # the key alone on standard output
    entitlement = said(issued).split("Issued ", 1)[1].split(" ", 1)[0]
    assert " for acme:" in said(issued)

    seen = shop.get(
        f"/api/v1/licenses/{entitlement}", headers={"Authorization": "Bearer mct_demo_acme_admin"}
    )
    assert seen.status_code == 200, seen.text
    assert (
        shop.get(
            f"/api/v1/licenses/{entitlement}", headers={"Authorization": "Bearer mct_demo_globex_admin"}
        ).status_code
        == 404
    )

    license = as_json("license", "show", entitlement)
    assert license["customer"] == "acme" and license["host_instance_id"] == host["id"]
    assert license["host_binding"] == host["server_id"] and license["hosting"] == "server"
    assert [entry["kind"] for entry in license["history"]] == ["new"]
    assert len(license["keys"]) == 1 and license["keys"][0]["state"] == "current"

    # An instance of another customer, or one that does not run what is issued, is refused; nothing is kept.
    other = mercato("license", "issue", *common, "--organisation", "globex", "--host-instance", host["id"])
    assert other.exit_code == 1 and "belongs to another customer" in said(other)
    cloud = next(h for h in as_json("customers", "show", "acme")["host_instances"] if h["hosting"] == "cloud")
    unfit = mercato("license", "issue", *common, "--hosting", "server", "--host-instance", cloud["id"])
    assert unfit.exit_code == 1 and "is not sold for" in said(unfit)
    elsewhere = mercato("license", "issue", *common, "--host-instance", host["id"], "--server-id", "OTHER-1")
    assert elsewhere.exit_code == 1 and "Leave --server-id out" in said(elsewhere)
    nobody = mercato("license", "issue", *common, "--hosting", "server")
    assert nobody.exit_code == 2 and "--server-id" in said(nobody)
    assert as_json("license", "list")["total"] == 1


def test_licenses_are_listed_with_filters_and_shown(database: Path) -> None:
    host = _server_wiki(as_json("customers", "show", "acme"))
    common = ["--app", WIKI_APP, "--tier", "100", "--type", "commercial"]
    for channel, end in (("marketplace", "2027-01-31"), ("direct", "2028-06-30")):
        issued = mercato(
            "license",
            "issue",
            *common,
            "--channel",
            channel,
            "--maintenance-end",
            end,
            "--host-instance",
            host["id"],
        )
        assert issued.exit_code == 0, issued.output
    loose = mercato(
        "license",
        "issue",
        *common,
        "--channel",
        "marketplace",
        "--maintenance-end",
        "2027-01-31",
        "--hosting",
        "server",
        "--server-id",
        "SRV-LOOSE",
    )
    assert loose.exit_code == 0, loose.output

    everything = as_json("license", "list")
    assert everything["total"] == 3
    assert {item["customer"] for item in everything["items"]} == {"acme", None}
    assert as_json("licenses", "list", "--customer", "acme")["total"] == 2
    assert as_json("license", "list", "--channel", "direct")["items"][0]["issuer"] == "vendor:example-mockups"
    assert as_json("license", "list", "--expiring-before", "2027-02-01")["total"] == 2
    assert as_json("license", "list", "--expiring-before", "2027-01-31")["total"] == 0
    assert as_json("license", "list", "--app", "com.other.app")["total"] == 0
    assert as_json("license", "list", "--status", "cancelled")["total"] == 0

    table = mercato("license", "list")
    assert table.exit_code == 0 and "3 license(s)" in said(table)
    for item in everything["items"]:
        assert item["entitlement_number"] in table.stderr
    shown = mercato("license", "show", everything["items"][0]["entitlement_number"])
    assert shown.exit_code == 0 and "Issued by support staff." in said(shown)
    serial = as_json("license", "show", everything["items"][0]["entitlement_number"])["keys"][0]["serial"]
    assert serial in shown.stderr  # whole, for `license revoke --serial`
    missing = mercato("license", "show", "SEN-0000000000")
    assert missing.exit_code == 1 and "No license SEN-0000000000 in the SQLite file" in said(missing)
    bad_date = mercato("license", "list", "--expiring-before", "soon")
    assert bad_date.exit_code == 2 and "is not a date" in said(bad_date)
