"""The day-one runbook of docs/operating.md, run as an operator would paste it: its ``sh`` blocks in order, in one
bash session, in an empty directory, with ``set -euo pipefail`` so that a failing step fails the test."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mail.smtp_server import SmtpTestServer
from test_docs_shell_examples import DOCS, MARK, _free_port, examples

SECTION = "## Day one: a runbook"


def runbook() -> list[str]:
    """The commands of each ``sh`` block of the runbook section, in order."""
    document = (DOCS / "operating.md").read_text(encoding="utf-8")
    start = document.index(SECTION)
    following = document.find("\n## ", start + len(SECTION))
    section = document[start : following if following != -1 else len(document)]
    return [example.commands for example in examples(section)]


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    server = SmtpTestServer().start()
    yield server
    server.stop()


def test_the_day_one_runbook_runs_from_an_empty_directory(
    tmp_path: Path, smtp_server: SmtpTestServer
) -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            if os.environ.get("CI"):
                pytest.fail(f"the runbook uses {tool}, which is not installed")
            pytest.skip(f"the runbook uses {tool}, which is not installed")
    blocks = runbook()
    assert len(blocks) >= 6, "the runbook lost its steps"
    port = str(_free_port())
    script = ["set -euo pipefail", "exec 2>&1"]
    for number, commands in enumerate(blocks):
        # The server on a free port, and the test's own mail relay where the runbook names the local one.
        commands = re.sub(r"(?<=:)8000\b|(?<=--port )8000\b", port, commands)
        commands = commands.replace("MERCATO_SMTP_HOST=localhost", "MERCATO_SMTP_HOST=127.0.0.1")
        commands = commands.replace("MERCATO_SMTP_PORT=25", f"MERCATO_SMTP_PORT={smtp_server.port}")
        script += [commands, f"echo; echo '{MARK.format(number)}'"]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MERCATO_")}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    bash = subprocess.Popen(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the server it starts goes with it
    )
    try:
        output, _ = bash.communicate(timeout=240)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(bash.pid, signal.SIGTERM)
    outputs = re.split(r"^@@@ end of block \d+ @@@\n", output, flags=re.MULTILINE)
    assert bash.returncode == 0, (
        f"runbook block {len(outputs)} of {len(blocks)} failed (exit {bash.returncode}):\n{outputs[-1][-3000:]}"
    )
    said = " ".join(output.split())
    assert '["ops@example.com",true]' in outputs[3]  # the API knows the operator by the token made for them
    assert (tmp_path / "operator.token").read_text().startswith("mct_")
    assert "All is well." in said
    assert "Created customer Acme Corp (acme)" in said
    backups = sorted(path.name for path in (tmp_path / "backups").iterdir())
    assert len(backups) == 2 and "before-upgrade.db" in backups
    assert "Restored the SQLite file" in said
