"""The rules of accounts: who exists, who acts for which organisation or vendor, which hosts an organisation
runs (``host_instances``), and which API tokens a user holds (``api_tokens``).

Methods whose name ends in ``_for`` act on behalf of a ``Principal`` and apply the access rules: an object the
principal may not see is ``NotFound`` (indistinguishable from one that does not exist), an action it may see
but not take is ``Forbidden``. The other methods are for trusted callers (the CLI, demo data, other services)
and check only the business rules. Services flush; the request or command commits.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache

from babel import Locale
from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.accounts.errors import (
    EmailTaken,
    FieldEmpty,
    FieldTooLong,
    InvalidEmail,
    InvalidSlug,
    NotAnAdmin,
    OperatorOnly,
    OrganisationNotFound,
    RoleAlreadyHeld,
    RoleHeldElsewhere,
    SlugTaken,
    UnknownCountry,
    UnknownRole,
    UserNotFound,
    VendorNotFound,
)
from mercato.accounts.models import Membership, Organisation, Role, User
from mercato.accounts.passwords import hash_password, needs_rehash, verify_password
from mercato.accounts.repository import AccountsRepository, Member, MembershipTarget
from mercato.catalog.models import Vendor
from mercato.catalog.repository import CatalogRepository
from mercato.paging import Page, PageRequest
from mercato.problems import InvalidInput

# local@domain.tld, without spaces. Whether a mailbox exists only a delivered message can tell.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
# Babel's territories include groupings and private-use codes that are no country anyone is billed in.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})
CUSTOMER_ROLES = (Role.CUSTOMER_ADMIN, Role.BILLING_CONTACT)
ROLE_LABELS = {
    Role.CUSTOMER_ADMIN: "a customer admin",
    Role.BILLING_CONTACT: "a billing contact",
    Role.VENDOR_MEMBER: "a vendor member",
    Role.OPERATOR_ADMIN: "an operator admin",
}


@cache
def _countries() -> frozenset[str]:
    codes = (code for code in Locale("en").territories if isinstance(code, str))
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha()) - _NOT_COUNTRIES


def normalise_email(text: str) -> str:
    """An e-mail address as Mercato stores it: trimmed and lower case (``InvalidInput`` if it is none)."""
    email = text.strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidEmail(f"{text.strip()!r} is not an e-mail address; write it as name@example.com.")
    return email


def required_text(value: str, what: str, max_length: int = 200) -> str:
    text = value.strip()
    if not text:
        raise FieldEmpty(f"The {what} must not be empty.")
    if len(text) > max_length:
        raise FieldTooLong(f"The {what} may have at most {max_length} characters.")
    return text


def parse_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise UnknownRole(f"{value!r} is not a role; the roles are {names}.") from None


# Users and memberships


class AccountService:
    """Users, their memberships, and customer organisations."""

    def __init__(self, session: Session) -> None:
        self.repository = AccountsRepository(session)
        self.catalog = CatalogRepository(session)

    def create_user(self, email: str, name: str, password: str | None = None) -> User:
        """A new, active user. Without a password the account signs in with API tokens only."""
        address = normalise_email(email)
        taken = EmailTaken(f"A user with the e-mail {address} already exists.", email=address)
        if self.repository.user_by_email(address) is not None:
            raise taken
        user = User(
            email=address,
            name=required_text(name, "user's name"),
            password_hash=hash_password(password) if password is not None else None,
        )
        self.repository.add_unique(user, taken)
        return user

    def user_by_email(self, email: str) -> User:
        address = normalise_email(email)
        user = self.repository.user_by_email(address)
        if user is None:
            raise UserNotFound(f"There is no user with the e-mail {address}.")
        return user

    def find_or_create_user(self, email: str, name: str | None = None) -> tuple[User, bool]:
        """The user with this e-mail, created password-less if unknown (named after the address by default).
        The flag says whether the user was created."""
        address = normalise_email(email)
        user = self.repository.user_by_email(address)
        if user is not None:
            return user, False
        return self.create_user(address, name or address.split("@", 1)[0]), True

    def set_password(self, user: User, password: str) -> None:
        user.password_hash = hash_password(password)
        self.repository.add(user)

    def disable(self, user: User, now: datetime) -> int:
        """Stop the user signing in: passwords, API tokens and open browser sessions are refused from now on
        (the sessions are ended; the tokens are kept, so enabling the user again restores them). Returns how
        many browser sessions were ended. Disabling a disabled user changes nothing."""
        user.active = False
        ended = self.repository.end_web_sessions(user.id, now)
        self.repository.add(user)
        return ended

    def enable(self, user: User) -> None:
        user.active = True
        self.repository.add(user)

    def authenticate(self, email: str, password: str) -> User | None:
        """The active user these credentials belong to, or None. A hash made with weaker parameters than
        today's is replaced while the password is at hand."""
        try:
            address = normalise_email(email)
        except InvalidInput:
            address = ""
        user = self.repository.user_by_email(address) if address else None
        # Verified even without a user (against a stand-in): an unknown e-mail takes a wrong password's time.
        matches = verify_password(user.password_hash if user else None, password)
        if user is None or not user.active or not matches:
            return None
        if user.password_hash is not None and needs_rehash(user.password_hash):
            self.set_password(user, password)
        return user

    def grant(
        self,
        user: User,
        role: Role | str,
        *,
        organisation: Organisation | None = None,
        vendor: Vendor | None = None,
    ) -> Membership:
        """Give ``user`` a role: customer roles need an organisation, vendor_member a vendor, operator_admin
        neither. Granting a role the user already holds is a ``Conflict``."""
        role = _role(role)
        if role in CUSTOMER_ROLES and (organisation is None or vendor is not None):
            raise RoleHeldElsewhere(
                f"The role {role} is held in a customer organisation; name one (and no vendor)."
            )
        if role is Role.VENDOR_MEMBER and (vendor is None or organisation is not None):
            raise RoleHeldElsewhere("The role vendor_member is held in a vendor's team; name the vendor.")
        if role is Role.OPERATOR_ADMIN and (organisation is not None or vendor is not None):
            raise RoleHeldElsewhere(
                "The role operator_admin is held for the whole marketplace, not for one party."
            )
        organisation_id = organisation.id if organisation else None
        vendor_id = vendor.id if vendor else None
        if self.repository.membership(user.id, role, organisation_id, vendor_id) is not None:
            where = f" of {organisation.name}" if organisation else f" of {vendor.name}" if vendor else ""
            raise RoleAlreadyHeld(
                f"{user.email} is already {ROLE_LABELS[role]}{where}.", email=user.email, role=role.value
            )
        membership = Membership(
            user_id=user.id, role=role, organisation_id=organisation_id, vendor_id=vendor_id
        )
        self.repository.add(membership)
        return membership

    def holds(
        self,
        user: User,
        role: Role,
        *,
        organisation: Organisation | None = None,
        vendor: Vendor | None = None,
    ) -> bool:
        organisation_id = organisation.id if organisation else None
        vendor_id = vendor.id if vendor else None
        return self.repository.membership(user.id, role, organisation_id, vendor_id) is not None

    def memberships_of(self, user_id: uuid.UUID) -> Sequence[MembershipTarget]:
        return self.repository.memberships_of(user_id)

    def user(self, user_id: uuid.UUID) -> User:
        user = self.repository.user_by_id(user_id)
        if user is None:
            raise UserNotFound(f"There is no user {user_id}.")
        return user

    def vendor(self, slug: str) -> Vendor:
        vendor = self.catalog.vendor_by_slug(slug.strip().lower())
        if vendor is None:
            raise VendorNotFound(f"There is no vendor with the slug {slug!r}.")
        return vendor

    # Organisations

    def create_organisation(
        self, slug: str, name: str, billing_email: str, country: str | None = None
    ) -> Organisation:
        """A new customer organisation. The slug is its short name in URLs and commands (``acme``)."""
        slug = slug.strip().lower()
        if not _SLUG.fullmatch(slug):
            raise InvalidSlug(
                f"{slug!r} is not a usable slug: use 1 to 64 lower-case letters, digits and inner hyphens, "
                "like acme or acme-europe."
            )
        if parse_id(slug) is not None:
            # Organisations are addressed by id or slug in one path segment; a slug must not pose as an id.
            raise InvalidSlug("A slug must not look like an id.")
        taken = SlugTaken(f"An organisation with the slug {slug!r} already exists.", organisation_slug=slug)
        if self.repository.organisation_by_slug(slug) is not None:
            raise taken
        organisation = Organisation(
            slug=slug,
            name=required_text(name, "organisation's name"),
            billing_email=normalise_email(billing_email),
            country=self._country(country),
        )
        self.repository.add_unique(organisation, taken)
        return organisation

    @staticmethod
    def _country(country: str | None) -> str | None:
        if country is None or not country.strip():
            return None
        code = country.strip().upper()
        if code not in _countries():
            raise UnknownCountry(
                f"{country!r} is not a country code; use ISO 3166 alpha-2, like US, DE or JP."
            )
        return code

    def organisation(self, reference: str | uuid.UUID) -> Organisation:
        """An organisation by id or slug (``NotFound`` otherwise)."""
        organisation = self._find_organisation(reference)
        if organisation is None:
            raise OrganisationNotFound(f"There is no organisation {str(reference)!r}.")
        return organisation

    def _find_organisation(self, reference: str | uuid.UUID) -> Organisation | None:
        organisation_id = reference if isinstance(reference, uuid.UUID) else parse_id(reference)
        if organisation_id is not None:
            return self.repository.organisation_by_id(organisation_id)
        return self.repository.organisation_by_slug(str(reference).strip().lower())

    def organisation_for(self, principal: Principal, reference: str | uuid.UUID) -> Organisation:
        """An organisation the principal may see. One it may not see answers exactly like a missing one."""
        organisation = self._find_organisation(reference)
        if organisation is None or not principal.can_read_organisation(organisation.id):
            raise OrganisationNotFound(
                f"There is no organisation {str(reference)!r} that you can see. "
                "GET /api/v1/organisations lists yours."
            )
        return organisation

    def administered_by(self, principal: Principal, reference: str | uuid.UUID, action: str) -> Organisation:
        """An organisation the principal may manage (members, host instances); ``action`` completes the
        sentence "Only customer admins of X and operator staff may ..."."""
        organisation = self.organisation_for(principal, reference)
        if not principal.can_buy_for(organisation.id):
            raise NotAnAdmin(f"Only customer admins of {organisation.name} and operator staff may {action}.")
        return organisation

    def organisations_for(
        self, principal: Principal, *, text: str | None = None, page: PageRequest = PageRequest()
    ) -> Page[Organisation]:
        """The organisations the principal may see (operator staff: all), by slug, and how many there are."""
        only = None if principal.operator else principal.organisations
        return self.repository.list_organisations(only=only, text=text, page=page)

    def create_organisation_for(
        self, principal: Principal, slug: str, name: str, billing_email: str, country: str | None = None
    ) -> Organisation:
        if not principal.operator:
            raise OperatorOnly("Only operator staff may create customer organisations.")
        return self.create_organisation(slug, name, billing_email, country)

    def members_for(
        self, principal: Principal, reference: str | uuid.UUID, page: PageRequest = PageRequest()
    ) -> tuple[Organisation, Page[Member]]:
        """Everyone with a role in the organisation: visible to its members and operator staff."""
        organisation = self.organisation_for(principal, reference)
        return organisation, self.repository.members_of(organisation.id, page)

    def add_member_for(
        self, principal: Principal, reference: str | uuid.UUID, email: str, role: str, name: str | None = None
    ) -> tuple[Organisation, Member]:
        """Give the person with this e-mail a customer role in the organisation, creating a password-less user
        if the address is new. Whether it was new is not said: that would tell an admin who uses Mercato."""
        organisation = self.administered_by(principal, reference, "add members")
        customer_role = _role(role)
        if customer_role not in CUSTOMER_ROLES:
            raise UnknownRole(
                f"An organisation's members are customer_admin or billing_contact, not {customer_role.value}."
            )
        user, _ = self.find_or_create_user(email, name)
        membership = self.grant(user, customer_role, organisation=organisation)
        return organisation, Member(membership, user)
