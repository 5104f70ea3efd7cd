"""All SQL of accounts: users, memberships, organisations, host instances and API tokens."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from mercato.accounts.models import (
    ApiToken,
    HostInstance,
    Invitation,
    Membership,
    Organisation,
    PasswordReset,
    Role,
    SignUp,
    User,
    WebSession,
)
from mercato.catalog.models import HostProduct, Vendor
from mercato.paging import KeysetOrder, Page, PageRequest, fetch_page
from mercato.pricing import Hosting
from mercato.problems import Problem


@dataclass(frozen=True)
class MembershipTarget:
    """A membership with the organisation or vendor it is for (neither for operator staff)."""

    membership: Membership
    organisation: Organisation | None
    vendor: Vendor | None


@dataclass(frozen=True)
class Member:
    """One role of one user in an organisation."""

    membership: Membership
    user: User


@dataclass(frozen=True)
class RegisteredHost:
    """A host instance with the key of its host product (``wiki``, ``tracker``)."""

    instance: HostInstance
    host_product_key: str


def _page_count(session: Session, query: Select[*tuple[Any, ...]]) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


# The accounts' lists are bounded by their owner (an organisation's members and hosts, a user's tokens) or by
# the customers (organisations): they are always counted.
MEMBERS_BY_EMAIL = KeysetOrder("members", User.email, Membership.role, str, Role, descending=False)
ORGANISATIONS_BY_SLUG = KeysetOrder(
    "organisations", Organisation.slug, Organisation.id, str, uuid.UUID, descending=False
)
HOST_INSTANCES_ORDER = KeysetOrder(
    "host-instances",
    HostProduct.key,
    HostInstance.id,
    str,
    uuid.UUID,
    descending=False,
    between=((HostInstance.hosting, Hosting), (HostInstance.server_id, str)),
)
TOKENS_NEWEST_FIRST = KeysetOrder("tokens", ApiToken.created_at, ApiToken.prefix, datetime, str)


class AccountsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *objects: object) -> None:
        self.session.add_all(objects)
        self.session.flush()

    def add_unique(self, row: object, conflict: Problem) -> None:
        """Insert a row that a unique constraint guards. The service checked first; a concurrent request that
        inserted the same key in between still gets ``conflict``, not a database error."""
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            raise conflict from None

    # Users and memberships

    def user_by_id(self, user_id: uuid.UUID) -> User | None:
        return self.session.get(User, user_id)

    def user_by_email(self, email: str) -> User | None:
        """The user with this e-mail, which the caller has already normalised to lower case."""
        return self.session.scalars(select(User).where(User.email == email)).first()

    def membership(
        self,
        user_id: uuid.UUID,
        role: str,
        organisation_id: uuid.UUID | None = None,
        vendor_id: uuid.UUID | None = None,
    ) -> Membership | None:
        # Written out rather than left to the unique constraint: NULLs never collide in a unique index, so two
        # operator_admin rows of one user would both be accepted by the database.
        return self.session.scalars(
            select(Membership).where(
                Membership.user_id == user_id,
                Membership.role == role,
                Membership.organisation_id.is_(None)
                if organisation_id is None
                else Membership.organisation_id == organisation_id,
                Membership.vendor_id.is_(None) if vendor_id is None else Membership.vendor_id == vendor_id,
            )
        ).first()

    def memberships_of(self, user_id: uuid.UUID) -> Sequence[MembershipTarget]:
        rows = self.session.execute(
            select(Membership, Organisation, Vendor)
            .outerjoin(Organisation, Organisation.id == Membership.organisation_id)
            .outerjoin(Vendor, Vendor.id == Membership.vendor_id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.role, Organisation.slug, Vendor.slug)
        ).all()
        return [MembershipTarget(m, o, v) for m, o, v in rows]

    def members_of(self, organisation_id: uuid.UUID, page: PageRequest = PageRequest()) -> Page[Member]:
        """A page of an organisation's members (one entry per role), by e-mail, and how many there are."""
        query = (
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.organisation_id == organisation_id)
        )
        rows = fetch_page(
            self.session,
            query,
            MEMBERS_BY_EMAIL,
            page,
            key_of=lambda row: (row[1].email, row[0].role),
            scalars=False,
            always_count=True,
        )
        return rows.shown_as([Member(m, u) for m, u in rows.rows])

    def list_users(
        self, *, text: str | None, role: str | None, limit: int, offset: int
    ) -> tuple[Sequence[User], int]:
        """A page of users by e-mail: those whose e-mail or name holds ``text``, and who hold ``role``."""
        query = select(User)
        if text:
            pattern = f"%{text.lower()}%"
            query = query.where(or_(User.email.like(pattern), func.lower(User.name).like(pattern)))
        if role is not None:
            query = query.where(
                User.id.in_(select(Membership.user_id).where(Membership.role == role).scalar_subquery())
            )
        total = _page_count(self.session, query)
        page = self.session.scalars(query.order_by(User.email).limit(limit).offset(offset))
        return page.all(), total

    def memberships_of_users(
        self, user_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, list[MembershipTarget]]:
        """The memberships of several users at once (one query), by user."""
        rows = self.session.execute(
            select(Membership, Organisation, Vendor)
            .outerjoin(Organisation, Organisation.id == Membership.organisation_id)
            .outerjoin(Vendor, Vendor.id == Membership.vendor_id)
            .where(Membership.user_id.in_(list(user_ids)))
            .order_by(Membership.role, Organisation.slug, Vendor.slug)
        ).all()
        found: dict[uuid.UUID, list[MembershipTarget]] = {user_id: [] for user_id in user_ids}
        for membership, organisation, vendor in rows:
            found[membership.user_id].append(MembershipTarget(membership, organisation, vendor))
        return found

    def end_web_sessions(self, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None) -> int:
        """End every open browser session of the user but ``keep``; how many were open."""
        query = update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        if keep is not None:
            query = query.where(WebSession.id != keep)
        result = self.session.execute(query.values(ended_at=now))
        return int(getattr(result, "rowcount", 0) or 0)

    # Organisations

    def organisation_by_id(self, organisation_id: uuid.UUID) -> Organisation | None:
        return self.session.get(Organisation, organisation_id)

    def organisation_by_slug(self, slug: str) -> Organisation | None:
        return self.session.scalars(select(Organisation).where(Organisation.slug == slug)).first()

    def list_organisations(
        self, *, only: Collection[uuid.UUID] | None, text: str | None, page: PageRequest = PageRequest()
    ) -> Page[Organisation]:
        """A page of organisations by slug, limited to the ids in ``only`` unless it is None."""
        query = select(Organisation)
        if only is not None:
            query = query.where(Organisation.id.in_(list(only)))
        if text:
            pattern = f"%{text.lower()}%"
            query = query.where(
                or_(func.lower(Organisation.name).like(pattern), Organisation.slug.like(pattern))
            )
        return fetch_page(self.session, query, ORGANISATIONS_BY_SLUG, page, always_count=True)

    # Host instances

    def host_instance(self, instance_id: uuid.UUID) -> RegisteredHost | None:
        row = self.session.execute(
            select(HostInstance, HostProduct.key)
            .join(HostProduct, HostProduct.id == HostInstance.host_product_id)
            .where(HostInstance.id == instance_id)
        ).first()
        return RegisteredHost(row[0], row[1]) if row else None

    def host_instance_bound_to(
        self, host_product_id: uuid.UUID, hosting: str, server_id: str
    ) -> HostInstance | None:
        return self.session.scalars(
            select(HostInstance).where(
                HostInstance.host_product_id == host_product_id,
                HostInstance.hosting == hosting,
                HostInstance.server_id == server_id,
            )
        ).first()

    def host_instances_of(
        self,
        organisation_id: uuid.UUID,
        *,
        hosting: str | None = None,
        host_product_key: str | None = None,
        page: PageRequest = PageRequest(),
    ) -> Page[RegisteredHost]:
        query = (
            select(HostInstance, HostProduct.key)
            .join(HostProduct, HostProduct.id == HostInstance.host_product_id)
            .where(HostInstance.organisation_id == organisation_id)
        )
        if hosting is not None:
            query = query.where(HostInstance.hosting == hosting)
        if host_product_key is not None:
            query = query.where(HostProduct.key == host_product_key)
        rows = fetch_page(
            self.session,
            query,
            HOST_INSTANCES_ORDER,
            page,
            key_of=lambda row: (row[1], row[0].hosting, row[0].server_id, row[0].id),
            scalars=False,
            always_count=True,
        )
        return rows.shown_as([RegisteredHost(i, key) for i, key in rows.rows])

    # API tokens

    def token(self, token_id: uuid.UUID) -> ApiToken | None:
        return self.session.get(ApiToken, token_id)

    def token_by_prefix(self, prefix: str) -> ApiToken | None:
        return self.session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).first()

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        return self.session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()

    def tokens_of(
        self, user_id: uuid.UUID, *, include_revoked: bool, page: PageRequest = PageRequest()
    ) -> Page[ApiToken]:
        """A page of a user's tokens, newest first."""
        query = select(ApiToken).where(ApiToken.user_id == user_id)
        if not include_revoked:
            query = query.where(ApiToken.revoked_at.is_(None))
        return fetch_page(self.session, query, TOKENS_NEWEST_FIRST, page, always_count=True)

    # -- e-mail recipients ---------------------------------------------------------------------------------

    def key_recipients(self, organisation_id: uuid.UUID) -> list[str]:
        """Who receives an organisation's license keys: its admins, who may see keys (billing contacts may
        not); the billing address if it has no admin. No query when this session holds the organisation with
        its admins loaded (a locked invoice reads them for the keys its payment signs)."""
        loaded = self.session.identity_map.get(identity_key(Organisation, organisation_id))
        if isinstance(loaded, Organisation) and "admins" not in inspect(loaded).unloaded:
            return [admin.email for admin in loaded.admins] or [loaded.billing_email]
        admins = self.session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation_id, Membership.role == Role.CUSTOMER_ADMIN)
            .order_by(User.email)
        ).all()
        if admins:
            return list(admins)
        organisation = self.organisation_by_id(organisation_id)
        return [organisation.billing_email] if organisation else []

    # -- e-mail links: invitations, password resets, sign-ups ---------------------------------------------------

    def invitation(self, organisation_id: uuid.UUID, email: str) -> Invitation | None:
        return self.session.scalars(
            select(Invitation).where(Invitation.organisation_id == organisation_id, Invitation.email == email)
        ).first()

    def invitation_by_hash(self, token_hash: str) -> tuple[Invitation, Organisation, User | None] | None:
        """An invitation, its organisation and who sent it."""
        row = self.session.execute(
            select(Invitation, Organisation, User)
            .join(Organisation, Organisation.id == Invitation.organisation_id)
            .outerjoin(User, User.id == Invitation.invited_by_id)
            .where(Invitation.token_hash == token_hash)
        ).first()
        return (row[0], row[1], row[2]) if row else None

    def open_invitations(self, organisation_id: uuid.UUID, now: datetime) -> Sequence[Invitation]:
        """The organisation's invitations not yet accepted nor expired, by e-mail."""
        return self.session.scalars(
            select(Invitation)
            .where(
                Invitation.organisation_id == organisation_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.email)
        ).all()

    def close_invitation(self, invitation_id: uuid.UUID, now: datetime) -> bool:
        """Mark an open invitation accepted; False when another request did first (it works once)."""
        result = self.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.accepted_at.is_(None))
            .values(accepted_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    def password_reset_by_hash(self, token_hash: str) -> PasswordReset | None:
        return self.session.scalars(
            select(PasswordReset).where(PasswordReset.token_hash == token_hash)
        ).first()

    def open_password_resets(self, user_id: uuid.UUID, now: datetime) -> int:
        """How many unused, unexpired reset links the user has."""
        return (
            self.session.scalar(
                select(func.count()).where(
                    PasswordReset.user_id == user_id,
                    PasswordReset.used_at.is_(None),
                    PasswordReset.expires_at > now,
                )
            )
            or 0
        )

    def use_password_reset(self, reset: PasswordReset, now: datetime) -> bool:
        """Use a live reset link, and end every other link of its user with it (the password they were sent
        for is gone); False when the link was used already or has expired, by the database's record."""
        result = self.session.execute(
            update(PasswordReset)
            .where(
                PasswordReset.id == reset.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now
            )
            .values(used_at=now)
        )
        if not getattr(result, "rowcount", 0):
            return False
        self.session.execute(
            update(PasswordReset)
            .where(PasswordReset.user_id == reset.user_id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )
        return True

    def sign_up_by_hash(self, token_hash: str) -> SignUp | None:
        return self.session.scalars(select(SignUp).where(SignUp.token_hash == token_hash)).first()

    def open_sign_ups(self, email: str, now: datetime) -> int:
        """How many unconfirmed, unexpired sign-ups wait for this address."""
        return (
            self.session.scalar(
                select(func.count()).where(
                    SignUp.email == email, SignUp.completed_at.is_(None), SignUp.expires_at > now
                )
            )
            or 0
        )

    def complete_sign_up(self, sign_up_id: uuid.UUID, now: datetime) -> bool:
        result = self.session.execute(
            update(SignUp)
            .where(SignUp.id == sign_up_id, SignUp.completed_at.is_(None))
            .values(completed_at=now)
        )
        return bool(getattr(result, "rowcount", 0))
