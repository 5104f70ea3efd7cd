"""Users, memberships and organisations: the rules the service enforces for every caller."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.conftest import Demo, principal
from mercato.accounts.access import Forbidden
from mercato.accounts.models import Role, User
from mercato.accounts.service import AccountService
from mercato.problems import Conflict, InvalidInput, NotFound


def test_email_is_stored_lower_case_and_unique_whatever_its_case(session: Session) -> None:
    service = AccountService(session)
    user = service.create_user("  Carol.Smith@Example.COM ", "Carol Smith")
    assert user.email == "carol.smith@example.com"
    with pytest.raises(Conflict) as duplicate:
        service.create_user("CAROL.SMITH@example.com", "Another Carol")
    assert duplicate.value.status == 409
    assert "carol.smith@example.com already exists" in duplicate.value.detail


@pytest.mark.parametrize(
    "email", ["", "carol", "carol@", "@example.com", "carol@example", "ca rol@example.com"]
)
def test_addresses_that_are_not_emails_are_refused(session: Session, email: str) -> None:
    with pytest.raises(InvalidInput, match="is not an e-mail address"):
        AccountService(session).create_user(email, "Carol")


def test_password_is_stored_only_as_its_hash_and_signs_in(session: Session) -> None:
    service = AccountService(session)
    user = service.create_user("dana@example.com", "Dana", password="a long enough passphrase")
    stored = session.scalars(select(User.password_hash).where(User.id == user.id)).one()
    assert stored is not None and stored.startswith("$argon2id$")
    assert "a long enough passphrase" not in stored
    assert service.authenticate("DANA@example.com", "a long enough passphrase") is user
    assert service.authenticate("dana@example.com", "a wrong but long passphrase") is None
    assert service.authenticate("nobody@example.com", "a long enough passphrase") is None


def test_a_user_without_password_cannot_sign_in_with_one(session: Session) -> None:
    service = AccountService(session)
    user = service.create_user("erin@example.com", "Erin")
    assert user.password_hash is None
    assert service.authenticate("erin@example.com", "") is None


def test_roles_need_the_right_kind_of_target(session: Session, demo: Demo) -> None:
    service = AccountService(session)
    user = service.create_user("frank@example.com", "Frank")
    acme = service.organisation("acme")
    vendor = service.vendor("example-mockups")
    with pytest.raises(InvalidInput, match="customer organisation"):
        service.grant(user, Role.CUSTOMER_ADMIN)
    with pytest.raises(InvalidInput, match="vendor"):
        service.grant(user, Role.VENDOR_MEMBER, organisation=acme)
    with pytest.raises(InvalidInput, match="whole marketplace"):
        service.grant(user, Role.OPERATOR_ADMIN, vendor=vendor)
    with pytest.raises(InvalidInput, match="is not a role"):
        service.grant(user, "superuser")


def test_a_role_is_held_once(session: Session, demo: Demo) -> None:
    service = AccountService(session)
    user = service.create_user("gina@example.com", "Gina")
    service.grant(user, Role.OPERATOR_ADMIN)
    # The database cannot refuse this one itself: NULL targets never collide in a unique index.
    with pytest.raises(Conflict, match="already an operator admin"):
        service.grant(user, Role.OPERATOR_ADMIN)
    acme = service.organisation("acme")
    service.grant(user, Role.BILLING_CONTACT, organisation=acme)
    with pytest.raises(Conflict, match="already a billing contact of Acme Corp"):
        service.grant(user, "billing_contact", organisation=acme)


def test_organisation_slug_country_and_billing_email_are_checked(session: Session, demo: Demo) -> None:
    service = AccountService(session)
    initech = service.create_organisation(" Initech ", "Initech", "AP@Initech.example", "us")
    assert (initech.slug, initech.billing_email, initech.country) == ("initech", "ap@initech.example", "US")
    assert service.organisation(initech.id) is service.organisation("initech")
    with pytest.raises(Conflict, match="slug 'acme' already exists"):
        service.create_organisation("acme", "Acme again", "ap@acme.example")
    for slug in ("-acme", "acme_corp", "a" * 65, ""):
        with pytest.raises(InvalidInput, match="slug"):
            service.create_organisation(slug, "X", "ap@x.example")
    with pytest.raises(InvalidInput, match="not a country code"):
        service.create_organisation("umbrella", "Umbrella", "ap@umbrella.example", "EU")
    with pytest.raises(InvalidInput, match="e-mail"):
        service.create_organisation("umbrella", "Umbrella", "accounts")


def test_organisations_are_listed_to_their_members_and_all_to_operators(session: Session, demo: Demo) -> None:
    service = AccountService(session)
    slugs = lambda email: [o.slug for o in service.organisations_for(principal(session, email)).rows]  # noqa: E731
    assert slugs("ops@northwind.example") == ["acme", "globex"]
    assert slugs("billing@acme.example") == ["acme"]
    assert slugs("dev@mockups.example") == []
    found = service.organisations_for(principal(session, "ops@northwind.example"), text="GLOB")
    assert found.total == 1 and found.rows[0].slug == "globex"


def test_other_organisations_are_not_found_and_billing_contacts_may_not_manage(
    session: Session, demo: Demo
) -> None:
    service = AccountService(session)
    with pytest.raises(NotFound):
        service.organisation_for(principal(session, "admin@globex.example"), "acme")
    with pytest.raises(
        Forbidden, match="Only customer admins of Acme Corp and operator staff may add members"
    ):
        service.add_member_for(
            principal(session, "billing@acme.example"), "acme", "x@acme.example", "billing_contact"
        )
    with pytest.raises(Forbidden, match="Only operator staff"):
        service.create_organisation_for(
            principal(session, "admin@acme.example"), "new", "New", "ap@new.example"
        )


def test_adding_a_member_creates_an_unknown_user_without_password(session: Session, demo: Demo) -> None:
    service = AccountService(session)
    admin = principal(session, "admin@acme.example")
    _, member = service.add_member_for(admin, "acme", "Hal@Acme.example", "customer_admin")
    assert member.user.email == "hal@acme.example" and member.user.name == "hal"
    assert member.user.password_hash is None
    _, again = service.add_member_for(admin, "acme", "hal@acme.example", "billing_contact")
    assert again.user is member.user  # the same person, not a second account
    with pytest.raises(InvalidInput, match="customer_admin or billing_contact"):
        service.add_member_for(admin, "acme", "ivy@acme.example", "operator_admin")


def test_a_duplicate_that_slips_past_the_check_is_still_a_conflict(session: Session) -> None:
    # Two requests may both find an e-mail free and both insert; the unique index decides, as a 409.
    service = AccountService(session)
    service.create_user("race@example.com", "First")
    with pytest.raises(Conflict, match="taken meanwhile"):
        service.repository.add_unique(
            User(email="race@example.com", name="Second"), Conflict("taken meanwhile")
        )
    assert service.user_by_email("race@example.com").name == "First"
