"""What the ledger, statements and payouts refuse, each with a sentence the operator or vendor can act on."""

from __future__ import annotations

from mercato.problems import Conflict, InvalidInput, NotFound


class InvalidMonth(InvalidInput):
    """A month is written `YYYY-MM`, for example `2026-11`."""

    type = "invalid-month"
    title = "Not a month"


class MonthNotOver(Conflict):
    """A payout run pays a month's closing balance, so the month must be over (by the server's clock) before
    it runs: a run of the current month would leave out the sales still to come in it. Run it on or after the
    first day of the next month."""

    type = "month-not-over"
    title = "The month is not over yet"


class PayoutNotFound(NotFound):
    """No payout has this id, or it is another vendor's (which answers exactly like a missing one)."""

    type = "payout-not-found"
    title = "No such payout"


class LedgerEntryNotFound(NotFound):
    """No ledger entry has this id, or it is another vendor's."""

    type = "ledger-entry-not-found"
    title = "No such ledger entry"


class InvalidAdjustment(InvalidInput):
    """An adjustment corrects one ledger entry by a non-zero amount in whole minor units of its currency, with
    a reason and a key that names it (the same key again answers the adjustment it made)."""

    type = "invalid-adjustment"
    title = "Invalid adjustment"
