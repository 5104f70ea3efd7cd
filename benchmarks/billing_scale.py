"""``mercato billing run`` over N licenses on PostgreSQL, as a ratio to a raw-SQL floor doing the same writes.

Generates a database of N licenses with ``scale_data`` (10 % of them due on its day: cloud renewals, dunning,
expiries, lapsed maintenance), or takes one already generated with ``--url``. Then:

- the floor: in one transaction, for each due license, one raw-SQL ``UPDATE`` of its row and one ``INSERT`` of
  a row into a scratch table, one statement at a time as a hand-written job would; then rolled back;
- the run: ``mercato billing run --today DAY --json`` in a process of its own, timed wall-clock, counting
  every statement it sends (the command is started through this script, which counts them with an engine
  event before handing over to the command line);
- the run again on the same day: it must change nothing; how long that no-op run takes.

Prints due licenses, seconds, statements per due license, milliseconds per due license and the ratio to the
floor (target: within 10x at every N). ``--timeout`` stops a run that takes longer and reports how far it got.
Not a test: run it by hand.

    .venv/bin/python benchmarks/billing_scale.py --licenses 100000
    .venv/bin/python benchmarks/billing_scale.py --licenses 1000000 --timeout 1800 --keep
    .venv/bin/python benchmarks/billing_scale.py --url postgresql+psycopg://postgres@127.0.0.1/mercato_bench_scale_0a1b2c3d
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))

import scale_data  # a sibling script, not a package
from mercato.database import make_engine

# What the run must do on DAY, in SQL: the licenses scale_data made due (the lapses of server maintenance
# count only where no lapse of that end is recorded yet, which is every one on a fresh database).
DUE_LICENSES = """
SELECT l.id, CASE
    WHEN l.hosting = 'cloud' AND l.term_end = :day THEN 'renewal'
    WHEN l.hosting = 'cloud' AND l.term_end < :day - 30 THEN 'unlicensed'
    WHEN l.hosting = 'cloud' AND l.term_end < :day - 15 THEN 'suspension'
    WHEN l.hosting = 'server' AND NOT l.evaluation THEN 'lapse'
    ELSE 'expiry' END AS kind
FROM licenses l LEFT JOIN host_instances h ON h.id = l.host_instance_id
WHERE l.status IN ('active', 'suspended') AND (
    (l.hosting = 'cloud' AND l.channel = 'marketplace' AND NOT l.evaluation AND l.status = 'active'
        AND l.term_end = :day AND h.next_billing_date <= :day)
    OR (l.hosting = 'cloud' AND NOT l.evaluation AND l.term_end < :day - 30)
    OR (l.hosting = 'cloud' AND NOT l.evaluation AND l.status = 'active' AND l.term_end < :day - 15)
    OR ((l.evaluation OR l.hosting = 'datacenter') AND l.status = 'active' AND l.term_end < :day)
    OR (l.hosting = 'server' AND NOT l.evaluation AND l.maintenance_end < :day AND NOT EXISTS (
        SELECT 1 FROM license_transactions t WHERE t.license_id = l.id AND t.kind = 'maintenance_lapsed'
            AND t.once_key = 'maintenance_lapsed:' || l.maintenance_end::text))
)
ORDER BY l.created_at
"""

# What a second run must leave as it found it.
FOOTPRINT = """
SELECT (SELECT count(*) FROM invoices), (SELECT count(*) FROM quotes),
       (SELECT count(*) FROM license_transactions), (SELECT count(*) FROM cloud_renewals),
       (SELECT count(*) FROM outbox_messages),
       (SELECT count(*) FROM licenses WHERE status = 'active'),
       (SELECT count(*) FROM licenses WHERE status = 'suspended'),
       (SELECT count(*) FROM licenses WHERE status = 'expired'),
       (SELECT md5(string_agg(id::text || coalesce(next_billing_date::text, ''), ',' ORDER BY id))
        FROM host_instances)
"""


@dataclass
class RunResult:
    seconds: float
    """Wall clock of the process, from its start (Python and Mercato's modules load in a few seconds)."""
    command_seconds: float
    """The command itself, once loaded."""
    statements: int
    finished: bool
    report: dict[str, Any]
    last_output: str


def due_licenses(engine: Engine) -> list[tuple[Any, str]]:
    with engine.connect() as connection:
        rows = connection.execute(text(DUE_LICENSES), {"day": scale_data.DAY})
        return [(row.id, row.kind) for row in rows]


def floor(url: str, due: list[tuple[Any, str]]) -> float:
    """One UPDATE and one INSERT per due license, one statement at a time, in one transaction rolled back."""
    libpq_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE billing_floor (license_id uuid, kind text, on_day date, done_at timestamptz)"
        )
        connection.commit()
        began = time.perf_counter()
        for license_id, kind in due:
            cursor.execute(
                "UPDATE licenses SET status = status, updated_at = now() WHERE id = %s", (license_id,)
            )
            cursor.execute(
                "INSERT INTO billing_floor (license_id, kind, on_day, done_at) VALUES (%s, %s, %s, now())",
                (license_id, kind, scale_data.DAY),
            )
        seconds = time.perf_counter() - began
        connection.rollback()
    return seconds


def run_billing(url: str, timeout: float, profile: Path | None = None, jobs: int = 1) -> RunResult:
    """``mercato billing run --today DAY --json [--jobs N]`` in a process of its own, counting the statements it
    sends (with jobs, only its own: the jobs' processes send theirs uncounted)."""
    with tempfile.TemporaryDirectory() as directory:
        counts = Path(directory) / "statements"
        output = Path(directory) / "stderr"
        env = dict(
            os.environ,
            MERCATO_DATABASE_URL=url,
            MERCATO_SECRET_KEY=scale_data.SECRET,
            MERCATO_BENCH_STATEMENTS=str(counts),
            # No statement of the run may be cut short by the deployment's default timeout.
            MERCATO_DATABASE_STATEMENT_TIMEOUT_SECONDS="3600",
            COLUMNS="120",
        )
        if profile is not None:
            env["MERCATO_BENCH_PROFILE"] = str(profile)
        command = [sys.executable, __file__, "--as-command", "billing", "run", "--today", str(scale_data.DAY)]
        began = time.perf_counter()
        with output.open("w") as stderr:
            process = subprocess.Popen(
                [*command, "--json", "--jobs", str(jobs)], env=env, stdout=subprocess.PIPE, stderr=stderr
            )
            try:
                stdout, _ = process.communicate(timeout=timeout)
                finished = True
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, _ = process.communicate()
                finished = False
        seconds = time.perf_counter() - began
        counted = json.loads(counts.read_text()) if counts.exists() else {"statements": 0, "seconds": 0.0}
        tail = output.read_text().strip().splitlines()
        last = tail[-1] if tail else ""
        if finished and process.returncode != 0:
            raise RuntimeError(f"billing run failed ({process.returncode}): {output.read_text()[-2000:]}")
        report = json.loads(stdout) if finished else {}
    return RunResult(seconds, counted["seconds"], counted["statements"], finished, report, last)


def footprint(engine: Engine) -> tuple[Any, ...]:
    with engine.connect() as connection:
        return tuple(connection.execute(text(FOOTPRINT)).one())


def progress(engine: Engine) -> str:
    """What an interrupted run committed: the renewals (one transaction per site; the sweep is one)."""
    with engine.connect() as connection:
        renewals = connection.scalar(
            text("SELECT count(*) FROM cloud_renewals WHERE billing_date = :day"), {"day": scale_data.DAY}
        )
        changes = connection.scalar(
            text("SELECT count(*) FROM license_transactions WHERE once_key IS NOT NULL")
        )
    return f"{renewals:,} site renewals and {changes:,} license state changes committed"


def _counted_command(arguments: list[str]) -> int:
    """Run ``mercato ARGUMENTS`` in this process, counting every statement sent to the database; the count is
    written to $MERCATO_BENCH_STATEMENTS every second and at the end, so that a run stopped early tells how
    far it got."""
    from mercato.cli import app

    count = [0]

    @event.listens_for(Engine, "before_cursor_execute")
    def counted(*_: object) -> None:
        count[0] += 1

    path = Path(os.environ["MERCATO_BENCH_STATEMENTS"])
    measured = {"began": time.perf_counter()}

    def write() -> None:
        path.write_text(
            json.dumps({"statements": count[0], "seconds": time.perf_counter() - measured["began"]})
        )

    def keep_writing() -> None:
        while True:
            time.sleep(1)
            write()

    threading.Thread(target=keep_writing, daemon=True).start()
    profile_path = os.environ.get("MERCATO_BENCH_PROFILE")
    profiler = cProfile.Profile() if profile_path else None
    try:
        if profiler is not None:
            profiler.enable()
        measured["began"] = time.perf_counter()  # the command itself, once Python and Mercato have loaded
        app(arguments, standalone_mode=False)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_path)
        write()
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--as-command":
        return _counted_command(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--licenses", type=int, default=100_000)
    parser.add_argument("--url", help="a database generated by scale_data.py --keep (not billed yet)")
    parser.add_argument(
        "--timeout", type=float, default=3600, help="stop the billing run after this many seconds"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and print its URL")
    parser.add_argument(
        "--floor-rounds", type=int, default=3, help="measure the floor this many times, keep the best"
    )
    parser.add_argument("--profile", type=Path, help="write the first run's cProfile statistics to this file")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="billing run --jobs: processes that bill at once (statements uncounted)",
    )
    args = parser.parse_args()
    name = None
    if args.url:
        url = args.url
    else:
        url, name = scale_data.create_database()
    try:
        if not args.url:
            data = scale_data.prepare(url, args.licenses)
            print(scale_data.describe(data))
        return measure(url, args.timeout, args.profile, args.floor_rounds, args.jobs)
    finally:
        if name is not None:
            if args.keep:
                print(f"kept database {url}")
            else:
                scale_data.drop_database(name)


def measure(url: str, timeout: float, profile: Path | None, floor_rounds: int = 3, jobs: int = 1) -> int:
    engine = make_engine(url, scale_data.TIMEOUTS)
    licenses = 0
    with engine.connect() as connection:
        licenses = connection.scalar(text("SELECT count(*) FROM licenses")) or 0
    due = due_licenses(engine)
    if not due:
        print("nothing is due on the database's day: was it billed already?")
        return 1
    kinds: dict[str, int] = {}
    for _, kind in due:
        kinds[kind] = kinds.get(kind, 0) + 1
    floor_seconds = min(floor(url, due) for _ in range(floor_rounds))
    print(
        f"{licenses:,} licenses, {len(due):,} due on {scale_data.DAY} "
        f"({', '.join(f'{n:,} {k}' for k, n in sorted(kinds.items()))})"
    )
    print(
        f"floor (UPDATE + INSERT per due license, best of {floor_rounds}): {floor_seconds:8.2f} s  "
        f"{floor_seconds / len(due) * 1000:6.3f} ms per due license"
    )
    first = run_billing(url, timeout, profile, jobs)
    if not first.finished:
        print(
            f"billing run: did not finish in {timeout:.0f} s; {first.statements:,} statements sent by then, "
            f"{progress(engine)}" + (f"; last output: {first.last_output!r}" if first.last_output else "")
        )
        engine.dispose()
        return 1
    report = first.report
    done = {
        "renewal invoices": len(report["renewal_invoices"]),
        "suspended": len(report["suspended"]),
        "unlicensed": len(report["unlicensed"]),
        "expired": len(report["expired"]),
        "maintenance lapsed": len(report["maintenance_lapsed"]),
        "reminders": len(report["renewal_reminders"]),
    }
    changed_licenses = sum(v for k, v in done.items() if k not in ("renewal invoices", "reminders"))
    print(f"billing run did: {', '.join(f'{n:,} {k}' for k, n in done.items())}")
    expected = len(due) - kinds.get("renewal", 0)
    if changed_licenses != expected:
        print(f"  expected {expected:,} license state changes, the run made {changed_licenses:,}")
    ratio = first.command_seconds / floor_seconds
    per_due = len(due)
    statements = (
        f"{first.statements / per_due:5.2f} statements per due license ({first.statements:,})"
        if jobs == 1
        else f"{jobs} jobs (their statements uncounted)"
    )
    print(
        f"billing run, the command once loaded:             {first.command_seconds:8.2f} s  "
        f"{first.command_seconds / per_due * 1000:6.3f} ms per due license  {statements}  "
        f"ratio {ratio:6.1f}  (target <= 10)"
    )
    print(
        f"billing run, process wall clock:                  {first.seconds:8.2f} s  "
        f"ratio {first.seconds / floor_seconds:6.1f}"
    )
    before = footprint(engine)
    second = run_billing(url, timeout)
    after = footprint(engine)
    unchanged = before == after and not any(
        second.report.get(k)
        for k in ("renewal_invoices", "suspended", "unlicensed", "expired", "maintenance_lapsed")
    )
    print(
        f"second run on the same day, the command:          {second.command_seconds:8.2f} s  "
        f"(process {second.seconds:.2f} s)  {second.statements:,} statements  "
        f"{'changed nothing' if unchanged else 'CHANGED SOMETHING'}"
    )
    engine.dispose()
    if profile is not None:
        stats = pstats.Stats(str(profile))
        stats.sort_stats("cumulative").print_stats(30)
    # The exit status says whether the run works (a second run changes nothing), not whether it met its
    # target: the ratio is printed beside the target for people to read.
    return 0 if unchanged else 1


if __name__ == "__main__":
    sys.exit(main())
