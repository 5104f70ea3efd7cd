"""The shared test vectors are up to date and replay through check(); the JavaScript and Java verifiers
agree; the verifier library imports nothing but the standard library and cryptography (and PyNaCl, optional,
at the first signature check)."""

from __future__ import annotations

import ast
import base64
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from mercato.licensing import FixAction, LicenseStatus, check, trusted_keys_from_jwks
from mercato.licensing.reading import PASTE_NOISE

ROOT = Path(__file__).parents[2]
VECTORS = json.loads((ROOT / "clients" / "vectors" / "license-keys.json").read_text(encoding="utf-8"))


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "license_vectors_generate", ROOT / "clients/vectors/generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vectors_file_is_up_to_date():
    generator = load_generator()
    current = (ROOT / "clients" / "vectors" / "license-keys.json").read_text(encoding="utf-8")
    assert generator.render() == current, "run .venv/bin/python clients/vectors/generate.py"


FORGERIES = (
    "unknown-key/direct-key-of-the-app-signed-by-another-vendor",
    "unknown-key/marketplace-key-signed-by-the-apps-own-vendor",
)


def test_vectors_hold_the_two_forgeries_with_verdicts_written_by_hand():
    """Vendor B signs a direct key of vendor A's app; a vendor signs a marketplace key of its own app. Both
    are signed by trusted keys, and both must be refused by every verifier."""
    cases = {case["name"]: case for case in VECTORS["cases"]}
    trusted = trusted_keys_from_jwks(VECTORS["trusted_jwks"])
    for name in FORGERIES:
        expected = cases[name]["expected"]
        assert (expected["status"], expected["action"], expected["payload"]) == (
            "UNKNOWN_KEY",
            "CONTACT_SELLER",
            None,
        )
        kid = json.loads(base64.urlsafe_b64decode(cases[name]["key"].split(".")[0] + "=="))["kid"]
        assert kid in trusted
    generator = load_generator()
    assert [forgery[0] for forgery in generator.FORGERIES][:2] == list(FORGERIES)


def test_vectors_cover_every_status_and_action():
    assert {case["expected"]["status"] for case in VECTORS["cases"]} == {
        status.value for status in LicenseStatus
    }
    assert {case["expected"]["action"] for case in VECTORS["cases"]} == {action.value for action in FixAction}
    names = [case["name"] for case in VECTORS["cases"]]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[case["name"] for case in VECTORS["cases"]])
def test_vector_replays_through_check(case: dict[str, Any]):
    trusted = trusted_keys_from_jwks(VECTORS["trusted_jwks"])
    host = load_generator_host(case["host"])
    result = check(case["key"], trusted, host, case["revoked"]).to_dict()
    expected = case["expected"]
    assert {
        "status": result.pop("status"),
        "action": result.pop("action"),
        "message": result.pop("message"),
    } == {"status": expected["status"], "action": expected["action"], "message": expected["message"]}
    assert (result or None) == expected["payload"]
    # The case's name says which status it shows.
    assert case["name"].split("/")[0].replace("-", "_").upper() == expected["status"]


_generator: ModuleType | None = None


def load_generator_host(host: dict[str, Any]) -> Any:
    global _generator
    if _generator is None:
        _generator = load_generator()
    return _generator.host_context(host)


def test_javascript_verifier_replays_the_vectors_with_the_same_verdicts():
    node = shutil.which("node")
    if node is None:
        if os.environ.get("MERCATO_REQUIRE_NODE"):
            pytest.fail("node is not installed but MERCATO_REQUIRE_NODE is set")
        pytest.skip("node is not installed (set MERCATO_REQUIRE_NODE to make this a failure)")
    result = subprocess.run(
        [node, "--test", "clients/js/"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    assert passed is not None and int(passed.group(1)) >= len(VECTORS["cases"])
    assert re.search(r"^# fail 0$", result.stdout, re.MULTILINE)


JAVA_MAIN = """
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

public final class Main {
    // args: a file of trusted keys (kid TAB JWK, one a line), a file of cases (base64 of the key's UTF-8
    // text TAB the app key TAB the app's vendor, empty for none; one a line).
    public static void main(String[] args) throws Exception {
        Map<String, LicenseKeys.TrustedKey> trusted = new HashMap<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            String[] fields = line.split("\t", 2);
            trusted.put(fields[0], LicenseKeys.trustedKeyFromJwk(fields[1]));
        }
        for (String line : Files.readAllLines(Path.of(args[1]))) {
            String[] fields = line.split("\t", -1);
            String key = new String(Base64.getDecoder().decode(fields[0]), StandardCharsets.UTF_8);
            String vendor = fields[2].isEmpty() ? null : fields[2];
            boolean genuine = LicenseKeys.verifiedPayload(key, trusted, fields[1], vendor) != null;
            System.out.println(genuine ? "GENUINE" : "REFUSED");
        }
    }
}
"""

# The Java snippet reads claims only as Mercato writes them: compact JSON, no escapes, each claim once.
_COMPACT_CLAIM = re.compile(r'"[a-z]+":("[^"\\]*"|-?[0-9]+|true|false|null)[,}]')


def genuine(key: str, host: dict[str, Any], trusted: Any) -> bool:
    """Independent oracle of what the Java snippet promises: the key has the canonical header of a trusted
    kid and a valid signature of that key, and its signer is the seller it names and may sell this app in
    the key's channel."""
    from cryptography.exceptions import InvalidSignature

    from mercato.licensing.keys import b64url_decode, encode_header

    parts = "".join(character for character in key if character not in PASTE_NOISE).split(".")
    if len(parts) != 3:
        return False
    kid = next((kid for kid in trusted if encode_header(kid) == parts[0]), None)
    if kid is None:
        return False
    try:
        trusted[kid].public_key.verify(b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode())
        text = b64url_decode(parts[1]).decode()
    except (ValueError, InvalidSignature):
        return False
    members = [match.group(0) for match in _COMPACT_CLAIM.finditer(text)]
    claims = json.loads(text) if text.startswith("{") and "{" + "".join(members) == text else None
    if not isinstance(claims, dict) or len(claims) != len(members):
        return False
    issuer, channel = claims.get("iss"), claims.get("channel")
    if trusted[kid].issuer != issuer:
        return False
    if channel == "marketplace":
        return issuer == "operator"
    if channel != "direct" or not str(issuer).startswith("vendor:"):
        return False
    return claims.get("app") != host["app_key"] or issuer == f"vendor:{host['app_vendor']}"


def test_java_snippet_of_the_documentation_verifies_the_vectors(tmp_path):
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac is None or java is None:
        pytest.skip("no JDK installed")
    documentation = (ROOT / "docs" / "license-keys.md").read_text(encoding="utf-8")
    snippet = re.search(r"```java\n(.*?)```", documentation, re.DOTALL)
    assert snippet is not None
    (tmp_path / "LicenseKeys.java").write_text(snippet.group(1), encoding="utf-8")
    (tmp_path / "Main.java").write_text(JAVA_MAIN, encoding="utf-8")
    compiled = subprocess.run(
        [javac, "-d", str(tmp_path), str(tmp_path / "LicenseKeys.java"), str(tmp_path / "Main.java")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert compiled.returncode == 0, compiled.stderr
    (tmp_path / "trusted.txt").write_text(
        "".join(f"{jwk['kid']}\t{json.dumps(jwk)}\n" for jwk in VECTORS["trusted_jwks"]["keys"]),
        encoding="utf-8",
    )
    cases = VECTORS["cases"]
    (tmp_path / "cases.txt").write_text(
        "".join(
            f"{base64.b64encode(case['key'].encode()).decode()}\t{case['host']['app_key']}\t"
            f"{case['host']['app_vendor'] or ''}\n"
            for case in cases
        ),
        encoding="ascii",
    )
    result = subprocess.run(
        [java, "-cp", str(tmp_path), "Main", str(tmp_path / "trusted.txt"), str(tmp_path / "cases.txt")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcomes = result.stdout.split()
    assert len(outcomes) == len(cases)
    trusted = trusted_keys_from_jwks(VECTORS["trusted_jwks"])
    for case, outcome in zip(cases, outcomes, strict=True):
        status = case["expected"]["status"]
        # The vectors decide: a key the reference verifiers call genuine (a payload in the verdict) is
        # genuine in Java; a forged, damaged or untrusted key is refused. Java leaves the claims' rules
        # (MALFORMED payloads) to the app, so there the oracle decides.
        if case["expected"]["payload"] is not None:
            assert outcome == "GENUINE", case["name"]
        elif status in ("BAD_SIGNATURE", "UNKNOWN_KEY"):
            assert outcome == "REFUSED", case["name"]
        assert outcome == ("GENUINE" if genuine(case["key"], case["host"], trusted) else "REFUSED"), case[
            "name"
        ]
    assert outcomes.count("GENUINE") > 40
    refused = {case["name"] for case, outcome in zip(cases, outcomes, strict=True) if outcome == "REFUSED"}
    assert set(FORGERIES) <= refused


def test_verifier_library_imports_only_the_standard_library_cryptography_and_optional_pynacl():
    """PyNaCl is optional: only signatures.py imports it, inside a function (at the first check), and that
    function's ImportError falls back to cryptography (test_signatures.py runs the library without it)."""
    for path in (ROOT / "src" / "mercato" / "licensing").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0 and node.module is not None, path
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top == "nacl":
                    assert path.name == "signatures.py", f"{path.name} imports {module}"
                    assert id(node) not in module_level, f"{path.name} imports {module} with the library"
                    continue
                assert (
                    top in sys.stdlib_module_names
                    or top == "cryptography"
                    or module.startswith("mercato.licensing")
                ), f"{path.name} imports {module}"


def test_importing_the_verifier_loads_no_other_part_of_mercato():
    code = "import sys, mercato.licensing; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = result.stdout.split()
    assert not [
        name
        for name in loaded
        if name.split(".")[0]
        in {"fastapi", "sqlalchemy", "pydantic", "babel", "starlette", "jinja2", "typer", "nacl"}
    ]
    assert [name for name in loaded if name.startswith("mercato")] == [
        "mercato",
        "mercato.licensing",
        "mercato.licensing.claims",
        "mercato.licensing.keys",
        "mercato.licensing.reading",
        "mercato.licensing.signatures",
        "mercato.licensing.verdicts",
        "mercato.licensing.verify",
    ]
