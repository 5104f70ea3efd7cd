"""The shell examples of docs/buying.md, docs/accounts.md, docs/api.md, docs/vendors.md, docs/listing-apps.md and
docs/importing.md, pasted in order into one bash session, work against a live ``mercato serve --demo`` on a
fresh SQLite file, and answer what the docs show.

Each document is run as a reader would paste it: its ``sh`` blocks in order, from the set-up block that starts
the server (on a free port instead of 8000) to the last block, with ``set -euo pipefail`` so that a failing
command stops the run. A ``json`` block right after an ``sh`` block is that block's output and is compared with
what the server answered:

- an object lists exactly the answer's members, unless it holds a ``"…"`` member (then the answer may have
  more); a list ending in ``"…"`` shows the first items only;
- words (strings without digits, API paths) and booleans, nulls and numbers must be equal; strings with digits
  (ids, dates, amounts, sentences with numbers) and strings holding ``…`` may differ, since ids and today's date
  differ from the day the examples were written, but must be strings.

A plain block after an ``sh`` block is command output: its first word (a verdict such as ``VALID``) must match.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```(?P<lang>[a-z]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
MARK = "@@@ end of block {} @@@"
ELLIPSES = ("…", "...")


@dataclass(frozen=True)
class Example:
    line: int  # where the sh block starts in the document
    commands: str
    expected_lang: str | None
    expected: str | None


def examples(document: str) -> list[Example]:
    blocks = list(BLOCK.finditer(document))
    found = []
    for index, block in enumerate(blocks):
        if block["lang"] != "sh":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        adjacent = following is not None and not document[block.end() : following.start()].strip()
        found.append(
            Example(
                line=document.count("\n", 0, block.start()) + 1,
                commands=block["body"],
                expected_lang=following["lang"] if adjacent and following else None,
                expected=following["body"] if adjacent and following and following["lang"] != "sh" else None,
            )
        )
    return found


def json_values(text: str) -> list[Any]:
    """Every JSON value in ``text``, one after the other (``jq -c`` prints one per line)."""
    decoder, values, position = json.JSONDecoder(), [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return values
        value, position = decoder.raw_decode(text, position)
        values.append(value)


def mismatches(shown: Any, answered: Any, where: str = "$") -> list[str]:
    """How ``answered`` differs from what the document shows (see the module docstring)."""
    if isinstance(shown, dict):
        if not isinstance(answered, dict):
            return [f"{where}: the docs show an object, the server answered {answered!r:.80}"]
        found = []
        keys = [key for key in shown if key not in ELLIPSES]
        found += [f"{where}.{key}: not in the answer" for key in keys if key not in answered]
        if len(keys) == len(shown):
            found += [
                f'{where}.{key}: answered but not shown (add it, or "…")'
                for key in answered
                if key not in shown
            ]
        for key in keys:
            if key in answered:
                found += mismatches(shown[key], answered[key], f"{where}.{key}")
        return found
    if isinstance(shown, list):
        if not isinstance(answered, list):
            return [f"{where}: the docs show a list, the server answered {answered!r:.80}"]
        items = [item for item in shown if item not in ELLIPSES]
        if len(items) == len(shown) and len(answered) != len(shown):
            return [f"{where}: {len(shown)} items shown, {len(answered)} answered"]
        if len(answered) < len(items):
            return [f"{where}: {len(items)} items shown, only {len(answered)} answered"]
        return [m for n, item in enumerate(items) for m in mismatches(item, answered[n], f"{where}[{n}]")]
    if isinstance(shown, str) and _may_differ(shown):
        return [] if isinstance(answered, str) else [f"{where}: shown a string, answered {answered!r}"]
    if shown != answered or type(shown) is not type(answered):
        return [f"{where}: shown {shown!r}, answered {answered!r}"]
    return []


def _may_differ(text: str) -> bool:
    """Ids, keys, dates, amounts and sentences with numbers differ from machine to machine and day to day; words
    and API paths (``/api/v1/problems/conflict``) do not."""
    return any(ellipsis in text for ellipsis in ELLIPSES) or any(
        c.isdigit() for c in text.replace("/api/v1/", "")
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_document(name: str, workdir: Path) -> tuple[list[Example], list[str]]:
    """Run every sh block of ``docs/<name>`` in one bash session; the examples and each one's output."""
    document = (DOCS / name).read_text(encoding="utf-8")
    found = examples(document)
    port = str(_free_port())
    # Standard error too, as a reader sees it: `mercato license check` prints its verdict there.
    script = ["set -euo pipefail", "exec 2>&1"]
    for number, example in enumerate(found):
        commands = re.sub(r"(?<=:)8000\b|(?<=--port )8000\b", port, example.commands)
        script += [commands, f"echo; echo '{MARK.format(number)}'"]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MERCATO_")}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    bash = subprocess.Popen(
        ["bash", "-c", "\n".join(script)],
        cwd=workdir,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the server it starts goes with it
    )
    try:
        stdout, _ = bash.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(bash.pid, signal.SIGTERM)
    outputs = re.split(r"^@@@ end of block \d+ @@@\n", stdout, flags=re.MULTILINE)
    if bash.returncode != 0:
        failed = found[len(outputs) - 1] if len(outputs) - 1 < len(found) else None
        where = f"the block at docs/{name}:{failed.line}" if failed else "the script"
        pytest.fail(f"{where} failed (exit {bash.returncode}); its output:\n{outputs[-1][-3000:]}")
    return found, outputs


@pytest.mark.parametrize(
    "name",
    [
        "api.md",
        "accounts.md",
        "buying.md",
        "vendors.md",
        "listing-apps.md",
        "migration.md",
        "importing.md",
    ],
)
def test_the_shell_examples_run_in_order_and_answer_what_the_docs_show(name: str, tmp_path: Path) -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            message = f"the examples use {tool}, which is not installed (apt-get install {tool})"
            if os.environ.get("CI"):  # CI installs them (.ci/run): a skip there would hide drifted docs
                pytest.fail(message)
            pytest.skip(message)
    found, outputs = run_document(name, tmp_path)
    assert sum(example.expected is not None for example in found) >= 3, "examples show no answers to compare"
    problems = []
    for example, output in zip(found, outputs, strict=False):
        if example.expected is None:
            continue
        where = f"docs/{name}:{example.line}"
        if example.expected_lang == "json":
            shown, answered = json_values(example.expected), json_values(output)
            if len(shown) != len(answered):
                problems.append(
                    f"{where}: {len(shown)} JSON values shown, {len(answered)} answered:\n{output[:500]}"
                )
                continue
            for one_shown, one_answered in zip(shown, answered, strict=True):
                problems += [f"{where}: {m}" for m in mismatches(one_shown, one_answered)]
        else:
            shown_words, answered_words = example.expected.split()[:1], output.split()[:1]
            if shown_words != answered_words:
                problems.append(f"{where}: shown {shown_words}, answered {answered_words}")
    assert not problems, "The docs drifted from what the server answers:\n" + "\n".join(problems)


def test_the_comparison_catches_drift() -> None:
    assert mismatches({"status": "open", "…": "…"}, {"status": "paid", "id": 1}) == [
        "$.status: shown 'open', answered 'paid'"
    ]
    assert mismatches({"id": "01e8-…", "total": "1100.00"}, {"id": "x", "total": "99.00"}) == []
    assert mismatches({"a": 1}, {"a": 1, "b": 2}) == ['$.b: answered but not shown (add it, or "…")']
    assert mismatches([{"a": 1}, "…"], [{"a": 1}, {"a": 2}]) == []
    assert mismatches([{"a": 1}], [{"a": 1}, {"a": 2}]) == ["$: 1 items shown, 2 answered"]
    assert mismatches({"type": "/api/v1/problems/conflict"}, {"type": "/api/v1/problems/changed-since-sale"})
