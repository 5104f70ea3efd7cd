"""The operator's payout run at ``/admin/payouts``: pay every vendor's balance of a month that is over, through
the same service as ``POST /api/v1/payouts/runs``, and show what it decided for each vendor and currency.

Posting the form twice is safe: the service pays a vendor at most once per currency and month, and an entry at
most once ever, so a second run answers "already paid" (the page says so) rather than paying again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from mercato.ledger import api as ledger_api
from mercato.ledger.domain import Month
from mercato.ledger.service import DEFAULT_REFERENCE_PREFIX, PayoutRun
from mercato.pages.operator_access import operator_principal, refused, validation_errors
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, Viewer, ViewerDep
from mercato.problems import Problem
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)

FIELDS = {"month": "month", "threshold": "threshold", "reference_prefix": "reference-prefix"}
OUTCOMES = {
    "paid": "Paid now",
    "already_paid": "Already paid for this month (nothing paid again)",
    "below_threshold": "Below the threshold: waits for a later month",
    "nothing_owed": "Nothing owed",
}


def _previous_month(request: Request) -> str:
    today = request.app.state.clock.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return str(Month(year, month))


def _page(request: Request, viewer: Viewer, status_code: int = 200, **context: Any) -> Response:
    form = context.pop("form", None) or {
        "month": _previous_month(request),
        "threshold": "0",
        "reference_prefix": DEFAULT_REFERENCE_PREFIX,
    }
    return render(
        request,
        "admin/payouts.html",
        viewer,
        status_code=status_code,
        form=form,
        errors=context.pop("errors", {}),
        outcomes=OUTCOMES,
        **context,
    )


@router.get("/admin/payouts")
def payouts_form(request: Request, viewer: ViewerDep) -> Response:
    operator_principal(viewer, request)
    return _page(request, viewer)


@router.post("/admin/payouts")
def run_payouts(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    services: ServicesDep,
    month: Annotated[str, Form(max_length=7)] = "",
    threshold: Annotated[str, Form(max_length=20)] = "0",
    reference_prefix: Annotated[str, Form(max_length=40)] = DEFAULT_REFERENCE_PREFIX,
) -> Response:
    """Run the month's payouts and show each decision (the API's body, validated by the API's own model)."""
    principal = operator_principal(viewer, request)
    form = {"month": month, "threshold": threshold, "reference_prefix": reference_prefix}
    try:
        body = ledger_api.PayoutRunIn.model_validate(
            {
                "month": month.strip(),
                "threshold": threshold.strip() or "0",
                "reference_prefix": reference_prefix,
            }
        )
    except ValidationError as error:
        return _page(request, viewer, 422, form=form, errors=validation_errors(error, FIELDS))
    try:
        report = PayoutRun(session, services).run_for(
            principal, body.month, body.threshold, body.reference_prefix
        )
    except Problem as problem:
        refused(session)
        return _page(request, viewer, problem.status, form=form, errors={"month": problem.detail})
    return _page(
        request,
        viewer,
        form=form,
        ran=body.month,
        paid=len(report.paid),
        decisions=[ledger_api.decision_out(d) for d in report.decisions],
    )
