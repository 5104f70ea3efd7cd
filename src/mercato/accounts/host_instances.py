"""Host instances: the servers and cloud sites an organisation runs, with their host license terms. Apps are
bought for one, and its terms (tier, maintenance, cloud users and billing date) are what quotes check against."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy.orm import Session

from mercato.accounts.access import Principal
from mercato.accounts.errors import (
    FieldTooLong,
    HostingNotSold,
    HostInstanceNotFound,
    HostTermsInvalid,
    InvalidServerId,
    NotAnAdmin,
    ServerIdTaken,
    UnknownHosting,
    UnknownHostProduct,
    UnknownLicenseType,
)
from mercato.accounts.models import HostInstance, Organisation
from mercato.accounts.repository import RegisteredHost
from mercato.accounts.service import AccountService, parse_id
from mercato.catalog.domain import tier_label
from mercato.catalog.models import HostProduct
from mercato.paging import Page, PageRequest
from mercato.pricing.types import BillingCycle, Hosting, LicenseType

MAX_CLOUD_USERS = 1_000_000
# A cloud site's hostname: labels of letters, digits and hyphens, 4 to 200 characters in all.
HOSTNAME = re.compile(r"(?=.{4,200}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")

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
        raise FieldTooLong("A host instance's name may have at most 200 characters.")
    if terms.host_license_type not in {t.value for t in LicenseType}:
        types = ", ".join(t.value for t in LicenseType)
        raise UnknownLicenseType(f"{terms.host_license_type!r} is not a license type; the types are {types}.")
    if hosting is Hosting.CLOUD:
        if terms.user_tier is not None or terms.host_maintenance_end is not None:
            raise HostTermsInvalid(
                "A cloud site has users and a billing cycle, not a user tier or a maintenance end."
            )
        if terms.cloud_users is None or not 1 <= terms.cloud_users <= MAX_CLOUD_USERS:
            raise HostTermsInvalid(f"A cloud site needs its number of users (1 to {MAX_CLOUD_USERS:,}).")
        if terms.billing_cycle not in {c.value for c in BillingCycle}:
            raise HostTermsInvalid("A cloud site is billed monthly or annual; give billing_cycle.")
        if terms.next_billing_date is None:
            raise HostTermsInvalid(
                "A cloud site needs its next billing date: apps bought for it co-term with it."
            )
    else:
        if terms.cloud_users is not None or terms.billing_cycle is not None or terms.next_billing_date:
            raise HostTermsInvalid(
                f"A {hosting.label} has a user tier and a maintenance end, not cloud users or a billing cycle."
            )
        if terms.user_tier is None or terms.user_tier not in host.user_tiers:
            tiers = ", ".join(tier_label(t) for t in host.user_tiers)
            given = "none" if terms.user_tier is None else tier_label(terms.user_tier)
            raise HostTermsInvalid(
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
            raise UnknownHostProduct(
                f"There is no host product {host_product_key!r}; the host products are {keys}."
            )
        try:
            hosting = Hosting(hosting)
        except ValueError:
            raise UnknownHosting(f"{hosting!r} is not a hosting; use server, datacenter or cloud.") from None
        sold = {listing.hosting for listing in self.catalog.listings_of_product(host.key)}
        if hosting.value not in sold:
            raise HostingNotSold(f"{host.name} is not sold as a {hosting.label}.")
        binding = self._server_id(hosting, server_id)
        terms = _check_terms(host, hosting, terms)
        # Said without naming the owner: the server id may belong to another organisation.
        taken = ServerIdTaken(
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
            if not HOSTNAME.fullmatch(site):
                raise InvalidServerId(
                    f"{server_id!r} is not a cloud site; give its hostname, like acme.wiki.example."
                )
            return site
        binding = server_id.strip()
        if not binding or len(binding) > 200 or any(c.isspace() for c in binding):
            raise InvalidServerId(
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
        page: PageRequest = PageRequest(),
    ) -> Page[RegisteredHost]:
        owner = self.accounts.organisation_for(principal, organisation)
        return self.repository.host_instances_of(
            owner.id, hosting=hosting, host_product_key=host_product_key, page=page
        )

    def instance_for(self, principal: Principal, instance_id: str | uuid.UUID) -> RegisteredHost:
        """A host instance of an organisation the principal may see (``NotFound`` otherwise)."""
        parsed = instance_id if isinstance(instance_id, uuid.UUID) else parse_id(instance_id)
        registered = self.repository.host_instance(parsed) if parsed is not None else None
        if registered is None or not principal.can_read_organisation(registered.instance.organisation_id):
            raise HostInstanceNotFound(f"There is no host instance {str(instance_id)!r} that you can see.")
        return registered

    def change_for(
        self, principal: Principal, instance_id: str | uuid.UUID, terms: HostInstanceTerms
    ) -> RegisteredHost:
        registered = self.instance_for(principal, instance_id)
        if not principal.can_buy_for(registered.instance.organisation_id):
            raise NotAnAdmin(
                "Only the organisation's customer admins and operator staff may change its hosts."
            )
        return self.change(registered, terms)

    def instance(self, instance_id: uuid.UUID) -> RegisteredHost:
        registered = self.repository.host_instance(instance_id)
        if registered is None:
            raise HostInstanceNotFound(f"There is no host instance {instance_id}.")
        return registered
