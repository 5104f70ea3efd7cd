"""The FastAPI application factory: wires settings, the database, the services every rule is handed, and
every feature's router. It sits on top of everything; nothing imports it but the command that serves it."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mercato import __version__
from mercato.accounts.api import router as accounts_router
from mercato.accounts.session_api import router as session_router
from mercato.accounts.throttle import SignInThrottle
from mercato.catalog.api import router as catalog_router
from mercato.catalog.file_api import router as catalog_file_router
from mercato.catalog.listings_api import router as listings_router
from mercato.catalog.releases_api import router as releases_router
from mercato.catalog.vendors_api import router as vendors_router
from mercato.clock import Clock, SystemClock
from mercato.cloud_transitions.api import router as cloud_transitions_router
from mercato.commerce.api import router as commerce_router
from mercato.database import autocommit_connections, make_engine, make_session_factory, session_connections
from mercato.imports.api import router as imports_router
from mercato.ledger.api import router as ledger_router
from mercato.ledger.reports_api import router as vendor_reports_router
from mercato.licenses.api import router as licenses_router
from mercato.licenses.validation import StandingCache, TrustedKeyCache
from mercato.outbox.api import router as outbox_router
from mercato.outbox.worker import BackgroundWorker
from mercato.pages.site import install_pages
from mercato.preview.api import router as preview_router
from mercato.reminders.api import router as reminders_router
from mercato.services import Services
from mercato.settings import Settings, get_settings
from mercato.testclock.api import router as test_clock_router
from mercato.testclock.clock import SharedTestClock
from mercato.transitions.api import router as transitions_router
from mercato.web.api_docs import install_api_docs
from mercato.web.health import router as health_router
from mercato.web.openapi import install_openapi
from mercato.web.problem_pages import router as problem_pages_router
from mercato.web.problems import install_problem_handlers
from mercato.web.security import SecurityHeaders
from mercato.webhooks.api import install_webhook_docs
from mercato.webhooks.api import router as webhooks_router

OPENAPI_URL = "/api/v1/openapi.json"

API_DESCRIPTION = """
Mercato's REST API, the same one its pages and the `mercato` command use: the catalog of host products and apps
with their prices, a price calculator, customer organisations with their people, host instances and API tokens,
and the life of a sale (quote → order and invoice → payments → licenses and their keys), with refunds. Apps
check their keys online with the validate endpoint, or offline against the issuers' public keys (JWKS).

**Calling it.** Public reads (catalog, price preview, key validation, public keys, problem types) need no
credential. Everything else needs one: an API token sent as `Authorization: Bearer mct_…` (make one with
`POST /api/v1/tokens` or `mercato tokens create`; **Authorize** above takes it), or the session cookie of
`POST /api/v1/session`, which on any change also needs its CSRF token in the `X-CSRF-Token` header. A
read-only token may not change anything (403). What a caller sees follows from their roles: an object of an
organisation or vendor they have no role in answers 404, exactly as a missing one, so existence does not leak.

**Conventions.** Amounts are decimal strings (`"1100.00"`) in the currency named beside them; tiers are a
number of users as a string, or `"unlimited"`; dates are `YYYY-MM-DD` between 2000-01-01 and 2099-12-31.
Lists take `limit` (1–200) and `after`, the previous page's `next_after` (the same cost at any depth, no row
repeated or skipped while rows are added); `has_more` says whether another page follows. `offset` still works
for the first pages. Lists that grow with sales (licenses, quotes, invoices, outbox, deliveries, imports) count
their `total` only with `include=total`; the others always do. Asking for a quote, accepting
it, recording a payment, registering a webhook endpoint and rotating its secret are safe to retry with an
`Idempotency-Key` header.

**Errors.** Every error is an [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) problem document
(`application/problem+json`) with a stable `type`, a `title`, a `detail` sentence for people and, where a
client can act on them, facts such as the tier to choose instead. Each `type` is a page that explains the
problem: `GET /api/v1/problems` lists them all. Malformed JSON is 400, invalid fields and broken rules 422,
unknown things 404. A failed request changes nothing.

This reference is also at `/api/redoc` (for reading) and as OpenAPI at `/api/v1/openapi.json`.
"""

OPENAPI_TAGS = [
    {
        "name": "licenses",
        "description": "Check a license key online; the public keys that verify keys offline.",
    },
    {
        "name": "catalog",
        "description": "Host products and apps: listings per hosting, prices, channel policies.",
    },
    {
        "name": "vendors",
        "description": "Vendors: applications and approval, profiles, payout details, teams, revenue-share "
        "agreements, direct stores and their signing keys.",
    },
    {
        "name": "listings",
        "description": "Vendors create apps and propose listings; operator staff review and publish them.",
    },
    {
        "name": "releases",
        "description": "An app's versions per listing: build dates, host compatibility and release notes.",
    },
    {
        "name": "accounts",
        "description": "Who am I, API tokens, browser sessions, organisations, members, hosts.",
    },
    {
        "name": "pricing",
        "description": "Price proposed items for a host without buying; every line explained.",
    },
    {
        "name": "commerce",
        "description": "Quotes, orders, invoices, payments, refunds and the licenses they make.",
    },
    {
        "name": "payouts",
        "description": "The vendors' money: monthly statements from the revenue ledger, payout runs and "
        "remittance reports.",
    },
    {
        "name": "vendor reports",
        "description": "A vendor's transactions, licenses and summary metrics, as pages or CSV.",
    },
    {"name": "problems", "description": "The pages that problem documents' `type` points to."},
    {
        "name": "operations",
        "description": "For the people who run Mercato: health checks and the test clock.",
    },
    {
        "name": "outbox",
        "description": "Operator staff: e-mail waiting, retried or dead, and sending it again.",
    },
    {
        "name": "webhooks",
        "description": "Vendors' and the operator's webhook endpoints: events, deliveries, resends, secrets.",
    },
    {
        "name": "transitions",
        "description": "A vendor's campaigns moving its direct licenses to the marketplace: notice, reminders "
        "and who has moved.",
    },
]


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    # SQLite deployments have no separate worker process: the server delivers the outbox itself. (Not when a
    # caller hands in its own unit of work, as the tests do.)
    drains = engine.dialect.name == "sqlite" and session_factory is None and settings.serve_drains_outbox
    outbox_worker = BackgroundWorker(engine, settings) if drains else None
    app = FastAPI(
        lifespan=outbox_worker.lifespan if outbox_worker else None,
        title="Mercato",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url=OPENAPI_URL,
        openapi_tags=OPENAPI_TAGS,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory or make_session_factory(engine)
    # Given a session factory (an outer unit of work, as in tests), hot-path reads must see what it sees.
    app.state.read_connection = (
        session_connections(session_factory) if session_factory else autocommit_connections(engine)
    )
    # The server's clock decides. Only where the operator enabled it does a shared test clock stand in.
    app.state.clock = clock or (
        SharedTestClock(app.state.read_connection) if settings.test_clock else SystemClock()
    )
    app.state.services = Services.from_settings(settings, app.state.clock)
    app.state.trusted_keys = TrustedKeyCache(app.state.read_connection, settings.secret_key)
    app.state.key_standings = StandingCache(settings.validation_cache_seconds)
    app.state.sign_in_throttle = SignInThrottle(
        settings.rate_limit_storage, settings.sign_in_limit_per_account, settings.sign_in_limit_per_address
    )
    install_problem_handlers(app)
    install_openapi(app)
    install_webhook_docs(app)
    install_api_docs(app, OPENAPI_URL)
    app.add_middleware(SecurityHeaders)

    app.include_router(health_router)
    # Starlette tries routes in order: the license validation endpoint, the hottest, goes first.
    app.include_router(licenses_router, prefix="/api/v1")
    app.include_router(catalog_router, prefix="/api/v1")
    app.include_router(vendors_router, prefix="/api/v1")
    app.include_router(cloud_transitions_router, prefix="/api/v1")
    app.include_router(imports_router, prefix="/api/v1")
    app.include_router(listings_router, prefix="/api/v1")
    app.include_router(catalog_file_router, prefix="/api/v1")
    app.include_router(releases_router, prefix="/api/v1")
    app.include_router(accounts_router, prefix="/api/v1")
    app.include_router(session_router, prefix="/api/v1")
    app.include_router(preview_router, prefix="/api/v1")
    app.include_router(commerce_router, prefix="/api/v1")
    app.include_router(ledger_router, prefix="/api/v1")
    app.include_router(vendor_reports_router, prefix="/api/v1")
    app.include_router(outbox_router, prefix="/api/v1")
    app.include_router(webhooks_router, prefix="/api/v1")
    app.include_router(reminders_router, prefix="/api/v1")
    app.include_router(transitions_router, prefix="/api/v1")
    app.include_router(test_clock_router, prefix="/api/v1")
    app.include_router(problem_pages_router, prefix="/api/v1")
    # The pages after the API: they answer every path the API does not, errors included.
    install_pages(app)
    return app
