"""``mercato license`` and ``mercato keys`` as a support engineer runs them, on the SQLite file that
``make run`` leaves in the working directory (the default database URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MERCATO = Path(sys.executable).with_name("mercato")
APP = ["--app", "com.example.mockups.wiki", "--hosting", "server"]
HOST = [*APP, "--server-id", "SRV-1", "--host-license-type", "commercial", "--today", "2026-11-26"]


def mercato(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
    env["MERCATO_SECRET_KEY"] = "cli-test-secret"
    return subprocess.run(
        [str(MERCATO), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=60
    )


def demo_directory(directory: Path) -> Path:
    assert mercato(directory, "demo").returncode == 0
    assert (directory / "mercato.db").exists()
    return directory


def issue_marketplace_key(workdir: Path) -> str:
    result = mercato(
        workdir,
        "license",
        "issue",
        *APP,
        "--channel",
        "marketplace",
        "--tier",
        "100",
        "--type",
        "commercial",
        "--server-id",
        "SRV-1",
        "--maintenance-end",
        "2027-11-26",
        "--today",
        "2026-11-26",
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.count(".") == 2 and "\n" not in key
    assert "SEN-" in result.stderr
    return key


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo database for the tests that only read its signing keys (checks, issues, revocations)."""
    return demo_directory(tmp_path_factory.mktemp("cli"))


@pytest.fixture(scope="module")
def marketplace_key(workdir: Path) -> str:
    return issue_marketplace_key(workdir)


def test_check_valid_key_exits_0(workdir: Path, marketplace_key: str) -> None:
    result = mercato(workdir, "license", "check", marketplace_key, *HOST, "--host-tier", "100", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["status"] == "VALID"
    assert verdict["message"]
    assert verdict["server"]["key_state"] == "current"


def test_check_failing_key_exits_1_with_the_reason(workdir: Path, marketplace_key: str) -> None:
    result = mercato(workdir, "license", "check", marketplace_key, *HOST, "--host-tier", "250")
    assert result.returncode == 1
    assert "USER_MISMATCH" in result.stderr
    assert "Fix: upgrade" in result.stderr


def test_usage_errors_exit_2(workdir: Path, marketplace_key: str) -> None:
    assert mercato(workdir, "license", "check", marketplace_key, *HOST, "--host-tier", "lots").returncode == 2
    assert mercato(workdir, "license", "check", marketplace_key, *APP).returncode == 2
    blank = mercato(
        workdir,
        "license",
        "check",
        marketplace_key,
        *APP,
        "--server-id",
        " ",
        "--host-tier",
        "10",
        "--host-license-type",
        "commercial",
    )
    assert blank.returncode == 2, blank.stderr
    missing = mercato(
        workdir,
        "license",
        "check",
        marketplace_key,
        *HOST,
        "--host-tier",
        "100",
        "--trusted",
        str(workdir / "nope.json"),
    )
    assert missing.returncode == 2


def test_offline_check_with_exported_keys_and_rotation(tmp_path: Path) -> None:
    # Rotating and retiring the operator's signing key changes the database: this test has its own.
    workdir = demo_directory(tmp_path)
    marketplace_key = issue_marketplace_key(workdir)
    jwks = mercato(workdir, "keys", "export", "--issuer", "operator", "--format", "jwks")
    assert jwks.returncode == 0, jwks.stderr
    (workdir / "operator.jwks.json").write_text(jwks.stdout)
    pem = mercato(workdir, "keys", "export", "--issuer", "operator", "--format", "pem")
    (workdir / "operator.pem").write_text(pem.stdout)
    for trusted in ("operator.jwks.json", "operator.pem"):
        offline = mercato(
            workdir,
            "license",
            "check",
            marketplace_key,
            *HOST,
            "--host-tier",
            "100",
            "--trusted",
            str(workdir / trusted),
            "--json",
        )
        assert offline.returncode == 0, offline.stdout + offline.stderr
        assert "server" not in json.loads(offline.stdout)

    old_kid = json.loads(jwks.stdout)["keys"][0]["kid"]
    rotated = mercato(workdir, "keys", "rotate", "--issuer", "operator")
    assert rotated.returncode == 0 and rotated.stdout.strip() != old_kid
    still = mercato(workdir, "license", "check", marketplace_key, *HOST, "--host-tier", "100")
    assert still.returncode == 0, "an old key keeps verifying after rotation"
    assert mercato(workdir, "keys", "retire", old_kid).returncode == 0
    retired = mercato(workdir, "license", "check", marketplace_key, *HOST, "--host-tier", "100", "--json")
    assert retired.returncode == 1
    assert json.loads(retired.stdout)["status"] == "UNKNOWN_KEY"


def test_direct_key_and_revocation(workdir: Path) -> None:
    issued = mercato(
        workdir,
        "license",
        "issue",
        *APP,
        "--channel",
        "direct",
        "--tier",
        "10",
        "--type",
        "commercial",
        "--server-id",
        "SRV-1",
        "--maintenance-end",
        "2027-11-26",
        "--today",
        "2026-11-26",
    )
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip()
    ok = mercato(workdir, "license", "check", key, *HOST, "--host-tier", "100", "--app-users", "10")
    assert ok.returncode == 0, ok.stderr
    entitlement = next(word for word in issued.stderr.split() if word.startswith("SEN-")).rstrip(":")
    assert (
        mercato(workdir, "license", "revoke", "--entitlement", entitlement, "--reason", "refunded").returncode
        == 0
    )
    revoked = mercato(workdir, "license", "check", key, *HOST, "--host-tier", "100", "--json")
    assert revoked.returncode == 1
    assert json.loads(revoked.stdout)["status"] == "REVOKED"


def test_rule_violations_are_sentences_not_tracebacks(workdir: Path) -> None:
    result = mercato(
        workdir,
        "license",
        "issue",
        "--app",
        "com.example.mockups.wiki",
        "--hosting",
        "cloud",
        "--channel",
        "direct",
        "--tier",
        "10",
        "--type",
        "commercial",
        "--server-id",
        "site.example",
        "--term-end",
        "2027-01-01",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "marketplace" in result.stderr
