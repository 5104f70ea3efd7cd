"""Failed sign-ins are throttled per account and per client address, so a password cannot be guessed at speed
and one address cannot spray many accounts. Only failures count towards the limits; once one is spent, every
attempt waits (the right password too, or guessing could go on behind it). Counts live in the ``limits``
storage the settings name (memory of this process by default; a ``redis://`` URI shares them between server
processes)."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from mercato.problems import Problem


class TooManySignIns(Problem):
    status = 429
    type = "too-many-sign-ins"
    title = "Too many failed sign-ins"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class SignInThrottle:
    def __init__(self, storage_uri: str, per_account: str, per_address: str) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.per_account = parse(per_account)
        self.per_address = parse(per_address)

    def check(self, email: str, address: str) -> None:
        """Refuse the attempt, before the password is looked at, when either limit is spent."""
        for limit, key in ((self.per_account, _account(email)), (self.per_address, f"address:{address}")):
            if not self.limiter.test(limit, key):
                reset_at, _ = self.limiter.get_window_stats(limit, key)
                # The limiter's windows run on the wall clock, so the wait is measured on it too.
                wait = max(1, math.ceil(reset_at - time.time()))  # noqa: TID251
                raise TooManySignIns(
                    f"Too many failed sign-ins; try again in {wait} seconds. If you forgot the password, ask "
                    "an admin of your organisation to set a new one.",
                    retry_after=wait,
                )

    def failed(self, email: str, address: str) -> None:
        self.limiter.hit(self.per_account, _account(email))
        self.limiter.hit(self.per_address, f"address:{address}")


def _account(email: str) -> str:
    return "account:" + email.strip().lower()
