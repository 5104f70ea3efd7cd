"""One error type per commerce rule. Each carries a stable ``type`` slug and a title; the sentence that says
what happened and the way out is written where the rule is checked. Routes list them in ``responses=`` so the
OpenAPI document shows what each endpoint can refuse."""

from __future__ import annotations

from mercato.accounts.access import Forbidden
from mercato.problems import Conflict, InvalidInput, NotFound, Problem


def at_item(index: int) -> dict[str, object]:
    """Where in the request an error is: the item counted from 1 (as the sentence says) and a JSON pointer."""
    return {"item": index + 1, "pointer": f"/items/{index}"}


# -- visibility and roles ------------------------------------------------------------------------------------


class HostInstanceNotFound(NotFound):
    """The host instance does not exist, or belongs to an organisation you have no role in (both answer
    alike, so existence does not leak). `GET /api/v1/organisations/{id}/host-instances` lists yours."""

    type = "host-instance-not-found"
    title = "No such host instance"


class QuoteNotFound(NotFound):
    """The quote does not exist, or you may not see it. `GET /api/v1/quotes` lists your organisations'
    quotes."""

    type = "quote-not-found"
    title = "No such quote"


class InvoiceNotFound(NotFound):
    """The invoice does not exist, or you may not see it. `GET /api/v1/invoices` lists the invoices you
    may see."""

    type = "invoice-not-found"
    title = "No such invoice"


class InvoiceLineNotFound(NotFound):
    """The invoice has no line with that id. A refund names a line's `id`, not its `position`."""

    type = "invoice-line-not-found"
    title = "No such invoice line"


class LicenseNotFound(NotFound):
    """No license with that entitlement number (`SEN-…`) that you may see. `GET /api/v1/licenses` lists
    yours."""

    type = "license-not-found"
    title = "No such license"


class NotABuyer(Forbidden):
    """Quoting and accepting are for the organisation's customer admins (and operator staff); a billing
    contact or a vendor may look but not buy."""

    type = "not-a-buyer"
    title = "Only the organisation's admins buy"


class NotTheSeller(Forbidden):
    """Payments and refunds are recorded by the seller of record only: operator staff for marketplace
    invoices, the vendor's members for its direct-store invoices."""

    type = "not-the-seller"
    title = "Only the seller of record may do this"


# -- quoting -------------------------------------------------------------------------------------------------


class TierRequired(InvalidInput):
    """A server or Data Center item needs a `tier`: the number of users to license, or "unlimited"."""

    type = "tier-required"
    title = "A tier is needed"


class CoTermTargetMissing(InvalidInput):
    """A co-term needs a date to extend to: give `target_date`, or record the host license's maintenance end
    on the host instance."""

    type = "co-term-target-missing"
    title = "No date to co-term to"


class NothingToCoTerm(InvalidInput):
    """No marketplace app license of the host instance ends before the target date; co-terming only ever
    extends maintenance."""

    type = "nothing-to-co-term"
    title = "Nothing to co-term"


class LicenseNotOnInstance(NotFound):
    """The license named in the item is not a license of the quote's host instance. Quote it on its own
    host instance."""

    type = "license-not-on-instance"
    title = "Not a license of this host instance"


class LicenseClosedForChanges(Conflict):
    """The license is cancelled, superseded or otherwise closed: it cannot be renewed, upgraded or co-termed.
    Buy a new license instead."""

    type = "license-closed"
    title = "The license is closed"


class LicenseInOtherChannel(InvalidInput):
    """A license renews and upgrades in the channel it was sold in (marketplace or direct) until it migrates.
    Quote it in its own channel."""

    type = "license-in-other-channel"
    title = "The license belongs to the other channel"


class NotMigratable(InvalidInput):
    """Only a direct server or Data Center app license migrates to the marketplace: evaluations are not bought,
    and cloud customers move with their vendor's cloud transition. Ask for the marketplace quote of a direct
    license (`GET /api/v1/licenses` shows each license's channel)."""

    type = "not-migratable"
    title = "This license cannot migrate"


class AlreadyOnMarketplace(Conflict):
    """The license already is a marketplace license: it renews and upgrades there."""

    type = "already-on-marketplace"
    title = "The license is already on the marketplace"


class MigrationPending(Conflict):
    """Another accepted quote already moves this license to the marketplace and waits for payment: pay that
    invoice (the answer names it), or ask for it to be cancelled."""

    type = "migration-pending"
    title = "A migration of this license waits for payment"


class NothingToMigrate(InvalidInput):
    """The host instance has no direct server or Data Center app license to move to the marketplace."""

    type = "nothing-to-migrate"
    title = "Nothing to migrate"


class AlreadyLicensed(Conflict):
    """An app (or host product) is licensed once per host instance. The instance already has a license of it,
    or an accepted quote waiting for payment that makes one: renew or upgrade that license instead (the
    answer names it), or buy for another host instance. Evaluations, cancelled and superseded licenses do not
    count: buying converts an evaluation."""

    type = "already-licensed"
    title = "Already licensed on this host"


class MixedCurrencies(InvalidInput):
    """Every line of one quote is in one currency. Quote items priced in different currencies separately."""

    type = "mixed-currencies"
    title = "A quote is in one currency"


class EvaluationLimitReached(Problem):
    """An app can be evaluated on one host instance at most six times (one evaluation and five
    regenerations). Buy a license, or ask the vendor for an extension."""

    status = 422
    type = "evaluation-limit-reached"
    title = "No more evaluations of this app here"


# -- acceptance ----------------------------------------------------------------------------------------------


class QuoteExpired(Problem):
    """A quote keeps its prices for 30 days. Ask for a new quote: prices may have changed."""

    status = 422
    type = "quote-expired"
    title = "The quote has expired"


class QuoteCancelled(Conflict):
    """The quote was cancelled and can no longer be accepted. Ask for a new quote."""

    type = "quote-cancelled"
    title = "The quote was cancelled"


class LicenseChangedSinceQuote(Conflict):
    """The license a migration quote moves was changed since the quote was made (upgraded, renewed): the quote's
    tier or maintenance end no longer fit it, so accepting would undo the change. Ask for a new migration quote."""

    type = "license-changed-since-quote"
    title = "The license changed since the quote was made"


class IdempotencyKeyReused(InvalidInput):
    """An `Idempotency-Key` belongs to the first request it was sent with. Choose a new key for another
    quote."""

    type = "idempotency-key-reused"
    title = "Idempotency-Key reused for another request"


# -- payments ------------------------------------------------------------------------------------------------


class InvoiceCancelled(Conflict):
    """The invoice was cancelled: it takes no payments. Its licenses, if any, were not issued."""

    type = "invoice-cancelled"
    title = "The invoice was cancelled"


class InvoiceAlreadyPaid(Conflict):
    """The invoice is paid in full; there is nothing left to record."""

    type = "invoice-already-paid"
    title = "The invoice is paid"


class AmountNotInCurrency(InvalidInput):
    """The amount has more decimal places than the invoice's currency (USD and EUR have two, JPY none)."""

    type = "amount-not-in-currency"
    title = "Not an amount of the invoice's currency"


class Overpayment(Problem):
    """A payment may not exceed the amount due (`amount_due`). Record at most the amount due and return the
    rest outside Mercato."""

    status = 422
    type = "overpayment"
    title = "More than the invoice is due"


class PaymentReferenceUsed(Conflict):
    type = "payment-reference-used"
    title = "That reference is recorded with another amount"


class PaymentTooOld(InvalidInput):
    type = "payment-too-old"
    title = "A payment cannot be received before its invoice"


class PaymentInFuture(InvalidInput):
    """`received_on` is the day the money arrived; it cannot be after today."""

    type = "payment-in-future"
    title = "A payment cannot be received in the future"


class UnknownPaymentMethod(InvalidInput):
    """Payments are recorded as `bank_transfer` or `purchase_order`."""

    type = "unknown-payment-method"
    title = "Unknown payment method"


# -- refunds -------------------------------------------------------------------------------------------------


class AlreadyRefunded(Conflict):
    """The line was refunded before; a line is refunded once."""

    type = "already-refunded"
    title = "Already refunded"


class NotRefundable(InvalidInput):
    """Only a paid new purchase is refunded, never a renewal, upgrade, co-term or evaluation."""

    type = "not-refundable"
    title = "Only a paid new purchase can be refunded"


class RefundWindowClosed(Problem):
    """A new purchase is refunded within 30 days of its payment; after that the seller may help outside
    Mercato."""

    status = 422
    type = "refund-window-closed"
    title = "The refund window has closed"


class ChangedSinceSale(Conflict):
    """The license was renewed, upgraded or co-termed after this purchase, and refunding the purchase alone
    would keep those later payments. Credit the customer outside Mercato and cancel the license."""

    type = "changed-since-sale"
    title = "The license was changed after this purchase"
