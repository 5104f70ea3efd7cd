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
    type = "host-instance-not-found"
    title = "No such host instance"


class QuoteNotFound(NotFound):
    type = "quote-not-found"
    title = "No such quote"


class InvoiceNotFound(NotFound):
    type = "invoice-not-found"
    title = "No such invoice"


class InvoiceLineNotFound(NotFound):
    type = "invoice-line-not-found"
    title = "No such invoice line"


class LicenseNotFound(NotFound):
    type = "license-not-found"
    title = "No such license"


class NotABuyer(Forbidden):
    type = "not-a-buyer"
    title = "Only the organisation's admins buy"


class NotTheSeller(Forbidden):
    type = "not-the-seller"
    title = "Only the seller of record may do this"


# -- quoting -------------------------------------------------------------------------------------------------


class TierRequired(InvalidInput):
    type = "tier-required"
    title = "A tier is needed"


class CoTermTargetMissing(InvalidInput):
    type = "co-term-target-missing"
    title = "No date to co-term to"


class NothingToCoTerm(InvalidInput):
    type = "nothing-to-co-term"
    title = "Nothing to co-term"


class LicenseNotOnInstance(NotFound):
    type = "license-not-on-instance"
    title = "Not a license of this host instance"


class LicenseClosedForChanges(Conflict):
    type = "license-closed"
    title = "The license is closed"


class LicenseInOtherChannel(InvalidInput):
    type = "license-in-other-channel"
    title = "The license belongs to the other channel"


class MixedCurrencies(InvalidInput):
    type = "mixed-currencies"
    title = "A quote is in one currency"


class EvaluationLimitReached(Problem):
    status = 422
    type = "evaluation-limit-reached"
    title = "No more evaluations of this app here"


# -- acceptance ----------------------------------------------------------------------------------------------


class QuoteExpired(Problem):
    status = 422
    type = "quote-expired"
    title = "The quote has expired"


class QuoteCancelled(Conflict):
    type = "quote-cancelled"
    title = "The quote was cancelled"


class IdempotencyKeyReused(InvalidInput):
    type = "idempotency-key-reused"
    title = "Idempotency-Key reused for another request"


# -- payments ------------------------------------------------------------------------------------------------


class InvoiceCancelled(Conflict):
    type = "invoice-cancelled"
    title = "The invoice was cancelled"


class InvoiceAlreadyPaid(Conflict):
    type = "invoice-already-paid"
    title = "The invoice is paid"


class AmountNotInCurrency(InvalidInput):
    type = "amount-not-in-currency"
    title = "Not an amount of the invoice's currency"


class Overpayment(Problem):
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
    type = "payment-in-future"
    title = "A payment cannot be received in the future"


class UnknownPaymentMethod(InvalidInput):
    type = "unknown-payment-method"
    title = "Unknown payment method"


# -- refunds -------------------------------------------------------------------------------------------------


class AlreadyRefunded(Conflict):
    type = "already-refunded"
    title = "Already refunded"


class NotRefundable(InvalidInput):
    type = "not-refundable"
    title = "Only a paid new purchase can be refunded"


class RefundWindowClosed(Problem):
    status = 422
    type = "refund-window-closed"
    title = "The refund window has closed"


class ChangedSinceSale(Conflict):
    type = "changed-since-sale"
    title = "The license was changed after this purchase"
