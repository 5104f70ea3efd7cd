"""Pages: to be filled in (see mercato.pages.site for the map)."""

from __future__ import annotations

from fastapi import APIRouter

from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
