"""Release endpoints: a listing's versions, added by the vendor's members (or the operator) without review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import ConfigDict

from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.dependencies import Writer
from mercato.catalog.errors import ListingNotFound, ReleaseVersionTaken
from mercato.catalog.presenters import release_out
from mercato.catalog.releases import Releases, newest_first
from mercato.catalog.repository import CatalogRepository
from mercato.catalog.schemas import ReleaseOut
from mercato.catalog.specs import ReleaseSpec
from mercato.fields import Day, Text
from mercato.pricing import Hosting
from mercato.problems import InvalidInput
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["releases"], route_class=UnitOfWorkRoute)

AppKeyPath = Annotated[
    Text, Path(max_length=200, description="The app's key, e.g. com.example.mockups.wiki.")
]
HostingPath = Annotated[Hosting, Path(description="server, datacenter or cloud.")]


class ReleaseIn(ReleaseSpec):
    """A new version of the app for one hosting."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "version": "4.3.0",
                    "build_date": "2026-11-20",
                    "notes": "Faster rendering of large mockups.\n\n- Fixes export to PDF.",
                    "host_version_min": "8.5",
                    "host_version_max": "9.4",
                }
            ]
        },
    )

    build_date: Day


@router.post(
    "/apps/{app_key}/listings/{hosting}/releases",
    status_code=201,
    response_model=ReleaseOut,
    summary="Add a release",
    responses={
        200: {"description": "The same release was added before: the release as it is."},
        **problem_responses(NotAuthenticated, Forbidden, ListingNotFound, ReleaseVersionTaken, InvalidInput),
    },
)
def add_release(
    app_key: AppKeyPath,
    hosting: HostingPath,
    body: ReleaseIn,
    principal: Writer,
    response: Response,
    session: SessionDep,
    services: ServicesDep,
) -> ReleaseOut:
    """Add a version of the app to one of its listings: members of the app's vendor and the operator may,
    without review. `build_date` (not after today) is what licenses are compared with: a license may install a
    release built on or before the end of its maintenance.

    Safe to retry: the same version with the same content answers the release again (200, 201 the first
    time); the same version with other content is refused (409, naming `version`)."""
    release, created = Releases(CatalogRepository(session), services.clock.today()).add(
        principal, app_key, hosting, body
    )
    response.status_code = 201 if created else 200
    return release_out(release)


@router.get(
    "/apps/{app_key}/listings/{hosting}/releases",
    response_model=list[ReleaseOut],
    summary="List the releases of a listing",
    responses=problem_responses(ListingNotFound),
)
def list_releases(
    app_key: AppKeyPath, hosting: HostingPath, session: SessionDep, services: ServicesDep
) -> list[ReleaseOut]:
    """The listing's releases, newest first, with their notes and the host versions they work with."""
    listing = Releases(CatalogRepository(session), services.clock.today()).listing_of_app(app_key, hosting)
    return [release_out(r) for r in newest_first(listing.releases)]
