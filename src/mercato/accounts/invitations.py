"""Invitations to a customer organisation by e-mail.

A customer admin (or operator staff) invites an address with a role; the e-mail carries a link that works once,
for 7 days. Accepting it makes or completes the user (a new person, or a password-less account, sets a name and
password; someone with a password gives it), grants the role and signs them in. Inviting the same address again
refreshes the one invitation and sends a new link; the old link stops working.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mercato.accounts import emails
from mercato.accounts.access import Principal
from mercato.accounts.errors import (
    InactiveUser,
    LinkNotFound,
    LinkUsed,
    PasswordNotRight,
    RoleAlreadyHeld,
    UnknownRole,
)
from mercato.accounts.links import check_open, link, moment, new_link_token
from mercato.accounts.models import Invitation, Organisation, Role, User
from mercato.accounts.passwords import check_password_rules
from mercato.accounts.service import (
    CUSTOMER_ROLES,
    ROLE_LABELS,
    AccountService,
    normalise_email,
    required_text,
)
from mercato.accounts.tokens import hash_token

INVITATION_LIFETIME = timedelta(days=7)
ASK_AGAIN = "Ask the person who invited you to invite you again."


@dataclass(frozen=True)
class OpenInvitation:
    """An invitation whose link still works, with what its page shows."""

    invitation: Invitation
    organisation: Organisation
    inviter_name: str | None
    user: User | None
    """The account of the invited address, if it has one."""

    @property
    def needs_password(self) -> bool:
        """Whether accepting sets a new password (a new person, or a password-less account)."""
        return self.user is None or self.user.password_hash is None


def customer_role(value: str) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role not in CUSTOMER_ROLES:
        raise UnknownRole("Invite people as a customer admin or as a billing contact.")
    assert role is not None
    return role


class InvitationService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.accounts = AccountService(session)
        self.repository = self.accounts.repository

    def invite_for(
        self,
        principal: Principal,
        reference: str | uuid.UUID,
        email: str,
        role: str,
        now: datetime,
        base_url: str,
    ) -> Invitation:
        """Invite ``email`` to the organisation (its customer admins and operator staff may) and queue the
        e-mail. Someone who holds the role there already is ``RoleAlreadyHeld``."""
        organisation = self.accounts.administered_by(principal, reference, "invite people")
        wanted = customer_role(role)
        address = normalise_email(email)
        user = self.repository.user_by_email(address)
        if user is not None and self.accounts.holds(user, wanted, organisation=organisation):
            raise RoleAlreadyHeld(
                f"{address} is {ROLE_LABELS[wanted]} of {organisation.name} already; nobody needs inviting."
            )
        inviter = self.accounts.user(principal.user_id)
        return self.invite(organisation, address, wanted, now, base_url, inviter.name, principal.user_id)

    def invite(
        self,
        organisation: Organisation,
        address: str,
        role: Role,
        now: datetime,
        base_url: str,
        inviter_name: str,
        invited_by_id: uuid.UUID | None = None,
    ) -> Invitation:
        """Invite the (normalised) ``address`` to the organisation with ``role`` and queue the e-mail, for a
        caller that has checked who may (``invite_for``, or a vendor's import of its customers' licenses)."""
        token, token_hash = new_link_token()
        invitation = self.repository.invitation(organisation.id, address)
        if invitation is None:
            invitation = Invitation(organisation_id=organisation.id, email=address)
        # Inviting again refreshes the one row: a new token (the old link stops working), role and expiry.
        invitation.role = role
        invitation.token_hash = token_hash
        invitation.invited_by_id = invited_by_id
        invitation.created_at = now
        invitation.expires_at = now + INVITATION_LIFETIME
        invitation.accepted_at = None
        self.repository.add_unique(
            invitation, RoleAlreadyHeld(f"{address} was invited by someone else just now.")
        )
        emails.queue_invitation(
            self.session,
            address,
            organisation=organisation.name,
            inviter=inviter_name,
            role=ROLE_LABELS[role],
            url=link(base_url, f"/invitations/{token}"),
            expires=moment(invitation.expires_at),
        )
        return invitation

    def open_invitations_for(
        self, principal: Principal, reference: str | uuid.UUID, now: datetime
    ) -> Sequence[Invitation]:
        """The invitations not yet accepted nor expired, for those who may see the organisation's members."""
        organisation = self.accounts.organisation_for(principal, reference)
        return self.repository.open_invitations(organisation.id, now)

    def open(self, token: str, now: datetime) -> OpenInvitation:
        """The invitation behind a link: ``LinkNotFound``, ``LinkUsed`` or ``LinkExpired`` when it does not
        work (any more)."""
        found = self.repository.invitation_by_hash(hash_token(token)) if len(token) <= 100 else None
        if found is None:
            raise LinkNotFound(
                "This invitation link is not valid: it may have been replaced by a newer invitation. "
                "Use the newest e-mail, or " + ASK_AGAIN[0].lower() + ASK_AGAIN[1:]
            )
        invitation, organisation, inviter = found
        check_open(invitation.accepted_at, invitation.expires_at, now, "invitation", _again(invitation))
        user = self.repository.user_by_email(invitation.email)
        return OpenInvitation(invitation, organisation, inviter.name if inviter else None, user)

    def accept(self, token: str, now: datetime, *, name: str, password: str) -> tuple[User, Organisation]:
        """Accept the invitation once: make or complete the user, grant the role. ``name`` is asked only of
        someone who sets a password; someone with a password gives theirs (``PasswordNotRight``)."""
        opened = self.open(token, now)
        invitation, user = opened.invitation, opened.user
        if user is not None and not user.active:
            raise InactiveUser(f"{user.email} is deactivated; ask operator staff to enable it, then accept.")
        if user is None:
            check_password_rules(password)
            user = self.accounts.create_user(invitation.email, name, password)
        elif user.password_hash is None:
            check_password_rules(password)
            user.name = required_text(name, "name")
            self.accounts.set_password(user, password)
        elif self.accounts.authenticate(user.email, password) is None:
            raise PasswordNotRight(
                f"That is not the password of {user.email}. Forgot it? Reset it, then open this link again."
            )
        if not self.repository.close_invitation(invitation.id, now):
            raise LinkUsed("This invitation was accepted already, just now. Sign in.")
        if not self.accounts.holds(user, invitation.role, organisation=opened.organisation):
            self.accounts.grant(user, invitation.role, organisation=opened.organisation)
        return user, opened.organisation


def _again(invitation: Invitation) -> str:
    return "Sign in to use it." if invitation.accepted_at is not None else ASK_AGAIN
