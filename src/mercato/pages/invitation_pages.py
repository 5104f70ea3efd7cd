"""An organisation's members and invitations (``mercato.accounts.invitations``): its customer admins invite
people by e-mail with a role; the invited open the link, set their name and password, and are signed in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.accounts.invitations import InvitationService
from mercato.accounts.models import Role
from mercato.accounts.service import ROLE_LABELS, AccountService
from mercato.pages.account_forms import ROLE_NAMES, field_of, link_closed, public_url, refused, signed_in_as
from mercato.pages.rendering import render
from mercato.pages.viewer import FormViewerDep, Viewer, ViewerDep
from mercato.paging import PageRequest
from mercato.problems import Problem
from mercato.web.dependencies import SessionDep
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, include_in_schema=False)
INVITABLE = (Role.CUSTOMER_ADMIN, Role.BILLING_CONTACT)
_INVITE_FIELDS = {"unknown-role": "role"}
_ACCEPT_FIELDS = {"field-empty": "name", "field-too-long": "name"}
MEMBERS_SHOWN = 200


def _members_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    principal: Principal,
    slug: str,
    status_code: int = 200,
    **form: object,
) -> HTMLResponse:
    now = request.app.state.clock.now()
    organisation, shown = AccountService(session).members_for(principal, slug, PageRequest(MEMBERS_SHOWN))
    members, total = shown.rows, shown.total or 0
    invitations = InvitationService(session).open_invitations_for(principal, organisation.id, now)
    context: dict[str, Any] = {"errors": {}, "email": "", "role": Role.CUSTOMER_ADMIN.value}
    context.update(form)
    return render(
        request,
        "accounts/members.html",
        viewer,
        status_code=status_code,
        organisation=organisation,
        members=members,
        total=total,
        invitations=invitations,
        can_invite=principal.can_buy_for(organisation.id),
        roles=[(role.value, ROLE_NAMES[role]) for role in INVITABLE],
        role_labels=ROLE_NAMES,
        invited=request.query_params.get("invited", ""),
        **context,
    )


@router.get("/organisations/{slug}/members")
def members_page(request: Request, viewer: ViewerDep, session: SessionDep, slug: str) -> Response:
    principal = viewer.require(request)
    return _members_page(request, session, viewer, principal, slug)


@router.post("/organisations/{slug}/members")
def invite(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    slug: str,
    email: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    principal = viewer.require(request)
    service = InvitationService(session)
    try:
        invitation = service.invite_for(
            principal, slug, email, role, request.app.state.clock.now(), public_url(request)
        )
    except Problem as problem:
        if problem.status in (403, 404):
            raise  # not this person's to do: the error page, as the API answers
        session.rollback()
        field = field_of(problem, _INVITE_FIELDS, "email")
        errors = {field: problem.detail}
        return _members_page(
            request, session, viewer, principal, slug, problem.status, errors=errors, email=email, role=role
        )
    return RedirectResponse(f"/organisations/{slug}/members?invited={invitation.email}", status_code=303)


@router.get("/invitations/{token}")
def invitation_page(request: Request, viewer: ViewerDep, session: SessionDep, token: str) -> Response:
    try:
        opened = InvitationService(session).open(token, request.app.state.clock.now())
    except Problem as problem:
        return link_closed(request, session, viewer, problem)
    return render(
        request,
        "accounts/invitation.html",
        viewer,
        opened=opened,
        token=token,
        errors={},
        name="",
        role_label=ROLE_LABELS[opened.invitation.role],
    )


@router.post("/invitations/{token}")
def accept(
    request: Request,
    viewer: FormViewerDep,
    session: SessionDep,
    token: str,
    name: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    service = InvitationService(session)
    now = request.app.state.clock.now()
    try:
        opened = service.open(token, now)
    except Problem as problem:
        return link_closed(request, session, viewer, problem)
    try:
        user, organisation = service.accept(token, now, name=name, password=password)
    except Problem as problem:
        if problem.status != 422:
            return link_closed(request, session, viewer, problem)
        return refused(
            request,
            session,
            "accounts/invitation.html",
            viewer,
            problem,
            field_of(problem, _ACCEPT_FIELDS, "password"),
            opened=opened,
            token=token,
            name=name,
            role_label=ROLE_LABELS[opened.invitation.role],
        )
    return signed_in_as(request, session, user, f"/organisations/{organisation.slug}/members")
