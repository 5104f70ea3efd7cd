"""``mercato license`` and ``mercato keys`` as a support engineer runs them, on the SQLite file that
``make run`` leaves in the working directory (the default database URL)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mercato.database import make_engine, make_session_factory, transaction
from mercato.keys.service import KeyService
from mercato.licensing import sign_license
from mercato.licensing.claims import payload_from_claims
from mercato.licensing.keys import b64url_decode
from support.secrets import COMMAND_SECRET

MERCATO = Path(sys.executable).with_name("mercato")
APP = ["--app", "com.example.mockups.wiki", "--hosting", "server"]
HOST = [*APP, "--server-id", "SRV-1", "--host-license-type", "commercial", "--today", "2026-11-26"]
CLI_SECRET = COMMAND_SECRET


def mercato(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
    env["MERCATO_SECRET_KEY"] = CLI_SECRET
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


_OFFLINE_CHECK_THEN_COUNT_IMPORTS = """
import json, sys
from mercato.cli import app
try:
    app(["license", "check", *sys.argv[1:]], prog_name="mercato")
except SystemExit as exit:
    status = exit.code
heavy = ("sqlalchemy", "fastapi", "mercato.services", "mercato.licenses.models")
loaded = [name for name in heavy if name in sys.modules]
print(json.dumps({"status": status, "loaded": loaded}))
"""


def test_the_offline_check_imports_no_database_and_no_web_framework(
    workdir: Path, marketplace_key: str
) -> None:
    # An app vendor runs the offline check in its CI, where there is no database: it must not pay for one.
    jwks = mercato(workdir, "keys", "export", "--issuer", "operator", "--format", "jwks")
    assert jwks.returncode == 0, jwks.stderr
    trusted = workdir / "offline-check.jwks.json"
    trusted.write_text(jwks.stdout)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}
    args = [marketplace_key, *HOST, "--host-tier", "100", "--trusted", str(trusted)]
    result = subprocess.run(
        [sys.executable, "-c", _OFFLINE_CHECK_THEN_COUNT_IMPORTS, *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {"status": 0, "loaded": []}, result.stderr


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


# Issuer binding, keys never issued, keys as people paste them ----------------------------------------------


def issue_key(workdir: Path, channel: str, tier: str = "100") -> str:
    result = mercato(
        workdir,
        "license",
        "issue",
        *APP,
        "--channel",
        channel,
        "--tier",
        tier,
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
    return result.stdout.strip()


def deployment_signer(workdir: Path, issuer: str) -> tuple[str, Ed25519PrivateKey]:
    """The signing key of an issuer of the CLI's deployment, as that issuer (or whoever stole it) holds it."""
    engine = make_engine(f"sqlite:///{workdir / 'mercato.db'}")
    try:
        with transaction(make_session_factory(engine)) as session:
            return KeyService(session, CLI_SECRET).signer(issuer)
    finally:
        engine.dispose()


def resigned(key: str, signer: tuple[str, Ed25519PrivateKey], **changes: Any) -> str:
    """A genuine key's payload with changes, signed by ``signer``: what a forger makes of a copied key."""
    payload = payload_from_claims(json.loads(b64url_decode(key.split(".")[1])))
    kid, private_key = signer
    return sign_license(dataclasses.replace(payload, **changes), private_key, kid)


def export(workdir: Path, *issuers: str) -> Path:
    """One JWK Set of the issuers' public keys, as an app ships it."""
    keys: list[Any] = []
    for issuer in issuers:
        exported = mercato(workdir, "keys", "export", "--issuer", issuer, "--format", "jwks")
        assert exported.returncode == 0, exported.stderr
        keys += json.loads(exported.stdout)["keys"]
    path = workdir / f"{'+'.join(issuers)}.jwks.json"
    path.write_text(json.dumps({"keys": keys}))
    return path


def test_check_refuses_a_direct_key_of_the_app_signed_by_another_vendor(workdir: Path) -> None:
    genuine = issue_key(workdir, "direct", tier="10")
    forged = resigned(genuine, deployment_signer(workdir, "vendor:diagramly"), issuer="vendor:diagramly")
    result = mercato(workdir, "license", "check", forged, *HOST, "--host-tier", "100", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    verdict = json.loads(result.stdout)
    assert (verdict["status"], verdict["action"]) == ("UNKNOWN_KEY", "CONTACT_SELLER")
    assert "only the vendor (example-mockups) sells com.example.mockups.wiki directly" in verdict["message"]


def test_check_refuses_a_key_the_deployment_never_issued(workdir: Path) -> None:
    genuine = issue_key(workdir, "marketplace")
    made_up = resigned(genuine, deployment_signer(workdir, "operator"), key_serial="never-issued-0002")
    result = mercato(workdir, "license", "check", made_up, *HOST, "--host-tier", "100", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    verdict = json.loads(result.stdout)
    assert (verdict["status"], verdict["action"]) == ("UNKNOWN_KEY", "CONTACT_SELLER")
    assert "never issued it" in verdict["message"]
    assert verdict["server"]["known"] is False


def test_check_accepts_a_genuine_key_pasted_with_a_byte_order_mark_and_line_breaks(workdir: Path) -> None:
    key = issue_key(workdir, "marketplace")
    pasted = "\ufeff" + "\r\n".join(key[i : i + 76] for i in range(0, len(key), 76)) + "\u200b\n"
    result = mercato(workdir, "license", "check", pasted, *HOST, "--host-tier", "100", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["server"]["known"] is True


def test_offline_check_trusts_each_exported_key_only_for_its_issuer(workdir: Path) -> None:
    marketplace, direct = issue_key(workdir, "marketplace"), issue_key(workdir, "direct", tier="10")
    app_keys = export(workdir, "operator", "example-mockups")
    offline = [*HOST, "--host-tier", "100", "--trusted", str(app_keys), "--json"]
    assert mercato(workdir, "license", "check", marketplace, *offline).returncode == 0
    assert mercato(workdir, "license", "check", direct, *offline).returncode == 0
    # The app's own vendor signs a marketplace key for its app: a trusted key, but not the marketplace's.
    own = resigned(marketplace, deployment_signer(workdir, "vendor:example-mockups"), tier=None)
    result = mercato(workdir, "license", "check", own, *offline)
    assert result.returncode == 1, result.stdout + result.stderr
    verdict = json.loads(result.stdout)
    assert (verdict["status"], verdict["action"]) == ("UNKNOWN_KEY", "CONTACT_SELLER")
    assert "only the marketplace signs the licenses it sells" in verdict["message"]


def test_offline_check_with_several_vendors_keys_needs_the_apps_vendor(workdir: Path) -> None:
    direct = issue_key(workdir, "direct", tier="10")
    forged = resigned(direct, deployment_signer(workdir, "vendor:diagramly"), issuer="vendor:diagramly")
    several = export(workdir, "operator", "example-mockups", "diagramly")
    offline = [*HOST, "--host-tier", "100", "--trusted", str(several)]
    ambiguous = mercato(workdir, "license", "check", direct, *offline)
    assert ambiguous.returncode == 2
    assert "--app-vendor" in ambiguous.stderr
    told = [*offline, "--app-vendor", "example-mockups", "--json"]
    assert mercato(workdir, "license", "check", direct, *told).returncode == 0
    refused = mercato(workdir, "license", "check", forged, *told)
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["status"] == "UNKNOWN_KEY"
    online_only = mercato(
        workdir, "license", "check", direct, *HOST, "--host-tier", "100", "--app-vendor", "x"
    )
    assert online_only.returncode == 2


def test_offline_check_refuses_a_trusted_key_file_that_names_no_issuers(workdir: Path) -> None:
    document = json.loads(export(workdir, "operator").read_text())
    for jwk in document["keys"]:
        del jwk["iss"]
    (workdir / "anonymous.jwks.json").write_text(json.dumps(document))
    key = issue_key(workdir, "marketplace")
    result = mercato(
        workdir,
        "license",
        "check",
        key,
        *HOST,
        "--host-tier",
        "100",
        "--trusted",
        str(workdir / "anonymous.jwks.json"),
    )
    assert result.returncode == 2
    assert "issuer" in result.stderr
