"""One billing run at a time per database, however many hosts' cron start one.

PostgreSQL: a session-level advisory lock, held on a connection of its own for the whole run and released by
the server if the process dies. SQLite: an exclusive ``flock`` on a file beside the database, released by the
operating system if the process dies. A run that finds the lock taken says so and waits for it.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

# Any fixed 64-bit number names the lock; this one spells "billing" in ASCII.
BILLING_LOCK_ID = 0x62696C6C696E67


@contextmanager
def billing_run_lock(engine: Engine, on_wait: Callable[[], None]) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            if not connection.scalar(text("SELECT pg_try_advisory_lock(:id)"), {"id": BILLING_LOCK_ID}):
                on_wait()
                connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": BILLING_LOCK_ID})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": BILLING_LOCK_ID})
        return
    database = engine.url.database
    lock_path = Path(f"{database}.billing-lock") if database and database != ":memory:" else None
    if lock_path is None:
        yield
        return
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
