"""What a cloud transition refuses, with the way to fix it."""

from __future__ import annotations

from mercato.problems import Conflict, InvalidInput


class NotTheVendorsApp(InvalidInput):
    """A transition moves the vendor's own direct cloud customers to the vendor's own marketplace listing: both
    apps must be the vendor's. `GET /api/v1/vendors/{slug}/apps` lists them."""

    type = "not-the-vendors-app"
    title = "Not an app of this vendor"


class NoMarketplaceCloudListing(InvalidInput):
    """The target app has no cloud listing to sell on the marketplace: add a cloud listing with prices first
    (`/api/v1/apps/{app_key}/listings/cloud/draft`, then its review)."""

    type = "no-marketplace-cloud-listing"
    title = "The app has no cloud listing"


class OtherHostProduct(InvalidInput):
    """Customers keep their cloud site, so the target app must run on the same host product as the app they
    bought directly."""

    type = "other-host-product"
    title = "The apps run on different host products"


class TransitionGoesElsewhere(Conflict):
    """A vendor's direct cloud offering moves to one marketplace listing: this one was mapped to another app
    already. Run the transition again with that `to_app`."""

    type = "transition-goes-elsewhere"
    title = "This offering moves to another listing"
