"""``mercato worker --once`` that gets killed with SIGKILL (what ``kill -9`` sends) the moment its first claim has
committed, before it attempts anything. Arguments are passed on to ``mercato worker --once``.

The worker, its database and its claim are real; only the moment of the crash is chosen, so that a test can
crash a worker after each claim instead of hoping that an outside ``kill -9`` lands between claim and delivery.
"""

from __future__ import annotations

import os
import signal
import sys

from mercato.cli import app
from mercato.outbox.worker import Claim, OutboxWorker

claim = OutboxWorker.claim


def claim_then_get_killed(self: OutboxWorker) -> Claim:
    claimed = claim(self)
    if claimed.messages:
        os.kill(os.getpid(), signal.SIGKILL)
    return claimed


if __name__ == "__main__":
    OutboxWorker.claim = claim_then_get_killed
    app(["worker", "--once", *sys.argv[1:]])
