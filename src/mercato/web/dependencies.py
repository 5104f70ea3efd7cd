"""Request-scoped dependencies: one database session per request, committed once if the request succeeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from mercato.services import Services


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work. Sync endpoints commit or roll back in their own worker thread (see
    ``mercato.web.routing``); what is left here is a no-op commit, or the rollback of a failed request, and the
    close — on the event loop, so that ending a request never waits for a free worker thread."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# "function" scope: the commit happens before the response is sent, so a client never sees a success whose
# commit then failed (FastAPI's default scope would commit after the response).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]
"""The deployment's services: its clock (the server's, or the test clock), secret and payment provider."""
