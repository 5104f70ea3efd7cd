"""The ``mercato`` command knows its commands by name and imports one's module only to run it: its help lists
every command, with short help texts kept equal to the commands' own, and imports none of them."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mercato.cli import _COMMANDS, app

EVERY_COMMAND = [
    "doctor",
    "backup",
    "restore",
    "export",
    "import",
    "worker",
    "migrate",
    "demo",
    "serve",
    "keys",
    "license",
    "licenses",
    "billing",
    "catalog",
    "clock",
    "outbox",
    "transitions",
    "users",
    "customers",
    "tokens",
    "vendors",
    "payouts",
    "ledger",
]
"""What ``mercato --help`` listed before the commands were imported lazily, in its order."""


def listed_commands(help_text: str) -> list[str]:
    """The names in the help's Commands panel (``│ name   description │`` rows)."""
    panel = help_text.split("Commands ─", 1)[1]
    names = []
    for line in panel.splitlines()[1:]:
        words = line.strip("│ ").split()
        if line.startswith("│ ") and not line.startswith("│  ") and words:
            names.append(words[0])
    return names


def test_the_help_lists_every_command_in_order() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert listed_commands(result.output) == EVERY_COMMAND


@pytest.mark.parametrize("name", list(_COMMANDS))
def test_a_stored_short_help_is_the_first_paragraph_of_the_commands_help(name: str) -> None:
    command = _COMMANDS[name].load(name)
    assert command.help is not None
    assert _COMMANDS[name].short_help == inspect.cleandoc(command.help).split("\n\n")[0]


_HELP_THEN_COUNT_IMPORTS = """
import json, sys
from mercato.cli import app
try:
    app(["--help"], prog_name="mercato")
except SystemExit:
    pass
print(json.dumps(sorted(name for name in sys.modules if name.startswith("mercato.") or name == "sqlalchemy")))
"""


def test_the_help_imports_no_command() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCATO_")} | {"COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-c", _HELP_THEN_COUNT_IMPORTS], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert listed_commands(result.stdout) == EVERY_COMMAND
    assert json.loads(result.stdout.splitlines()[-1]) == ["mercato.cli", "mercato.lazy_commands"]
