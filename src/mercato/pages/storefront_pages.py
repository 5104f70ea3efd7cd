"""The storefront: browse and search the public catalog (``/``), an app's page (``/apps/{app_key}``) with its
prices, channels and releases, and its price calculator (``/apps/{app_key}/price``). No sign-in needed.

The catalog is read through the same search and presenters as ``GET /api/v1/apps``: public apps of active
vendors, by their published listings. The calculator prices with the pricing preview service.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from mercato.accounts.host_instances import HostInstanceService
from mercato.accounts.repository import RegisteredHost
from mercato.catalog import presenters
from mercato.catalog.markdown import render_markdown
from mercato.catalog.models import UNLIMITED_USERS, App, Listing
from mercato.catalog.repository import AppSearch, CatalogRepository
from mercato.catalog.schemas import AppOut
from mercato.catalog.vendors_repository import VendorsRepository
from mercato.pages.rendering import is_htmx, render
from mercato.pages.storefront_calculator import PriceCalculator, PriceInputs, PriceResult
from mercato.pages.storefront_channels import ChannelOffer, channel_offers
from mercato.pages.viewer import Viewer, ViewerDep
from mercato.paging import PageRequest
from mercato.pricing import Hosting, from_minor_units
from mercato.problems import NotFound
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

PAGE_SIZE = 12
HOSTING_NAMES = {"server": "Server", "datacenter": "Data Center", "cloud": "Cloud"}
HOSTING_ORDER = list(HOSTING_NAMES)


def _shown(app: App, today: date) -> AppOut:
    """The app as ``GET /api/v1/apps/{key}`` shows it, its listings in the order buyers know: server, Data
    Center, cloud."""
    shown = presenters.app_out(app, today)
    shown.listings.sort(key=lambda listing: HOSTING_ORDER.index(listing.hosting))
    return shown


@dataclass(frozen=True)
class AppCard:
    key: str
    name: str
    summary: str
    vendor: str
    host_product: str
    hostings: list[str]
    from_price: Decimal | None
    currency: str
    per_month: bool  # the cheapest is a cloud listing's monthly price


def _card(app: App, today_prices: list[tuple[Listing, Decimal, bool]]) -> AppCard:
    cheapest = min(today_prices, key=lambda found: found[1], default=None)
    return AppCard(
        key=app.key,
        name=app.name,
        summary=app.summary,
        vendor=app.vendor.name,
        host_product=app.host_product.name,
        hostings=[
            HOSTING_NAMES[hosting]
            for hosting in HOSTING_ORDER
            if any(str(listing.hosting) == hosting and listing.published_at for listing in app.listings)
        ],
        from_price=cheapest[1] if cheapest else None,
        currency=cheapest[0].currency if cheapest else "USD",
        per_month=cheapest[2] if cheapest else False,
    )


def _lowest_prices(app: App, search: AppSearch) -> list[tuple[Listing, Decimal, bool]]:
    """Each published listing's lowest list price today (its smallest tier; cloud: up to 10 users a month),
    from the price tables the search loaded already."""
    assert search.today is not None
    found = []
    for listing in app.listings:
        if listing.published_at is None:
            continue
        table = listing.prices_on(search.today)
        if table.cloud_flat_monthly_minor is not None:
            amount, monthly = table.cloud_flat_monthly_minor, True
        else:
            standard = [p.amount_minor for p in table.tier_prices if p.price_list == "standard"]
            if not standard:
                continue
            amount, monthly = min(standard), False
        found.append((listing, from_minor_units(amount, listing.currency), monthly))
    return found


@router.get("/")
def storefront(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=100)] = "",
    host_product: Annotated[str, Query(max_length=64)] = "",
    hosting: Annotated[str, Query(pattern="^(|server|datacenter|cloud)$")] = "",
    vendor: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    catalog = CatalogRepository(session)
    search = AppSearch(
        text=q.strip() or None,
        host_product_key=host_product or None,
        vendor_slug=vendor or None,
        hosting=Hosting(hosting) if hosting else None,
        today=services.clock.today(),
        public_only=True,
    )
    # The catalog is short: its pages are numbered, counted and read with an offset.
    found = catalog.list_apps(search, PageRequest(PAGE_SIZE, (page - 1) * PAGE_SIZE))
    apps, total = found.rows, found.total or 0
    vendors = VendorsRepository(session).list_vendors(only=None, status="active", page=PageRequest(500)).rows
    filters = {"q": q, "host_product": host_product, "hosting": hosting, "vendor": vendor}

    def page_link(number: int) -> str:
        return "/?" + urlencode({k: v for k, v in filters.items() if v} | {"page": number})

    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        request,
        "storefront/home.html",
        viewer,
        cards=[_card(app, _lowest_prices(app, search)) for app in apps],
        total=total,
        filters=filters,
        host_products=catalog.list_host_products(),
        vendors=vendors,
        hostings=HOSTING_NAMES,
        page=page,
        pages=pages,
        previous_link=page_link(page - 1) if page > 1 else None,
        next_link=page_link(page + 1) if page < pages else None,
    )


def _public_app(session: Session, app_key: str) -> App:
    app = CatalogRepository(session).public_app(app_key)
    if app is None:
        raise NotFound(f"There is no app with the key {app_key!r} in the catalog. Search the catalog for it.")
    return app


def _tiers(app: App) -> list[str]:
    return ["unlimited" if t == UNLIMITED_USERS else str(t) for t in app.host_product.user_tiers]


def _default_inputs(app: App, shown: AppOut) -> PriceInputs:
    """The calculator's first question: the first hosting sold, a 100-user host (or the host product's middle
    tier), the same tier for the app, on the marketplace."""
    tiers = _tiers(app)
    host_tier = "100" if "100" in tiers else tiers[len(tiers) // 2]
    hosting = shown.listings[0].hosting if shown.listings else "server"
    return PriceInputs(hosting=hosting, host_tier=host_tier, tier=host_tier, channel="marketplace")


def _my_hosts(session: Session, viewer: Viewer, app: App) -> list[RegisteredHost]:
    """The hosts of the app's host product of the organisations the viewer belongs to (none for others),
    through the same access check as ``GET /api/v1/organisations/{id}/host-instances``."""
    principal = viewer.principal
    if principal is None:
        return []
    service = HostInstanceService(session)
    hosts: list[RegisteredHost] = []
    for organisation in sorted(principal.organisations):
        found = service.instances_for(
            principal, organisation, host_product_key=app.host_product.key, page=PageRequest(100)
        ).rows
        hosts += found
    return hosts


def _described(registered: RegisteredHost, inputs: PriceInputs) -> PriceInputs:
    """The calculator's inputs with the hosting and user tier of the customer's registered host."""
    instance = registered.instance
    if instance.hosting == Hosting.CLOUD:
        users = str(instance.cloud_users or "")
    else:
        users = "unlimited" if instance.user_tier == UNLIMITED_USERS else str(instance.user_tier or "")
    return replace(inputs, hosting=str(instance.hosting), host_tier=users, host=str(instance.id))


@dataclass(frozen=True)
class PriceRow:
    """One user tier across the tiered listings (server, Data Center): list and direct-store prices."""

    tier: str
    prices: dict[str, Decimal]
    direct_prices: dict[str, Decimal]


def _price_rows(shown: AppOut) -> list[PriceRow]:
    rows: dict[str, PriceRow] = {}
    for listing in shown.listings:
        for price in listing.prices or []:
            rows.setdefault(price.tier, PriceRow(price.tier, {}, {})).prices[listing.hosting] = price.amount
        for price in listing.direct_prices or []:
            rows.setdefault(price.tier, PriceRow(price.tier, {}, {})).direct_prices[listing.hosting] = (
                price.amount
            )
    return list(rows.values())


def _calculator(
    session: Session, viewer: Viewer, app: App, shown: AppOut, result: PriceResult, today: date
) -> dict[str, Any]:
    """What the calculator's template needs, on the page and in its htmx fragment: with the channels that
    sell the hosting asked about and what differs between them, where the buyer chooses one."""
    operator = CatalogRepository(session).operator()
    operator_name = operator.name if operator else "the marketplace"
    listing = next(
        (
            listing
            for listing in app.listings
            if listing.published_at is not None and str(listing.hosting) == result.inputs.hosting
        ),
        None,
    )
    offers: list[ChannelOffer] = (
        channel_offers(app, listing, app.vendor, operator_name, app.host_product.name, today)
        if listing
        else []
    )
    principal = viewer.principal
    can_buy = principal is not None and bool(principal.customer_admin_of)
    my_hosts = _my_hosts(session, viewer, app)
    return {
        "my_hosts": my_hosts,
        "offers": offers,
        "can_buy": can_buy,
        "app": shown,
        "result": result,
        "hostings": HOSTING_NAMES,
        "tiers": _tiers(app),
        "calculator_action": f"/apps/{app.key}/price",
        "buy_hosts": [
            registered
            for registered in my_hosts
            if principal is not None
            and principal.can_buy_for(registered.instance.organisation_id)
            and str(registered.instance.hosting) == result.inputs.hosting
        ],
    }


def _app_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    app: App,
    shown: AppOut,
    result: PriceResult,
    today: date,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "storefront/app.html",
        viewer,
        status_code=status_code,
        listings=shown.listings,
        price_rows=_price_rows(shown),
        release_notes={
            (listing.hosting, release.version): render_markdown(release.notes)
            for listing in shown.listings
            for release in listing.releases
        },
        **_calculator(session, viewer, app, shown, result, today),
    )


@router.get("/apps/{app_key}")
def app_page(
    app_key: str, request: Request, viewer: ViewerDep, session: SessionDep, services: ServicesDep
) -> Response:
    app = _public_app(session, app_key)
    today = services.clock.today()
    shown = _shown(app, today)
    result = PriceCalculator(session).price(app.host_product.key, app.key, _default_inputs(app, shown), today)
    return _app_page(request, viewer, session, app, shown, result, today)


@router.get("/apps/{app_key}/price")
def app_price(
    app_key: str,
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    services: ServicesDep,
    hosting: Annotated[str, Query(max_length=20)] = "server",
    host_tier: Annotated[str, Query(max_length=20)] = "100",
    tier: Annotated[str, Query(max_length=20)] = "100",
    channel: Annotated[str, Query(max_length=20)] = "marketplace",
    years: Annotated[str, Query(max_length=4)] = "1",
    co_term: Annotated[str, Query(max_length=20)] = "",
    host: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The calculator's answer: the fragment for htmx, else the whole app page with the answer in it. A
    refusal of the rules answers 422 with the sentence next to its field."""
    app = _public_app(session, app_key)
    today = services.clock.today()
    shown = _shown(app, today)
    inputs = PriceInputs(hosting, host_tier, tier, channel, years, co_term)
    if host:
        # A registered host of the viewer's organisation: another's answers 404, as a missing one.
        principal = viewer.require(request)
        registered = HostInstanceService(session).instance_for(principal, host)
        if registered.host_product_key != app.host_product.key:
            raise NotFound(f"{app.name} is not an app for that host.")
        inputs = _described(registered, inputs)
    result = PriceCalculator(session).price(app.host_product.key, app.key, inputs, today)
    status = 200 if result.ok else 422
    response: Response
    if is_htmx(request):
        response = render(
            request,
            "storefront/_price.html",
            viewer,
            status_code=status,
            **_calculator(session, viewer, app, shown, result, today),
        )
    else:
        response = _app_page(request, viewer, session, app, shown, result, today, status_code=status)
    response.headers["Vary"] = "HX-Request"  # one address, two answers: a cache must keep them apart
    return response
