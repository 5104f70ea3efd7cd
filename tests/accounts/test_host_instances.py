"""Host instances: a server or Data Center instance has a user tier from the host's tiers and a maintenance
end; a cloud site has users, a billing cycle and a next billing date; a server id is registered once."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy.orm import Session

from accounts.conftest import Demo
from mercato.accounts.host_instances import HostInstanceService, HostInstanceTerms
from mercato.accounts.models import Organisation
from mercato.accounts.service import AccountService
from mercato.problems import Conflict, InvalidInput

SERVER = HostInstanceTerms(name="Staging wiki", user_tier=25, host_maintenance_end=date(2027, 1, 31))
CLOUD = HostInstanceTerms(cloud_users=15, billing_cycle="annual", next_billing_date=date(2027, 2, 1))


@pytest.fixture
def hosts(session: Session, demo: Demo) -> HostInstanceService:
    return HostInstanceService(session)


def acme(session: Session) -> Organisation:
    return AccountService(session).organisation("acme")


def test_a_server_is_registered_with_its_tier_and_maintenance_end(
    session: Session, hosts: HostInstanceService
) -> None:
    registered = hosts.register(acme(session), "WIKI", "server", "  STG-0001 ", SERVER)
    instance = registered.instance
    assert registered.host_product_key == "wiki"
    assert (instance.server_id, instance.user_tier, instance.host_license_type) == (
        "STG-0001",
        25,
        "commercial",
    )
    assert instance.host_maintenance_end == date(2027, 1, 31)


def test_unlimited_is_a_tier(session: Session, hosts: HostInstanceService) -> None:
    registered = hosts.register(acme(session), "wiki", "datacenter", "DC-1", replace(SERVER, user_tier=-1))
    assert registered.instance.user_tier == -1


def test_a_tier_the_host_is_not_sold_in_is_refused_with_the_tiers(
    session: Session, hosts: HostInstanceService
) -> None:
    with pytest.raises(InvalidInput) as refused:
        hosts.register(acme(session), "wiki", "server", "STG-2", replace(SERVER, user_tier=30))
    assert (
        "user tiers 10, 25, 50, 100, 250, 500, 2000, 10000, unlimited; the tier given was 30"
        in refused.value.detail
    )
    with pytest.raises(InvalidInput, match="the tier given was none"):
        hosts.register(acme(session), "wiki", "server", "STG-2", replace(SERVER, user_tier=None))


def test_a_cloud_site_needs_users_cycle_and_next_billing_date(
    session: Session, hosts: HostInstanceService
) -> None:
    site = hosts.register(acme(session), "tracker", "cloud", "https://Acme.Tracker.example/", CLOUD).instance
    assert (site.server_id, site.cloud_users, site.billing_cycle) == ("acme.tracker.example", 15, "annual")
    for missing, sentence in (
        ({"cloud_users": None}, "number of users"),
        ({"billing_cycle": "weekly"}, "monthly or annual"),
        ({"next_billing_date": None}, "next billing date"),
    ):
        with pytest.raises(InvalidInput, match=sentence):
            hosts.register(
                acme(session), "tracker", "cloud", "other.tracker.example", replace(CLOUD, **missing)
            )
    with pytest.raises(InvalidInput, match="not a cloud site"):
        hosts.register(acme(session), "tracker", "cloud", "not a host name", CLOUD)


def test_server_and_cloud_terms_do_not_mix(session: Session, hosts: HostInstanceService) -> None:
    with pytest.raises(InvalidInput, match="not a user tier"):
        hosts.register(acme(session), "wiki", "cloud", "mix.wiki.example", replace(CLOUD, user_tier=100))
    with pytest.raises(InvalidInput, match="not cloud users"):
        hosts.register(acme(session), "wiki", "server", "MIX-1", replace(SERVER, cloud_users=10))


def test_host_product_and_hosting_must_exist_and_be_sold(
    session: Session, hosts: HostInstanceService
) -> None:
    with pytest.raises(InvalidInput, match="no host product 'crm'; the host products are tracker, wiki"):
        hosts.register(acme(session), "crm", "server", "X-1", SERVER)
    with pytest.raises(InvalidInput, match="not a hosting"):
        hosts.register(acme(session), "wiki", "mainframe", "X-1", SERVER)
    with pytest.raises(InvalidInput, match="Northwind Tracker is not sold as a Data Center instance"):
        hosts.register(acme(session), "tracker", "datacenter", "X-1", SERVER)
    with pytest.raises(InvalidInput, match="not a license type"):
        hosts.register(acme(session), "wiki", "server", "X-1", replace(SERVER, host_license_type="free"))
    with pytest.raises(InvalidInput, match="server id"):
        hosts.register(acme(session), "wiki", "server", "   ", SERVER)


def test_a_server_id_is_registered_once_without_saying_by_whom(
    session: Session, hosts: HostInstanceService
) -> None:
    globex = AccountService(session).organisation("globex")
    with pytest.raises(Conflict) as taken:
        hosts.register(globex, "wiki", "server", "BX7Q-2M9L-33KD-W1PA", SERVER)
    assert "already registered" in taken.value.detail and "Acme" not in taken.value.detail
    # The same server id under another host product or hosting is another host.
    hosts.register(globex, "tracker", "server", "BX7Q-2M9L-33KD-W1PA", SERVER)


def test_a_change_is_checked_as_a_whole(session: Session, hosts: HostInstanceService, demo: Demo) -> None:
    registered = hosts.instance(uuid.UUID(demo.acme_wiki_server_id))
    hosts.change(registered, replace(SERVER, user_tier=250, host_maintenance_end=date(2028, 6, 30)))
    assert (registered.instance.user_tier, registered.instance.host_maintenance_end) == (
        250,
        date(2028, 6, 30),
    )
    with pytest.raises(InvalidInput):
        hosts.change(registered, replace(SERVER, billing_cycle="monthly"))
