"""``mercato users``, ``customers``, ``tokens`` and ``demo`` as an operator runs them, on a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mercato.cli import app
from mercato.settings import get_settings

runner = CliRunner()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("accounts-cli") / "mercato.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MERCATO_DATABASE_URL", f"sqlite:///{path}")
        get_settings.cache_clear()
        yield path
    get_settings.cache_clear()


def mercato(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input)


def said(result: Result) -> str:
    """What a command told the operator, unwrapped (Rich wraps sentences at the terminal's width)."""
    return " ".join(result.stderr.split())


def test_demo_prints_the_demo_tokens_and_can_run_again(database: Path) -> None:
    first = mercato("demo")
    assert first.exit_code == 0, first.output
    for token in (
        "mct_demo_operator",
        "mct_demo_acme_admin",
        "mct_demo_acme_billing",
        "mct_demo_globex_admin",
    ):
        assert token in said(first)
    again = mercato("demo")
    assert again.exit_code == 0 and "mct_demo_mockups_vendor" in said(again)


def test_customers_and_users_are_created_with_roles(database: Path) -> None:
    mercato("demo")
    customer = mercato(
        "customers",
        "create",
        "--slug",
        "initech",
        "--name",
        "Initech",
        "--billing-email",
        "ap@initech.example",
        "--country",
        "US",
    )
    assert customer.exit_code == 0, customer.output
    assert "Created customer Initech (initech)" in said(customer) and len(customer.stdout.strip()) == 36
    user = mercato(
        "users",
        "create",
        "--email",
        "Peter@Initech.example",
        "--name",
        "Peter",
        "--customer-admin",
        "initech",
        "--billing-contact",
        "acme",
        "--vendor",
        "example-mockups",
    )
    assert user.exit_code == 0, user.output
    assert "customer admin of Initech, billing contact of Acme Corp, member of Example Mockups Ltd" in said(
        user
    )
    assert "API tokens only" in said(user)
    grant = mercato("users", "grant", "--email", "peter@initech.example", "--operator")
    assert grant.exit_code == 0 and "operator admin" in said(grant)


def test_a_password_is_asked_twice_and_never_echoed(database: Path) -> None:
    mercato("demo")
    secret = "a long enough passphrase"
    result = mercato(
        "users",
        "create",
        "--email",
        "milton@initech.example",
        "--name",
        "Milton",
        "--password-prompt",
        input=f"{secret}\n{secret}\n",
    )
    assert result.exit_code == 0, result.output
    assert "signs in with a password" in said(result) and secret not in result.output


def test_rule_violations_are_sentences_not_tracebacks(database: Path) -> None:
    mercato("demo")
    for args, sentence in (
        (
            ("customers", "create", "--slug", "acme", "--name", "A", "--billing-email", "a@b.example"),
            "already exists",
        ),
        (("users", "create", "--email", "admin@acme.example", "--name", "Ada"), "already exists"),
        (
            ("users", "create", "--email", "new@x.example", "--name", "N", "--customer-admin", "nowhere"),
            "no organisation",
        ),
        (("tokens", "create", "--email", "nobody@x.example"), "no user"),
        (("tokens", "create", "--email", "ops@northwind.example", "--scope", "admin"), "Unknown scope"),
        (("tokens", "revoke", "mct_nothing"), "No API token"),
    ):
        result = mercato(*args)
        assert result.exit_code == 1, (args, result.output)
        assert sentence in said(result) and "Traceback" not in result.output
    # Nothing of a failed command is kept: the user was not created without the role.
    assert mercato("tokens", "create", "--email", "new@x.example").exit_code == 1


def test_a_token_is_printed_alone_listed_by_prefix_and_revoked(database: Path) -> None:
    mercato("demo")
    created = mercato(
        "tokens",
        "create",
        "--email",
        "admin@acme.example",
        "--scope",
        "read",
        "--scope",
        "write",
        "--name",
        "deploys",
        "--expires-days",
        "30",
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("mct_") and "\n" not in token and "read, write" in said(created)
    listed = mercato("tokens", "list", "--email", "admin@acme.example")
    prefix = token[:12]
    assert prefix in said(listed) and token not in listed.output
    revoked = mercato("tokens", "revoke", prefix)
    assert revoked.exit_code == 0 and f"Revoked token {prefix}" in said(revoked)
    assert prefix not in mercato("tokens", "list", "--email", "admin@acme.example").stderr
