"""A ``Clock`` that every process of a deployment shares, in the manner of Kill Bill's and Stripe's test clocks.

While the test clock is set (``PUT /api/v1/test-clock``, ``mercato clock set``), every rule that reads the time
(quote validity, the refund window, the billing run, validation's grace periods and expiry) sees the moment it
was set to; reset, the system clock counts again. It exists only where the operator enabled it
(``MERCATO_TEST_CLOCK=true``, or ``mercato serve --demo``): a production deployment cannot be moved.

The moment is kept in the database, so the server, the worker and ``mercato billing run`` agree. A process reads
it at most once every ``CACHE_SECONDS``; the process that moves it sees the change at once.
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from mercato.clock import SystemClock, utcnow
from mercato.database import ReadConnections
from mercato.testclock.models import TestClockSetting

CACHE_SECONDS = 1.0
_table = TestClockSetting.__table__


class SharedTestClock:
    __test__ = False  # not a pytest test class

    def __init__(self, connections: ReadConnections) -> None:
        self.connections = connections
        self.system = SystemClock()
        self._lock = threading.Lock()
        self._frozen_at: datetime | None = None
        self._read_at = float("-inf")

    def now(self) -> datetime:
        with self._lock:
            if time.monotonic() - self._read_at > CACHE_SECONDS:
                with self.connections() as connection:
                    self._frozen_at = frozen_moment(connection)
                self._read_at = time.monotonic()
            frozen = self._frozen_at
        return frozen if frozen is not None else self.system.now()

    def today(self) -> date:
        return self.now().date()

    def is_frozen(self) -> bool:
        self.now()
        return self._frozen_at is not None

    def forget(self) -> None:
        """Read the moment again at the next ``now`` (after this process moved the clock)."""
        with self._lock:
            self._read_at = float("-inf")


def frozen_moment(connection: Connection) -> datetime | None:
    moment: datetime | None = connection.scalar(select(_table.c.frozen_at).where(_table.c.id == 1))
    return moment


def set_frozen_moment(session: Session, moment: datetime) -> None:
    """Freeze the deployment's clock at ``moment`` (in the caller's transaction)."""
    session.execute(delete(TestClockSetting))
    session.add(TestClockSetting(id=1, frozen_at=moment, set_at=utcnow()))
    session.flush()


def clear_frozen_moment(session: Session) -> None:
    """Let the system clock count again (in the caller's transaction)."""
    session.execute(delete(TestClockSetting))
