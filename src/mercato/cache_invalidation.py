"""Caches that forget at once, in the process that made the change.

The validate hot path keeps what it read (key standings for a few seconds, the trusted keys for longer).
A change that makes them wrong (a refund, a revocation, a reissue, a signing key retired) marks its session;
when that session commits, every cache of this process registered for the topic forgets. Other processes
forget within their cache time (docs/security.md). Marked in the transaction, acted on after the commit: a
change that rolls back leaves the caches as they were, and nothing is re-read before the change is visible.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from enum import StrEnum

from sqlalchemy import event
from sqlalchemy.orm import Session


class Topic(StrEnum):
    KEY_STANDINGS = "key-standings"  # revoked, superseded, suspended, cancelled
    SIGNING_KEYS = "signing-keys"  # rotated, retired


_forgetters: dict[Topic, weakref.WeakSet[object]] = {topic: weakref.WeakSet() for topic in Topic}
_INFO_KEY = "mercato.changed"


def register(topic: Topic, cache: object, forget: Callable[[], None]) -> None:
    """Call ``forget`` whenever a change of ``topic`` commits in this process (while ``cache`` lives)."""
    setattr(cache, f"_forget_{topic.name.lower()}", forget)
    _forgetters[topic].add(cache)


def changed(session: Session, topic: Topic) -> None:
    """Say that this session's transaction changes what caches of ``topic`` hold."""
    session.info.setdefault(_INFO_KEY, set()).add(topic)


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    for topic in session.info.pop(_INFO_KEY, ()):
        for cache in list(_forgetters[topic]):
            getattr(cache, f"_forget_{topic.name.lower()}")()


@event.listens_for(Session, "after_soft_rollback")
def _nothing_changed(session: Session, previous_transaction: object) -> None:
    session.info.pop(_INFO_KEY, None)
