"""Catalog read API: apps and host products with their listings, prices, channel policies and releases."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query

from mercato.catalog import presenters
from mercato.catalog.repository import AppSearch, AppSort, CatalogRepository
from mercato.catalog.schemas import AppOut, AppPage, HostProductOut
from mercato.fields import Text
from mercato.paging import InvalidCursor, page_fields
from mercato.pricing import Channel, Hosting
from mercato.problems import NotFound
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.paging import PageParams
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["catalog"], route_class=UnitOfWorkRoute)


@router.get(
    "/apps",
    response_model=AppPage,
    summary="List and search apps",
    responses=problem_responses(InvalidCursor),
)
def list_apps(
    page: PageParams,
    session: SessionDep,
    services: ServicesDep,
    q: Annotated[
        Text | None,
        Query(
            max_length=100,
            description="Words to find in the app's name or summary or in its vendor's name (or the app's "
            "exact key). PostgreSQL matches whole words, all of them, and understands quotes, `or` and "
            "`-word`; SQLite finds the text as written, ignoring case.",
        ),
    ] = None,
    host_product: Annotated[
        Text | None, Query(max_length=64, description="Host product key, e.g. wiki")
    ] = None,
    hosting: Annotated[str | None, Query(pattern="^(server|datacenter|cloud)$")] = None,
    vendor: Annotated[
        Text | None, Query(max_length=100, description="Vendor slug, e.g. example-mockups")
    ] = None,
    channel: Annotated[
        Channel | None,
        Query(description="Only apps with a listing sold in this channel (marketplace or direct)."),
    ] = None,
    max_price: Annotated[
        Decimal | None,
        Query(
            ge=0,
            max_digits=12,
            decimal_places=2,
            allow_inf_nan=False,
            description="Only apps with a listing whose lowest list price today (its smallest tier; for "
            "cloud, the monthly price for up to 10 users) is at most this, in the listing's currency.",
        ),
    ] = None,
    sort: Annotated[
        AppSort,
        Query(
            description="`key` (the default), `name`, `newest` (the app listed last first) or "
            "`most_installed` (most active licenses first); ties are ordered by key."
        ),
    ] = AppSort.KEY,
) -> AppPage:
    """Public apps of active vendors, each with its published listings (one per hosting), list prices,
    channel policy and releases. Search with `q`; filter by host product, hosting, vendor, channel and
    price; sort with `sort`; page with `limit` and `after` (or `offset`). The hosting, channel and price
    filters hold for one and the same listing of the app. Always counted: `total` is every matching app."""
    today = services.clock.today()
    search = AppSearch(
        text=q,
        host_product_key=host_product,
        vendor_slug=vendor,
        hosting=Hosting(hosting) if hosting is not None else None,
        channel=channel,
        max_price=max_price,
        today=today,
        sort=sort,
        public_only=True,
    )
    apps = CatalogRepository(session).list_apps(search, page)
    return AppPage(items=[presenters.app_out(a, today) for a in apps.rows], **page_fields(apps, page))


@router.get(
    "/apps/{app_key}", response_model=AppOut, summary="Get one app", responses=problem_responses(NotFound)
)
def get_app(
    app_key: Annotated[
        Text, Path(max_length=200, description="The app's key, e.g. com.example.mockups.wiki.")
    ],
    session: SessionDep,
    services: ServicesDep,
) -> AppOut:
    """One app by its key (for example `com.example.mockups.wiki`), with every published listing. Hidden and
    retired apps, apps of vendors not active and apps not yet published answer 404 here; their vendor sees them
    through `GET /api/v1/vendors/{slug}/apps`."""
    app = CatalogRepository(session).public_app(app_key)
    if app is None:
        raise NotFound(f"There is no app with key {app_key!r}. GET /api/v1/apps lists the apps.")
    return presenters.app_out(app, services.clock.today())


@router.get("/host-products", response_model=list[HostProductOut], summary="List host products")
def list_host_products(session: SessionDep, services: ServicesDep) -> list[HostProductOut]:
    """The operator's host products (for example the wiki and the tracker), sold like any other item."""
    repository = CatalogRepository(session)
    return [
        presenters.host_product_out(
            host, repository.listings_of_host_product(host.id), services.clock.today()
        )
        for host in repository.list_host_products()
    ]


@router.get(
    "/host-products/{key}",
    response_model=HostProductOut,
    summary="Get one host product",
    responses=problem_responses(NotFound),
)
def get_host_product(
    key: Annotated[Text, Path(max_length=64, description="The host product's key, e.g. wiki.")],
    session: SessionDep,
    services: ServicesDep,
) -> HostProductOut:
    """One host product by key, with its listings and prices."""
    repository = CatalogRepository(session)
    host = repository.host_product_by_key(key)
    if host is None:
        raise NotFound(f"There is no host product with key {key!r}. GET /api/v1/host-products lists them.")
    return presenters.host_product_out(
        host, repository.listings_of_host_product(host.id), services.clock.today()
    )
