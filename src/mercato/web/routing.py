"""How endpoints run their unit of work.

A sync endpoint runs in a worker thread, and FastAPI validates its response in another worker-thread hop
before the session dependency's exit runs. If the commit waited until then, the transaction (and its locks:
SQLite's write lock, PostgreSQL row locks) would be held while waiting for a free worker thread — and when
every worker thread is itself waiting for those locks, nothing moves (seen with 50 concurrent accepts of one
quote). So a sync endpoint ends its unit of work in its own thread: commit when it returns, roll back when it
raises. Nothing of the request's transaction outlives the thread hop that began it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session


def _sessions_of(arguments: Iterable[Any]) -> list[Session]:
    """The request's sessions among an endpoint's arguments: a session itself, or a repository holding one."""
    found: dict[int, Session] = {}
    for value in arguments:
        # A repository's own attribute, not a property: a Request's ``session`` is the cookie session.
        session = value if isinstance(value, Session) else getattr(value, "__dict__", {}).get("session")
        if isinstance(session, Session):
            found[id(session)] = session
    return list(found.values())


def _ending_unit_of_work(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = _sessions_of(kwargs.values())
        try:
            result = endpoint(*args, **kwargs)
        except BaseException:
            for session in sessions:
                session.rollback()
            raise
        for session in sessions:
            session.commit()
        return result

    return run


class UnitOfWorkRoute(APIRoute):
    """The route class of every Mercato router (see the module docstring)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _ending_unit_of_work(endpoint)
        super().__init__(path, endpoint, **kwargs)
