"""``mercato billing run`` on the database that ``make run`` leaves in the working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MERCATO = Path(sys.executable).with_name("mercato")


def test_billing_run_reports_what_it_did_and_is_safe_to_repeat(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")}

    def mercato(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(MERCATO), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )

    assert mercato("demo").returncode == 0
    first = mercato("billing", "run", "--today", "2027-12-01")
    assert first.returncode == 0, first.stderr
    assert "Billing run for 2027-12-01" in first.stderr
    again = mercato("billing", "run", "--today", "2027-12-01")
    assert again.returncode == 0
    said = " ".join(again.stderr.split())  # Rich wraps long lines to the terminal's width
    assert "0 renewal invoice(s), 0 suspended, 0 unlicensed, 0 expired, 0 with lapsed maintenance" in said
    assert mercato("billing", "run", "--today", "someday").returncode == 2
