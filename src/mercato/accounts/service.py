"""The rules of accounts: who exists, who acts for which organisation or vendor, which hosts an organisation
runs, and which API tokens a user holds.

Methods whose name ends in ``_for`` act on behalf of a ``Principal`` and apply the access rules: an object the
principal may not see is ``NotFound`` (indistinguishable from one that does not exist), an action it may see
but not take is ``Forbidden``. The other methods are for trusted callers (the CLI, demo data, other services)
and check only the business rules. Services flush; the request or command commits.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Literal

from babel import Locale
from sqlalchemy.orm import Session

from mercato.accounts.access import Forbidden, Principal
from mercato.accounts.models import ApiToken, HostInstance, Membership, Organisation, Role, User
from mercato.accounts.passwords import hash_password, needs_rehash, verify_password
from mercato.accounts.repository import AccountsRepository, Member, MembershipTarget, RegisteredHost
from mercato.accounts.tokens import SCOPES, hash_token, new_token
from mercato.catalog.domain import tier_label
from mercato.catalog.models import HostProduct, Vendor
from mercato.catalog.repository import CatalogRepository
from mercato.clock import utcnow
from mercato.pricing.types import BillingCycle, Hosting, LicenseType
from mercato.problems import Conflict, InvalidInput, NotFound

# local@domain.tld, without spaces. Whether a mailbox exists only a delivered message can tell.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_HOSTNAME = re.compile(r"(?=.{4,200}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")
# Babel's territories include groupings and private-use codes that are no country anyone is billed in.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})
MAX_CLOUD_USERS = 1_000_000
MAX_TOKEN_DAYS = 3650
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
        raise InvalidInput(f"{text.strip()!r} is not an e-mail address; write it as name@example.com.")
    return email


def _required_text(value: str, what: str, max_length: int = 200) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput(f"The {what} must not be empty.")
    if len(text) > max_length:
        raise InvalidInput(f"The {what} may have at most {max_length} characters.")
    return text


def _parse_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput(f"{value!r} is not a role; the roles are {names}.") from None


# Users and memberships


class AccountService:
    """Users, their memberships, and customer organisations."""

    def __init__(self, session: Session) -> None:
        self.repository = AccountsRepository(session)
        self.catalog = CatalogRepository(session)

    def create_user(self, email: str, name: str, password: str | None = None) -> User:
        """A new, active user. Without a password the account signs in with API tokens only."""
        address = normalise_email(email)
        taken = Conflict(f"A user with the e-mail {address} already exists.", email=address)
        if self.repository.user_by_email(address) is not None:
            raise taken
        user = User(
            email=address,
            name=_required_text(name, "user's name"),
            password_hash=hash_password(password) if password is not None else None,
        )
        self.repository.add_unique(user, taken)
        return user

    def user_by_email(self, email: str) -> User:
        address = normalise_email(email)
        user = self.repository.user_by_email(address)
        if user is None:
            raise NotFound(f"There is no user with the e-mail {address}.")
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

    def authenticate(self, email: str, password: str) -> User | None:
        """The active user these credentials belong to, or None. A hash made with weaker parameters than
        today's is replaced while the password is at hand."""
        try:
            address = normalise_email(email)
        except InvalidInput:
            return None
        user = self.repository.user_by_email(address)
        if user is None or not user.active or not verify_password(user.password_hash, password):
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
            raise InvalidInput(
                f"The role {role} is held in a customer organisation; name one (and no vendor)."
            )
        if role is Role.VENDOR_MEMBER and (vendor is None or organisation is not None):
            raise InvalidInput("The role vendor_member is held in a vendor's team; name the vendor.")
        if role is Role.OPERATOR_ADMIN and (organisation is not None or vendor is not None):
            raise InvalidInput(
                "The role operator_admin is held for the whole marketplace, not for one party."
            )
        organisation_id = organisation.id if organisation else None
        vendor_id = vendor.id if vendor else None
        if self.repository.membership(user.id, role, organisation_id, vendor_id) is not None:
            where = f" of {organisation.name}" if organisation else f" of {vendor.name}" if vendor else ""
            raise Conflict(
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
            raise NotFound(f"There is no user {user_id}.")
        return user

    def vendor(self, slug: str) -> Vendor:
        vendor = self.catalog.vendor_by_slug(slug.strip().lower())
        if vendor is None:
            raise NotFound(f"There is no vendor with the slug {slug!r}.")
        return vendor

    # Organisations

    def create_organisation(
        self, slug: str, name: str, billing_email: str, country: str | None = None
    ) -> Organisation:
        """A new customer organisation. The slug is its short name in URLs and commands (``acme``)."""
        slug = slug.strip().lower()
        if not _SLUG.fullmatch(slug):
            raise InvalidInput(
                f"{slug!r} is not a usable slug: use 1 to 64 lower-case letters, digits and inner hyphens, "
                "like acme or acme-europe."
            )
        if _parse_id(slug) is not None:
            # Organisations are addressed by id or slug in one path segment; a slug must not pose as an id.
            raise InvalidInput("A slug must not look like an id.")
        taken = Conflict(f"An organisation with the slug {slug!r} already exists.", organisation_slug=slug)
        if self.repository.organisation_by_slug(slug) is not None:
            raise taken
        organisation = Organisation(
            slug=slug,
            name=_required_text(name, "organisation's name"),
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
            raise InvalidInput(f"{country!r} is not a country code; use ISO 3166 alpha-2, like US, DE or JP.")
        return code

    def organisation(self, reference: str | uuid.UUID) -> Organisation:
        """An organisation by id or slug (``NotFound`` otherwise)."""
        organisation = self._find_organisation(reference)
        if organisation is None:
            raise NotFound(f"There is no organisation {str(reference)!r}.")
        return organisation

    def _find_organisation(self, reference: str | uuid.UUID) -> Organisation | None:
        organisation_id = reference if isinstance(reference, uuid.UUID) else _parse_id(reference)
        if organisation_id is not None:
            return self.repository.organisation_by_id(organisation_id)
        return self.repository.organisation_by_slug(str(reference).strip().lower())

    def organisation_for(self, principal: Principal, reference: str | uuid.UUID) -> Organisation:
        """An organisation the principal may see. One it may not see answers exactly like a missing one."""
        organisation = self._find_organisation(reference)
        if organisation is None or not principal.can_read_organisation(organisation.id):
            raise NotFound(
                f"There is no organisation {str(reference)!r} that you can see. "
                "GET /api/v1/organisations lists yours."
            )
        return organisation

    def administered_by(self, principal: Principal, reference: str | uuid.UUID, action: str) -> Organisation:
        """An organisation the principal may manage (members, host instances); ``action`` completes the
        sentence "Only customer admins of X and operator staff may ..."."""
        organisation = self.organisation_for(principal, reference)
        if not principal.can_buy_for(organisation.id):
            raise Forbidden(f"Only customer admins of {organisation.name} and operator staff may {action}.")
        return organisation

    def organisations_for(
        self, principal: Principal, *, text: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[Sequence[Organisation], int]:
        """The organisations the principal may see (operator staff: all), by slug, and how many there are."""
        only = None if principal.operator else principal.organisations
        return self.repository.list_organisations(only=only, text=text, limit=limit, offset=offset)

    def create_organisation_for(
        self, principal: Principal, slug: str, name: str, billing_email: str, country: str | None = None
    ) -> Organisation:
        if not principal.operator:
            raise Forbidden("Only operator staff may create customer organisations.")
        return self.create_organisation(slug, name, billing_email, country)

    def members_for(
        self, principal: Principal, reference: str | uuid.UUID, *, limit: int = 50, offset: int = 0
    ) -> tuple[Organisation, list[Member], int]:
        """Everyone with a role in the organisation: visible to its members and operator staff."""
        organisation = self.organisation_for(principal, reference)
        members, total = self.repository.members_of(organisation.id, limit=limit, offset=offset)
        return organisation, members, total

    def add_member_for(
        self, principal: Principal, reference: str | uuid.UUID, email: str, role: str, name: str | None = None
    ) -> tuple[Member, bool]:
        """Give the person with this e-mail a customer role in the organisation, creating a password-less user
        if the address is new. Returns the membership and whether the user was created."""
        organisation = self.administered_by(principal, reference, "add members")
        customer_role = _role(role)
        if customer_role not in CUSTOMER_ROLES:
            raise InvalidInput(
                f"An organisation's members are customer_admin or billing_contact, not {customer_role.value}."
            )
        user, created = self.find_or_create_user(email, name)
        membership = self.grant(user, customer_role, organisation=organisation)
        return Member(membership, user), created


# Host instances


@dataclass(frozen=True)
class HostInstanceTerms:
    """What can change about a host instance over its life; its host product, hosting and server id cannot.

    Server and Data Center: ``user_tier`` (users, or -1 for unlimited) and ``host_maintenance_end``.
    Cloud: ``cloud_users``, ``billing_cycle`` (monthly or annual) and ``next_billing_date``.
    """

    name: str = ""
    host_license_type: str = LicenseType.COMMERCIAL.value
    user_tier: int | None = None
    host_maintenance_end: date | None = None
    cloud_users: int | None = None
    billing_cycle: str | None = None
    next_billing_date: date | None = None


def _check_terms(host: HostProduct, hosting: Hosting, terms: HostInstanceTerms) -> HostInstanceTerms:
    """The terms, trimmed, if they describe a real instance of ``host`` in ``hosting``; ``InvalidInput``
    with the first thing that is wrong otherwise."""
    name = terms.name.strip()
    if len(name) > 200:
        raise InvalidInput("A host instance's name may have at most 200 characters.")
    if terms.host_license_type not in {t.value for t in LicenseType}:
        types = ", ".join(t.value for t in LicenseType)
        raise InvalidInput(f"{terms.host_license_type!r} is not a license type; the types are {types}.")
    if hosting is Hosting.CLOUD:
        if terms.user_tier is not None or terms.host_maintenance_end is not None:
            raise InvalidInput(
                "A cloud site has users and a billing cycle, not a user tier or a maintenance end."
            )
        if terms.cloud_users is None or not 1 <= terms.cloud_users <= MAX_CLOUD_USERS:
            raise InvalidInput(f"A cloud site needs its number of users (1 to {MAX_CLOUD_USERS:,}).")
        if terms.billing_cycle not in {c.value for c in BillingCycle}:
            raise InvalidInput("A cloud site is billed monthly or annual; give billing_cycle.")
        if terms.next_billing_date is None:
            raise InvalidInput(
                "A cloud site needs its next billing date: apps bought for it co-term with it."
            )
    else:
        if terms.cloud_users is not None or terms.billing_cycle is not None or terms.next_billing_date:
            raise InvalidInput(
                f"A {hosting.label} has a user tier and a maintenance end, not cloud users or a billing cycle."
            )
        if terms.user_tier is None or terms.user_tier not in host.user_tiers:
            tiers = ", ".join(tier_label(t) for t in host.user_tiers)
            given = "none" if terms.user_tier is None else tier_label(terms.user_tier)
            raise InvalidInput(
                f"A {host.name} {hosting.label} is licensed in user tiers {tiers}; the tier given was {given}."
            )
    # Enum members arrive from the API; the row stores their plain values.
    return HostInstanceTerms(
        name=name,
        host_license_type=str(terms.host_license_type),
        user_tier=terms.user_tier,
        host_maintenance_end=terms.host_maintenance_end,
        cloud_users=terms.cloud_users,
        billing_cycle=str(terms.billing_cycle) if terms.billing_cycle is not None else None,
        next_billing_date=terms.next_billing_date,
    )


def terms_of(instance: HostInstance) -> HostInstanceTerms:
    """The current terms of an instance, to change some of them with ``dataclasses.replace``."""
    return HostInstanceTerms(
        name=instance.name,
        host_license_type=instance.host_license_type,
        user_tier=instance.user_tier,
        host_maintenance_end=instance.host_maintenance_end,
        cloud_users=instance.cloud_users,
        billing_cycle=instance.billing_cycle,
        next_billing_date=instance.next_billing_date,
    )


class HostInstanceService:
    """The servers, Data Center clusters and cloud sites an organisation runs its host products on."""

    def __init__(self, session: Session) -> None:
        self.accounts = AccountService(session)
        self.repository = self.accounts.repository
        self.catalog = self.accounts.catalog

    def register(
        self,
        organisation: Organisation,
        host_product_key: str,
        hosting: Hosting | str,
        server_id: str,
        terms: HostInstanceTerms,
    ) -> RegisteredHost:
        """Record that ``organisation`` runs ``host_product_key`` in ``hosting`` on the server ``server_id``
        (the cloud site's hostname for cloud). A server id is registered once per host product and hosting."""
        host = self.catalog.host_product_by_key(host_product_key.strip().lower())
        if host is None:
            keys = ", ".join(h.key for h in self.catalog.list_host_products())
            raise InvalidInput(
                f"There is no host product {host_product_key!r}; the host products are {keys}."
            )
        try:
            hosting = Hosting(hosting)
        except ValueError:
            raise InvalidInput(f"{hosting!r} is not a hosting; use server, datacenter or cloud.") from None
        sold = {listing.hosting for listing in self.catalog.listings_of_product(host.key)}
        if hosting.value not in sold:
            raise InvalidInput(f"{host.name} is not sold as a {hosting.label}.")
        binding = self._server_id(hosting, server_id)
        terms = _check_terms(host, hosting, terms)
        # Said without naming the owner: the server id may belong to another organisation.
        taken = Conflict(
            f"The {host.name} {hosting.label} {binding!r} is already registered. If it changed hands, "
            "ask operator staff to move it.",
            server_id=binding,
        )
        if self.repository.host_instance_bound_to(host.id, hosting.value, binding) is not None:
            raise taken
        instance = HostInstance(
            organisation_id=organisation.id,
            host_product_id=host.id,
            hosting=hosting.value,
            server_id=binding,
            **asdict(terms),
        )
        self.repository.add_unique(instance, taken)
        return RegisteredHost(instance, host.key)

    @staticmethod
    def _server_id(hosting: Hosting, server_id: str) -> str:
        if hosting is Hosting.CLOUD:
            site = server_id.strip().lower().removeprefix("https://").rstrip("/")
            if not _HOSTNAME.fullmatch(site):
                raise InvalidInput(
                    f"{server_id!r} is not a cloud site; give its hostname, like acme.wiki.example."
                )
            return site
        binding = server_id.strip()
        if not binding or len(binding) > 200 or any(c.isspace() for c in binding):
            raise InvalidInput(
                "A server id is the host's license server id, like BX7Q-2M9L-33KD-W1PA: up to 200 characters "
                "without spaces."
            )
        return binding

    def change(self, registered: RegisteredHost, terms: HostInstanceTerms) -> RegisteredHost:
        """Replace the terms of an instance, checked as a whole (so a tier cannot land on a cloud site)."""
        instance = registered.instance
        host = self.catalog.host_product_by_key(registered.host_product_key)
        assert host is not None  # host_products rows are RESTRICTed while instances refer to them
        for field, value in asdict(_check_terms(host, Hosting(instance.hosting), terms)).items():
            setattr(instance, field, value)
        self.repository.add(instance)
        return registered

    def register_for(
        self,
        principal: Principal,
        organisation: str | uuid.UUID,
        host_product_key: str,
        hosting: Hosting | str,
        server_id: str,
        terms: HostInstanceTerms,
    ) -> RegisteredHost:
        owner = self.accounts.administered_by(principal, organisation, "register host instances")
        return self.register(owner, host_product_key, hosting, server_id, terms)

    def instances_for(
        self,
        principal: Principal,
        organisation: str | uuid.UUID,
        *,
        hosting: str | None = None,
        host_product_key: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[RegisteredHost], int]:
        owner = self.accounts.organisation_for(principal, organisation)
        return self.repository.host_instances_of(
            owner.id, hosting=hosting, host_product_key=host_product_key, limit=limit, offset=offset
        )

    def instance_for(self, principal: Principal, instance_id: str | uuid.UUID) -> RegisteredHost:
        """A host instance of an organisation the principal may see (``NotFound`` otherwise)."""
        parsed = instance_id if isinstance(instance_id, uuid.UUID) else _parse_id(instance_id)
        registered = self.repository.host_instance(parsed) if parsed is not None else None
        if registered is None or not principal.can_read_organisation(registered.instance.organisation_id):
            raise NotFound(f"There is no host instance {str(instance_id)!r} that you can see.")
        return registered

    def change_for(
        self, principal: Principal, instance_id: str | uuid.UUID, terms: HostInstanceTerms
    ) -> RegisteredHost:
        registered = self.instance_for(principal, instance_id)
        if not principal.can_buy_for(registered.instance.organisation_id):
            raise Forbidden(
                "Only the organisation's customer admins and operator staff may change its hosts."
            )
        return self.change(registered, terms)

    def instance(self, instance_id: uuid.UUID) -> RegisteredHost:
        registered = self.repository.host_instance(instance_id)
        if registered is None:
            raise NotFound(f"There is no host instance {instance_id}.")
        return registered


# API tokens


@dataclass(frozen=True)
class NewToken:
    """A token just made. ``token`` exists only here: the database keeps its hash."""

    token: str
    record: ApiToken


TokenState = Literal["active", "expired", "revoked"]


def token_state(token: ApiToken, now: datetime | None = None) -> TokenState:
    """active, expired or revoked."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def normalise_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes in a stable order. ``write`` brings ``read`` with it: every write answers with what it
    wrote, and a token that may change an object but not see it would be of no use."""
    given = {s.strip().lower() for s in scopes}
    unknown = given - set(SCOPES)
    if unknown:
        raise InvalidInput(f"Unknown scope {sorted(unknown)[0]!r}; a token's scopes are read and write.")
    if not given:
        raise InvalidInput("A token needs at least one scope: read, or read and write.")
    if "write" in given:
        given.add("read")
    return [s for s in SCOPES if s in given]


class TokenService:
    """API tokens: made for a user, shown once, stored as a hash, listed by prefix, revoked for good."""

    def __init__(self, session: Session) -> None:
        self.accounts = AccountService(session)
        self.repository = self.accounts.repository

    def create(
        self,
        user: User,
        *,
        scopes: Iterable[str] = ("read",),
        name: str | None = None,
        expires_in_days: int | None = None,
        now: datetime | None = None,
    ) -> NewToken:
        """A new token for ``user`` (read-only unless ``write`` is asked for), valid for ``expires_in_days``
        days or until revoked."""
        now = now or utcnow()
        if not user.active:
            raise InvalidInput(f"{user.email} is deactivated; an inactive user gets no tokens.")
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
            raise InvalidInput(f"A token expires after 1 to {MAX_TOKEN_DAYS} days, or never.")
        label = _required_text(name, "token's name") if name is not None else f"Token of {now:%Y-%m-%d}"
        token, prefix, token_hash = new_token()
        record = ApiToken(
            user_id=user.id,
            name=label,
            prefix=prefix,
            token_hash=token_hash,
            scopes=normalise_scopes(scopes),
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days is not None else None,
        )
        self.repository.add(record)
        return NewToken(token, record)

    def create_for(
        self,
        principal: Principal,
        *,
        scopes: Iterable[str] = ("read",),
        name: str | None = None,
        expires_in_days: int | None = None,
    ) -> NewToken:
        """A token for the principal's own user. It may not carry a scope the current credential lacks."""
        wanted = normalise_scopes(scopes)
        missing = [s for s in wanted if s not in principal.scopes]
        if missing:
            raise Forbidden(
                f"A token cannot grant more than the token that creates it; it lacks {missing[0]!r}."
            )
        return self.create(
            self.accounts.user(principal.user_id), scopes=wanted, name=name, expires_in_days=expires_in_days
        )

    def tokens_of(
        self, user_id: uuid.UUID, *, include_revoked: bool = False, limit: int = 50, offset: int = 0
    ) -> tuple[Sequence[ApiToken], int]:
        return self.repository.tokens_of(user_id, include_revoked=include_revoked, limit=limit, offset=offset)

    def revoke_for(
        self, principal: Principal, token_id: str | uuid.UUID, now: datetime | None = None
    ) -> ApiToken:
        """Revoke one of the principal's own tokens; anyone else's is ``NotFound``. Revoking twice is harmless."""
        parsed = token_id if isinstance(token_id, uuid.UUID) else _parse_id(token_id)
        token = self.repository.token(parsed) if parsed is not None else None
        if token is None or token.user_id != principal.user_id:
            raise NotFound(f"You have no API token {str(token_id)!r}. GET /api/v1/tokens lists yours.")
        return self._revoke(token, now)

    def revoke(self, prefix_or_token: str, now: datetime | None = None) -> ApiToken:
        """Revoke a token by the prefix shown in lists, or by the whole token."""
        text = prefix_or_token.strip()
        token = self.repository.token_by_prefix(text) or self.repository.token_by_hash(hash_token(text))
        if token is None:
            raise NotFound(
                f"No API token has the prefix {text!r}. 'mercato tokens list --email ...' shows the prefixes."
            )
        return self._revoke(token, now)

    def _revoke(self, token: ApiToken, now: datetime | None) -> ApiToken:
        if token.revoked_at is None:
            token.revoked_at = now or utcnow()
            self.repository.add(token)
        return token
