"""Health for load balancers and orchestrators: liveness never touches the database, readiness does.

A process whose database is unreachable is alive (restarting it would not help) but not ready (it should get
no traffic until the database answers again). Both endpoints are outside ``/api/v1`` and need no token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from mercato.web.problems import DatabaseBusy, DatabaseUnavailable
from mercato.web.responses import problem_responses

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness check")
async def healthz() -> dict[str, str]:
    """Answers 200 while the process serves requests. It does not touch the database."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness check",
    responses=problem_responses(DatabaseUnavailable, DatabaseBusy),
)
def readyz(request: Request) -> dict[str, str]:
    """Answers 200 when the database answers a query within the configured timeouts, and 503 (a problem
    document with `Retry-After`) when it does not. Sync on purpose: a database that hangs holds a worker
    thread until the timeout, never the event loop that answers `/healthz`."""
    with request.app.state.read_connection() as connection:
        connection.execute(text("SELECT 1"))
    return {"status": "ready", "database": request.app.state.engine.dialect.name}
