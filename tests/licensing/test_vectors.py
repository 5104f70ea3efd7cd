"""The shared test vectors are up to date and replay through check(); the JavaScript and Java verifiers
agree; the verifier library imports nothing but the standard library and cryptography."""

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
from mercato.licensing.verify import PASTE_NOISE

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
import java.security.PublicKey;
import java.util.Base64;
import java.util.Map;

public final class Main {
    // args: kid, JWK of that kid, a file of keys (base64 of their UTF-8 text, one a line).
    public static void main(String[] args) throws Exception {
        Map<String, PublicKey> trusted = Map.of(args[0], LicenseKeys.publicKeyFromJwk(args[1]));
        for (String line : Files.readAllLines(Path.of(args[2]))) {
            String key = new String(Base64.getDecoder().decode(line), StandardCharsets.UTF_8);
            System.out.println(LicenseKeys.verifiedPayload(key, trusted) == null ? "REFUSED" : "GENUINE");
        }
    }
}
"""


def genuine(key: str, kid: str, public_key: Any) -> bool:
    """Independent oracle: the key has the canonical header of ``kid`` and a valid signature of that key."""
    from cryptography.exceptions import InvalidSignature

    from mercato.licensing.keys import b64url_decode, encode_header

    parts = "".join(character for character in key if character not in PASTE_NOISE).split(".")
    if len(parts) != 3 or parts[0] != encode_header(kid):
        return False
    try:
        public_key.verify(b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode())
    except (ValueError, InvalidSignature):
        return False
    return True


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
    jwk = next(key for key in VECTORS["trusted_jwks"]["keys"] if key["kid"] == "test-2025")
    public_key = trusted_keys_from_jwks({"keys": [jwk]})["test-2025"]
    keys = [case["key"] for case in VECTORS["cases"]]
    (tmp_path / "keys.txt").write_text(
        "\n".join(base64.b64encode(key.encode()).decode() for key in keys) + "\n", encoding="ascii"
    )
    result = subprocess.run(
        [java, "-cp", str(tmp_path), "Main", "test-2025", json.dumps(jwk), str(tmp_path / "keys.txt")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcomes = result.stdout.split()
    assert len(outcomes) == len(keys)
    for case, outcome in zip(VECTORS["cases"], outcomes, strict=True):
        assert outcome == ("GENUINE" if genuine(case["key"], "test-2025", public_key) else "REFUSED"), case[
            "name"
        ]
    assert outcomes.count("GENUINE") > 40


def test_verifier_library_imports_only_the_standard_library_and_cryptography():
    for path in (ROOT / "src" / "mercato" / "licensing").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0 and node.module is not None, path
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
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
        in {"fastapi", "sqlalchemy", "pydantic", "babel", "starlette", "jinja2", "typer"}
    ]
    assert [name for name in loaded if name.startswith("mercato")] == [
        "mercato",
        "mercato.licensing",
        "mercato.licensing.claims",
        "mercato.licensing.keys",
        "mercato.licensing.verify",
    ]
