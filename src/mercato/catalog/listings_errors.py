"""One error type per rule of apps, listings and their review. Routes list these in ``responses=``."""

from __future__ import annotations

from mercato.accounts.access import Forbidden
from mercato.problems import Conflict, InvalidInput, NotFound


class AppNotFound(NotFound):
    """There is no app with this key that you manage. A vendor's members manage its apps, operator staff manage
    every app; anyone else gets this answer, as for an app that does not exist."""

    type = "app-not-found"
    title = "App not found"


class AppVendorNotFound(NotFound):
    """There is no vendor with this slug that you act for. Apps are created by the vendor's own members (or by
    operator staff) under `/api/v1/vendors/{slug}/apps`."""

    type = "app-vendor-not-found"
    title = "Vendor not found"


class AppKeyTaken(Conflict):
    """An app with this key exists already: app keys are unique in the catalog and never reused. Choose another
    reverse-domain key, such as `com.yourcompany.product.host`. Nothing was written."""

    type = "app-key-taken"
    title = "The app key is taken"


class AppHostProductUnknown(InvalidInput):
    """The app names a host product the marketplace does not sell. `GET /api/v1/host-products` lists them
    (`wiki`, `tracker`, ...)."""

    type = "app-host-product-unknown"
    title = "Unknown host product"


class HostingNotSoldForHost(InvalidInput):
    """The host product is not sold in this hosting, so an app for it could not be used. List the app for a
    hosting the host product is sold in (`GET /api/v1/host-products/{key}` shows them)."""

    type = "hosting-not-sold-for-host"
    title = "The host is not sold in this hosting"


class DraftNotFound(NotFound):
    """The listing has no open draft (none was started, or it was submitted and decided, or withdrawn). Start
    one with `PUT /api/v1/apps/{key}/listings/{hosting}/draft`."""

    type = "draft-not-found"
    title = "No open draft"


class RevisionNotFound(NotFound):
    """There is no listing revision with this id that you may see."""

    type = "revision-not-found"
    title = "Revision not found"


class DraftUnderReview(Conflict):
    """The draft was submitted and waits for the operator's review, so it cannot be changed. Withdraw it
    (`POST .../draft/withdraw`), then change it and submit it again."""

    type = "draft-under-review"
    title = "The draft is under review"


class RevisionAlreadyDecided(Conflict):
    """The revision is not waiting for review: it is still a draft, or was withdrawn, or was decided the other
    way. Only a submitted revision can be approved or rejected; approving an approved one (or rejecting a
    rejected one) again answers as the first time."""

    type = "revision-already-decided"
    title = "The revision is not waiting for review"


class OperatorReviewOnly(Forbidden):
    """Only operator staff review listings: the review queue, approvals and rejections. A vendor submits its
    draft and waits for the decision (`GET .../revisions` shows it)."""

    type = "operator-review-only"
    title = "Only the operator reviews listings"


class RetiredAppFinal(Forbidden):
    """The app is retired, and for its vendor that is final: it is never sold again (licenses already sold keep
    working and renewing). Operator staff may bring it back if it was retired by mistake."""

    type = "retired-app-final"
    title = "A retired app stays retired"


class PriceChangeTooSoon(InvalidInput):
    """A new price of a public listing may take effect only after the notice period (30 days unless the
    operator set another), so customers with renewals due can be told. Give a `prices_effective_from` on or
    after the date the sentence names."""

    type = "price-change-too-soon"
    title = "The price change needs more notice"


class ListingNotOnSale(InvalidInput):
    """This listing is not sold to new buyers: it has not been approved and published yet, or its app is hidden
    or retired, or its vendor is not active. Licenses already sold keep working, renewing and upgrading."""

    type = "listing-not-on-sale"
    title = "Not on sale"
