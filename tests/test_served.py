"""Real HTTP against ``mercato serve --demo``, the command behind ``make run``, on a fresh SQLite file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("served")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}


MERCATO = Path(sys.executable).with_name("mercato")
LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


@pytest.fixture(scope="module")
def served(workdir: Path) -> Iterator[str]:
    # Port 0: the server listens on a port the system picks, and says which in its log.
    process = subprocess.Popen(
        [str(MERCATO), "serve", "--demo"],
        cwd=workdir,
        env={**_clean_env(), "MERCATO_PORT": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    port: list[int] = []
    listening = threading.Event()

    def read_output() -> None:  # to the end, so the server never blocks on a full pipe
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if not port and (found := LISTENING.search(line)):
                port.append(int(found.group(1)))
                listening.set()
        listening.set()

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        listening.wait(timeout=30)
        if not port:
            pytest.fail("mercato serve did not start listening within 30 s:\n" + "".join(output))
        base = f"http://127.0.0.1:{port[0]}"
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=10)
    assert (workdir / "mercato.db").exists(), "the default database is a SQLite file in the working directory"


def test_healthz_answers_200(served: str) -> None:
    assert httpx.get(f"{served}/healthz").json() == {"status": "ok"}


def test_demo_catalog_is_served(served: str) -> None:
    app = httpx.get(f"{served}/api/v1/apps/com.example.mockups.tracker").json()
    assert app["vendor"]["slug"] == "example-mockups"


def test_openapi_document_and_docs_are_served(served: str) -> None:
    document = httpx.get(f"{served}/api/v1/openapi.json").json()
    assert {"/api/v1/apps", "/api/v1/apps/{app_key}", "/api/v1/pricing/preview"} <= set(document["paths"])
    for path in document["paths"].values():
        for operation in path.values():
            assert operation.get("description"), (
                f"{operation.get('operationId')} has no description for people"
            )
    assert httpx.get(f"{served}/api/docs").status_code == 200


def test_loading_demo_data_again_changes_nothing(served: str, workdir: Path) -> None:
    before = httpx.get(f"{served}/api/v1/apps").json()
    result = subprocess.run(
        [str(MERCATO), "demo"], cwd=workdir, env=_clean_env(), capture_output=True, text=True, check=True
    )
    assert "nothing loaded" in result.stderr
    assert httpx.get(f"{served}/api/v1/apps").json() == before


def test_validate_api_over_http_on_the_default_database(served: str, workdir: Path) -> None:
    issued = subprocess.run(
        [
            str(MERCATO),
            "license",
            "issue",
            "--app",
            "com.example.mockups.tracker",
            "--hosting",
            "server",
            "--channel",
            "direct",
            "--tier",
            "25",
            "--type",
            "commercial",
            "--server-id",
            "SRV-HTTP",
            "--maintenance-end",
            "2030-01-01",
        ],
        cwd=workdir,
        env=_clean_env() | {"MERCATO_DEMO": "true"},  # the demo's public secret, as `serve --demo` uses it
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Demo mode" in issued.stderr
    body = {
        "key": issued.stdout.strip(),
        "app_key": "com.example.mockups.tracker",
        "hosting": "server",
        "server_id": "SRV-HTTP",
        "host_tier": "100",
        "host_license_type": "commercial",
        "app_users": 25,
    }
    verdict = httpx.post(f"{served}/api/v1/licenses/validate", json=body).json()
    assert verdict["status"] == "VALID", verdict
    assert verdict["server"]["key_state"] == "current"
    too_many = httpx.post(f"{served}/api/v1/licenses/validate", json={**body, "app_users": 26}).json()
    assert too_many["status"] == "USERS_EXCEEDED"
