"""Defaults must be safe: the commands that seal or open signing keys refuse to start without a strong secret,
say how to make one, and `mercato keys reseal` moves the keys to a new secret."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mercato.cli import app as mercato_cli
from mercato.settings import get_settings
from support.secrets import COMMAND_SECRET

NEW_SECRET = "a-new-secret-after-rotation-7Hq2Wm9Xc4Vb1Nz8Lp3K"
ISSUE = [
    "license", "issue", "--app", "com.example.mockups.wiki", "--hosting", "server", "--channel", "marketplace",
    "--tier", "100", "--type", "commercial", "--server-id", "SRV-1", "--maintenance-end", "2030-01-01",
]  # fmt: skip


@pytest.fixture
def database(fresh_database_url, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    url = str(fresh_database_url("sqlite"))
    monkeypatch.setenv("MERCATO_DATABASE_URL", url)
    assert CliRunner().invoke(mercato_cli, ["demo"]).exit_code == 0
    return url


def with_secret(monkeypatch: pytest.MonkeyPatch, secret: str | None) -> None:
    if secret is None:
        monkeypatch.delenv("MERCATO_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("MERCATO_SECRET_KEY", secret)
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (None, "MERCATO_SECRET_KEY is not set"),
        ("short-secret", "it needs at least 32"),
        ("a" * 40, "must be random"),
        ("mercato-public-demo-secret-do-not-use-in-production-0123456789", "public demo secret"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--port", "1"],
        ["worker", "--once"],
        ["billing", "run"],
        ["keys", "list", "--issuer", "operator"],
        ISSUE,
    ],
)
def test_commands_that_touch_signing_keys_refuse_a_weak_secret(
    command: list[str], secret: str | None, reason: str, monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    with_secret(monkeypatch, secret)
    result = CliRunner().invoke(mercato_cli, command)
    assert result.exit_code == 2, result.output
    assert reason in result.output and "secrets.token_urlsafe(32)" in result.output


def test_demo_mode_uses_the_public_demo_secret_and_says_so(
    monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    with_secret(monkeypatch, None)
    monkeypatch.setenv("MERCATO_DEMO", "true")
    result = CliRunner().invoke(mercato_cli, ISSUE)
    assert result.exit_code == 0 and "Demo mode" in result.output and "public demo secret" in result.output


def test_reseal_moves_every_private_key_to_the_new_secret(
    monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    runner = CliRunner()
    with_secret(monkeypatch, COMMAND_SECRET)
    assert runner.invoke(mercato_cli, ISSUE).exit_code == 0  # the operator's ring, sealed with the old secret
    with_secret(monkeypatch, NEW_SECRET)
    sealed_with_old = runner.invoke(mercato_cli, ISSUE)
    assert sealed_with_old.exit_code == 1 and "MERCATO_SECRET_KEY" in sealed_with_old.output
    assert runner.invoke(mercato_cli, ["keys", "reseal"]).exit_code == 2  # the old secret must be named
    monkeypatch.setenv("MERCATO_OLD_SECRET_KEY", COMMAND_SECRET)
    resealed = runner.invoke(mercato_cli, ["keys", "reseal"])
    assert resealed.exit_code == 0 and "Resealed 1 private key(s)" in resealed.output
    assert runner.invoke(mercato_cli, ISSUE).exit_code == 0  # signs with the new secret
    with_secret(monkeypatch, COMMAND_SECRET)
    assert runner.invoke(mercato_cli, ISSUE).exit_code == 1  # the old secret opens nothing any more
