"""Idempotent writes: a request that carries an ``Idempotency-Key`` is performed once; a retry with the same key
gets the very answer the first one got, also when the two arrive at the same time.

The key is *claimed* before the work starts: a row (scope, key) is inserted in a savepoint of the request's
transaction. A concurrent request with the same key blocks on that row's unique index until the first commits
(PostgreSQL) or waits for the write lock (SQLite), then finds it and replays its answer. The answer is stored in
the claim in the same transaction as the work, so it exists exactly when the work was committed. A key reused for
a different request is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from mercato.clock import Clock
from mercato.commerce.errors import IdempotencyKeyReused
from mercato.commerce.models import IdempotentRequest
from mercato.commerce.repository import CommerceRepository


@dataclass(frozen=True)
class Answer:
    """What the caller answers: the status code and body, first-time or replayed."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def request_fingerprint(*parts: object) -> str:
    """A stable hash of what a request asks for, to tell a retry from another request under the same key."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class Idempotency:
    def __init__(self, repo: CommerceRepository, clock: Clock) -> None:
        self.repo = repo
        self.session = repo.session
        self.clock = clock
        """Stamps the claim: the server's clock, as every row a service writes."""

    def run(
        self,
        scope: str,
        key: str | None,
        fingerprint: str,
        what: str,
        perform: Callable[[], Answer],
    ) -> Answer:
        """``perform`` once per (scope, key). ``what`` ends the refusal of a reused key: "The Idempotency-Key
        'k' was already used {what}." """
        if key is None:
            return perform()
        remembered = self.repo.idempotent_request(scope, key)
        if remembered is None:
            claim = IdempotentRequest(
                scope=scope,
                key=key,
                request_hash=fingerprint,
                status_code=0,
                response={},
                created_at=self.clock.now(),
            )
            try:
                with self.session.begin_nested():
                    self.session.add(claim)
            except IntegrityError:
                # Another request with this key committed first (we waited for it on the unique index).
                remembered = self.repo.idempotent_request(scope, key)
                assert remembered is not None
            else:
                answer = perform()
                claim.status_code, claim.response = answer.status_code, answer.body
                self.session.flush()
                return answer
        if remembered.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                f"The Idempotency-Key {key!r} was already used {what}. Use a new key for each request."
            )
        return Answer(remembered.status_code, remembered.response, replayed=True)
