"""One error type per rule of transition campaigns."""

from __future__ import annotations

from mercato.problems import InvalidInput, NotFound


class NoticeDateInThePast(InvalidInput):
    """A campaign's customers are told on its notice date, which cannot be a day that has passed (the server's
    clock decides what today is). Choose today or a later day."""

    type = "notice-date-in-the-past"
    title = "The notice date has passed"


class DeadlineTooSoon(InvalidInput):
    """Customers must be warned well in advance: the deadline is at least 30 days after the notice date. Move
    the deadline later, or the notice date earlier (not before today)."""

    type = "deadline-too-soon"
    title = "The deadline is too soon after the notice date"


class NotTheVendorsApp(InvalidInput):
    """A campaign is about the vendor's own apps only. `GET /api/v1/vendors/{slug}/...` and the vendor portal's
    apps page list them; leave `apps` out for all of them."""

    type = "not-the-vendors-app"
    title = "An app is not this vendor's"


class NothingToTransition(InvalidInput):
    """No open, bought, direct server or Data Center license of these apps is bound to a customer's host
    instance: a campaign would tell no one. Choose other apps, or none (all the vendor's apps)."""

    type = "nothing-to-transition"
    title = "No direct license to move"


class CampaignNotFound(NotFound):
    """No transition campaign with this id for this vendor that you may see: a vendor's members and operator
    staff see a vendor's campaigns. `GET /api/v1/vendors/{slug}/transitions` lists them."""

    type = "transition-campaign-not-found"
    title = "Transition campaign not found"
