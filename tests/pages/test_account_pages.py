"""Account pages: sign up confirmed by e-mail, invitations to an organisation, password reset links, API tokens and
the profile. Every e-mail is read from the outbox; every link works once and expires by the server's clock."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mercato.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Organisation,
    PasswordReset,
    Role,
    SignUp,
    User,
    WebSession,
)
from mercato.accounts.passwords import hash_password, verify_password
from mercato.accounts.sessions import SESSION_COOKIE
from mercato.clock import FixedClock
from mercato.outbox.models import OutboxMessage
from support.pages import HTML, csrf_of, sign_in
from support.world import World, build_world

PASSWORD = "a long enough pass phrase"
NEW_PASSWORD = "another long pass phrase"
_LINK = re.compile(r"http://testserver(/[\w/-]+)")


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()
    return built


def emails_to(session: Session, address: str) -> list[dict[str, object]]:
    messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)).all()
    return [m.payload for m in messages if address in m.payload.get("to", [])]


def link_in(email: dict[str, object]) -> str:
    found = _LINK.search(str(email["text"]))
    assert found, email["text"]
    return found.group(1)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def form_token(client: TestClient, path: str = "/sign-in") -> str:
    return csrf_of(client.get(path, headers=HTML).text)


def post(client: TestClient, path: str, data: dict[str, str], csrf: str | None) -> object:
    if csrf is not None:
        data = {**data, "csrf_token": csrf}
    return client.post(path, data=data, headers=HTML, follow_redirects=False)


def user(session: Session, email: str) -> User | None:
    session.expire_all()
    return session.scalars(select(User).where(User.email == email)).first()


def field_error(html: str, field: str) -> str:
    """The sentence shown next to a field, which the field points at (aria-describedby)."""
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"[^>]*aria-describedby="{field}-error', html), html
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]+)</p>', html)
    assert found, html
    return found.group(1)


# -- sign up ---------------------------------------------------------------------------------------------------


def sign_up(client: TestClient, email: str, organisation: str = "", password: str = PASSWORD) -> object:
    data = {"name": "Nia New", "email": email, "password": password, "organisation": organisation}
    return post(client, "/sign-up", data, form_token(client, "/sign-up"))


def test_sign_up_confirms_the_address_then_makes_the_account_and_its_organisation(
    client: TestClient, session: Session
) -> None:
    answer = sign_up(client, "Nia@New.example", organisation="Nia's Widgets")
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-up/sent"
    assert user(session, "nia@new.example") is None  # nothing is made before the address is confirmed
    [email] = emails_to(session, "nia@new.example")
    path = link_in(email)
    page = client.get(path, headers=HTML)
    assert page.status_code == 200 and "Make my account" in page.text
    made = post(client, path, {}, csrf_of(page.text))
    assert made.status_code == 303
    assert made.headers["location"] == "/organisations/nia-s-widgets/members"
    assert SESSION_COOKIE in made.headers["set-cookie"]
    account = user(session, "nia@new.example")
    assert account is not None and verify_password(account.password_hash, PASSWORD)
    organisation = session.scalars(select(Organisation).where(Organisation.slug == "nia-s-widgets")).one()
    assert session.scalars(
        select(Membership.role).where(
            Membership.user_id == account.id, Membership.organisation_id == organisation.id
        )
    ).all() == [Role.CUSTOMER_ADMIN]
    members = client.get("/organisations/nia-s-widgets/members", headers=HTML)
    assert members.status_code == 200 and "Nia New" in members.text

    again = post(client, path, {}, csrf_of(members.text))
    assert again.status_code == 409
    assert "used already" in again.text
    assert count(session, Organisation) == 1 + 0 and count(session, User) == 1  # nothing doubled


def test_sign_up_with_a_known_address_answers_alike_and_mails_the_owner(
    client: TestClient, session: Session
) -> None:
    session.add(User(email="known@test.example", name="Known", password_hash=hash_password(PASSWORD)))
    session.commit()
    known = sign_up(client, "known@test.example", password="a different pass phrase")
    unknown = sign_up(client, "unknown@test.example")
    assert (known.status_code, known.headers["location"]) == (
        unknown.status_code,
        unknown.headers["location"],
    )
    [notice] = emails_to(session, "known@test.example")
    assert "tried to sign up" in str(notice["subject"])
    assert "http://testserver/password-reset" in str(notice["text"])
    assert count(session, SignUp) == 1  # only the unknown address waits for confirmation
    account = user(session, "known@test.example")
    assert account is not None and verify_password(account.password_hash, PASSWORD)  # unchanged


@pytest.mark.parametrize(
    ("email", "password", "field", "sentence"),
    [
        ("not-an-address", PASSWORD, "email", "is not an e-mail address"),
        ("short@test.example", "too short", "password", "at least 12 characters"),
    ],
)
def test_sign_up_errors_are_shown_next_to_their_field(
    client: TestClient, session: Session, email: str, password: str, field: str, sentence: str
) -> None:
    answer = sign_up(client, email, password=password)
    assert answer.status_code == 422
    assert sentence in field_error(answer.text, field)
    assert count(session, SignUp) == 0 and count(session, OutboxMessage) == 0


def test_links_start_with_the_configured_public_address_and_sign_ups_cannot_flood_a_mailbox(
    client: TestClient, session: Session
) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(update={"public_url": "https://mercato.example.com/"})  # type: ignore[attr-defined]
    for _ in range(5):
        assert sign_up(client, "flood@test.example").status_code == 303
    sent = emails_to(session, "flood@test.example")
    assert len(sent) == 3 and count(session, SignUp) == 3
    assert "https://mercato.example.com/sign-up/" in str(sent[0]["text"])
    assert "testserver" not in str(sent[0]["text"])


def test_a_sign_up_link_expires_after_a_day(
    client: TestClient, session: Session, server_clock: FixedClock
) -> None:
    sign_up(client, "late@test.example")
    path = link_in(emails_to(session, "late@test.example")[0])
    server_clock.advance(hours=25)
    page = client.get(path, headers=HTML)
    assert page.status_code == 410 and "expired" in page.text
    assert post(client, path, {}, form_token(client)).status_code == 410
    assert user(session, "late@test.example") is None


# -- invitations -------------------------------------------------------------------------------------------------


def invite(
    client: TestClient, csrf: str, email: str, role: str = "billing_contact", slug: str = "acme-test"
) -> object:
    return post(client, f"/organisations/{slug}/members", {"email": email, "role": role}, csrf)


def test_an_admin_invites_someone_who_accepts_sets_a_password_and_is_signed_in(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, "acme_admin@test.example", server_clock.now())
    page = client.get("/organisations/acme-test/members", headers=HTML)
    assert page.status_code == 200
    assert "acme_billing@test.example" in page.text and "Send the invitation" in page.text
    sent = invite(client, csrf, "Newbie@Test.example")
    assert sent.status_code == 303
    listed = client.get(sent.headers["location"], headers=HTML)
    assert "Invitation sent to newbie@test.example" in listed.text
    assert listed.text.count("newbie@test.example") >= 2  # and in the open invitations
    [email] = emails_to(session, "newbie@test.example")
    assert "acme_admin invites you to Acme Corp" in str(email["subject"])
    path = link_in(email)
    invitation = session.scalars(select(Invitation)).one()
    assert path.rsplit("/", 1)[1] not in invitation.token_hash  # only the hash is kept

    client.cookies.clear()  # the invited person, in their own browser
    opened = client.get(path, headers=HTML)
    assert (
        opened.status_code == 200 and "Join Acme Corp" in opened.text and "a billing contact" in opened.text
    )
    accepted = post(client, path, {"name": "Nell Newbie", "password": PASSWORD}, csrf_of(opened.text))
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/organisations/acme-test/members"
    newbie = user(session, "newbie@test.example")
    assert (
        newbie is not None
        and newbie.name == "Nell Newbie"
        and verify_password(newbie.password_hash, PASSWORD)
    )
    roles = session.scalars(select(Membership.role).where(Membership.user_id == newbie.id)).all()
    assert roles == [Role.BILLING_CONTACT]
    assert "Nell Newbie" in client.get("/account", headers=HTML).text

    again = post(client, path, {"name": "Nell Newbie", "password": PASSWORD}, form_token(client, "/account"))
    assert again.status_code == 409 and "used already" in again.text
    assert client.get(path, headers=HTML).status_code == 409
    assert len(session.scalars(select(Membership.role).where(Membership.user_id == newbie.id)).all()) == 1


def test_inviting_again_sends_a_new_link_and_the_old_one_stops_working(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, "acme_admin@test.example", server_clock.now())
    invite(client, csrf, "twice@test.example")
    invite(client, csrf, "twice@test.example", role="customer_admin")
    first, second = emails_to(session, "twice@test.example")
    assert count(session, Invitation) == 1  # one open invitation per organisation and address
    assert client.get(link_in(first), headers=HTML).status_code == 404
    assert "a customer admin" in client.get(link_in(second), headers=HTML).text


def test_an_invitation_expires_after_7_days_by_the_servers_clock(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, "acme_admin@test.example", server_clock.now())
    invite(client, csrf, "slow@test.example")
    path = link_in(emails_to(session, "slow@test.example")[0])
    server_clock.advance(days=7, seconds=1)
    page = client.get(path, headers=HTML)
    assert page.status_code == 410 and "expired" in page.text
    refused = post(client, path, {"name": "Slow", "password": PASSWORD}, csrf_of(page.text))
    assert refused.status_code == 410 and user(session, "slow@test.example") is None


def test_a_password_less_member_sets_a_password_and_one_with_a_password_gives_it(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    session.add(User(email="has.password@test.example", name="Has", password_hash=hash_password(PASSWORD)))
    session.commit()
    csrf = sign_in(client, session, "globex_admin@test.example", server_clock.now())
    invite(client, csrf, "acme_billing@test.example", slug="globex-test")  # password-less in the world
    invite(client, csrf, "has.password@test.example", slug="globex-test")
    client.cookies.clear()

    path = link_in(emails_to(session, "acme_billing@test.example")[0])
    page = client.get(path, headers=HTML)
    assert "Choose a password" in page.text
    short = post(client, path, {"name": "Bill", "password": "short"}, csrf_of(page.text))
    assert short.status_code == 422 and "at least 12" in field_error(short.text, "password")
    assert post(client, path, {"name": "Bill", "password": PASSWORD}, csrf_of(page.text)).status_code == 303
    billing = user(session, "acme_billing@test.example")
    assert billing is not None and verify_password(billing.password_hash, PASSWORD)

    client.cookies.clear()
    path = link_in(emails_to(session, "has.password@test.example")[0])
    page = client.get(path, headers=HTML)
    assert "Your password" in page.text and "Choose a password" not in page.text
    wrong = post(client, path, {"password": "not the password at all"}, csrf_of(page.text))
    assert wrong.status_code == 422 and "not the password" in field_error(wrong.text, "password")
    assert (
        session.scalars(
            select(Invitation.accepted_at).where(Invitation.email == "has.password@test.example")
        ).one()
        is None
    )
    assert post(client, path, {"password": PASSWORD}, csrf_of(page.text)).status_code == 303


def test_invite_errors_are_shown_next_to_the_field(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, "acme_admin@test.example", server_clock.now())
    held = invite(client, csrf, "acme_billing@test.example")
    assert held.status_code == 409 and "already" in field_error(held.text, "email")
    bad = invite(client, csrf, "not an address")
    assert bad.status_code == 422 and "is not an e-mail address" in field_error(bad.text, "email")
    role = invite(client, csrf, "someone@test.example", role="operator_admin")
    assert role.status_code == 422 and "customer admin" in field_error(role.text, "role")
    assert count(session, Invitation) == 0 and count(session, OutboxMessage) == 0


def test_a_stranger_cannot_see_another_organisations_members_and_a_billing_contact_cannot_invite(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, "globex_admin@test.example", server_clock.now())
    assert client.get("/organisations/acme-test/members", headers=HTML).status_code == 404
    assert client.get("/organisations/no-such-org/members", headers=HTML).status_code == 404
    assert invite(client, csrf, "x@test.example").status_code == 404
    client.cookies.clear()
    csrf = sign_in(client, session, "acme_billing@test.example", server_clock.now())
    page = client.get("/organisations/acme-test/members", headers=HTML)
    assert page.status_code == 200 and "Send the invitation" not in page.text
    assert invite(client, csrf, "x@test.example").status_code == 403
    assert count(session, Invitation) == 0


# -- password reset ------------------------------------------------------------------------------------------------


@pytest.fixture
def member(session: Session) -> User:
    account = User(email="forgetful@test.example", name="Forgetful", password_hash=hash_password(PASSWORD))
    session.add(account)
    session.commit()
    return account


def ask_reset(client: TestClient, email: str) -> object:
    return post(client, "/password-reset", {"email": email}, form_token(client, "/password-reset"))


def test_a_reset_link_works_once_and_ends_the_other_sessions(
    client: TestClient, session: Session, member: User, server_clock: FixedClock
) -> None:
    sign_in(client, session, member.email, server_clock.now())  # a session on another computer
    client.cookies.clear()
    known, unknown = ask_reset(client, member.email), ask_reset(client, "nobody@test.example")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/password-reset/sent"
    assert emails_to(session, "nobody@test.example") == []
    [email] = emails_to(session, member.email)
    path = link_in(email)
    page = client.get(path, headers=HTML)
    assert page.status_code == 200 and member.email in page.text

    short = post(client, path, {"password": "short"}, csrf_of(page.text))
    assert short.status_code == 422 and "at least 12" in field_error(short.text, "password")
    done = post(client, path, {"password": NEW_PASSWORD}, csrf_of(page.text))
    assert done.status_code == 303 and SESSION_COOKIE in done.headers["set-cookie"]
    account = user(session, member.email)
    assert account is not None and verify_password(account.password_hash, NEW_PASSWORD)
    open_sessions = session.scalars(
        select(WebSession).where(WebSession.user_id == member.id, WebSession.ended_at.is_(None))
    ).all()
    assert len(open_sessions) == 1  # only the one this reset just started
    assert "Your password was changed" in client.get(done.headers["location"], headers=HTML).text

    again = post(client, path, {"password": "a third long pass phrase"}, form_token(client, "/account"))
    assert again.status_code == 409 and "used already" in again.text
    assert verify_password(user(session, member.email).password_hash, NEW_PASSWORD)  # type: ignore[union-attr]


def test_a_reset_link_expires_after_30_minutes_by_the_servers_clock(
    client: TestClient, session: Session, member: User, server_clock: FixedClock
) -> None:
    ask_reset(client, member.email)
    path = link_in(emails_to(session, member.email)[0])
    server_clock.advance(minutes=29)
    page = client.get(path, headers=HTML)
    assert page.status_code == 200
    server_clock.advance(minutes=1)
    expired = post(client, path, {"password": NEW_PASSWORD}, csrf_of(page.text))
    assert expired.status_code == 410 and "expired" in expired.text
    assert verify_password(user(session, member.email).password_hash, PASSWORD)  # type: ignore[union-attr]


def test_asking_for_many_reset_links_sends_at_most_three_at_a_time(
    client: TestClient, session: Session, member: User
) -> None:
    for _ in range(5):
        assert ask_reset(client, member.email).status_code == 303
    assert len(emails_to(session, member.email)) == 3 and count(session, PasswordReset) == 3


# -- API tokens ---------------------------------------------------------------------------------------------------


def test_a_token_is_made_shown_once_used_and_revoked(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, "acme_admin@test.example", server_clock.now())
    page = client.get("/account/tokens", headers=HTML)
    assert page.status_code == 200 and "Make a token" in page.text
    made = post(
        client, "/account/tokens", {"name": "Nightly report", "write": "1", "expires_in_days": "30"}, csrf
    )
    assert made.status_code == 303
    shown = client.get("/account/tokens", headers=HTML)
    secret = re.search(r'id="new-token">(mct_[\w-]+)<', shown.text)
    assert secret, shown.text
    assert 'data-copy-target="new-token"' in shown.text
    assert 'id="new-token"' not in client.get("/account/tokens", headers=HTML).text  # shown once
    token = session.scalars(select(ApiToken).where(ApiToken.name == "Nightly report")).one()
    assert token.scopes == ["read", "write"] and token.expires_at is not None
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"})
    assert me.status_code == 200 and me.json()["user"]["email"] == "acme_admin@test.example"

    assert post(client, f"/account/tokens/{token.id}/revoke", {}, csrf).status_code == 303
    assert post(client, f"/account/tokens/{token.id}/revoke", {}, csrf).status_code == 303  # harmless twice
    assert "Revoked" in client.get("/account/tokens", headers=HTML).text
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code == 401


def test_token_errors_are_shown_next_to_the_field_and_others_tokens_are_not_found(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    csrf = sign_in(client, session, "acme_admin@test.example", server_clock.now())
    before = count(session, ApiToken)
    days = post(client, "/account/tokens", {"name": "x", "expires_in_days": "0"}, csrf)
    assert days.status_code == 422 and "1 to 3650" in field_error(days.text, "expires_in_days")
    name = post(client, "/account/tokens", {"name": "  ", "expires_in_days": ""}, csrf)
    assert name.status_code == 422 and "must not be empty" in field_error(name.text, "name")
    assert count(session, ApiToken) == before
    theirs = session.scalars(
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(User.email == "globex_admin@test.example")
    ).first()
    assert theirs is not None
    assert post(client, f"/account/tokens/{theirs.id}/revoke", {}, csrf).status_code == 404
    session.refresh(theirs)
    assert theirs.revoked_at is None


# -- profile -------------------------------------------------------------------------------------------------------


def test_the_profile_shows_roles_with_links_and_changes_the_password(
    client: TestClient, session: Session, world: World, member: User, server_clock: FixedClock
) -> None:
    session.add(Membership(user_id=member.id, role=Role.CUSTOMER_ADMIN, organisation_id=world.acme.id))
    session.commit()
    sign_in(client, session, member.email, server_clock.now())  # elsewhere
    client.cookies.clear()
    csrf = sign_in(client, session, member.email, server_clock.now())
    page = client.get("/account", headers=HTML)
    assert 'href="/organisations/acme-test/members">Acme Corp</a>' in page.text
    assert "Customer admin" in page.text and member.email in page.text

    wrong = post(
        client,
        "/account/password",
        {"current_password": "not it, not it", "new_password": NEW_PASSWORD},
        csrf,
    )
    assert wrong.status_code == 422 and "not your current password" in field_error(
        wrong.text, "current_password"
    )
    short = post(client, "/account/password", {"current_password": PASSWORD, "new_password": "short"}, csrf)
    assert short.status_code == 422 and "at least 12" in field_error(short.text, "new_password")
    assert verify_password(user(session, member.email).password_hash, PASSWORD)  # type: ignore[union-attr]

    done = post(
        client, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, csrf
    )
    assert done.status_code == 303
    assert verify_password(user(session, member.email).password_hash, NEW_PASSWORD)  # type: ignore[union-attr]
    open_sessions = session.scalars(
        select(WebSession).where(WebSession.user_id == member.id, WebSession.ended_at.is_(None))
    ).all()
    assert len(open_sessions) == 1
    assert client.get("/account", headers=HTML).status_code == 200  # this browser stays signed in


# -- CSRF on every form ----------------------------------------------------------------------------------------


SIGNED_OUT_FORMS = [
    ("/sign-up", {"name": "Eve", "email": "eve@test.example", "password": PASSWORD}),
    ("/password-reset", {"email": "forgetful@test.example"}),
]


@pytest.mark.parametrize(("path", "data"), SIGNED_OUT_FORMS)
def test_signed_out_forms_refuse_a_post_without_their_token(
    client: TestClient, session: Session, member: User, path: str, data: dict[str, str]
) -> None:
    client.get(path, headers=HTML)
    for token in (None, "forged-token-of-another-site-xxxxx"):
        assert post(client, path, data, token).status_code == 403
    assert count(session, OutboxMessage) == 0 and count(session, SignUp) == 0


def test_link_forms_refuse_a_post_without_their_token(
    client: TestClient, session: Session, world: World, member: User, server_clock: FixedClock
) -> None:
    sign_up(client, "csrf@test.example")
    ask_reset(client, member.email)
    csrf = sign_in(client, session, "acme_admin@test.example", server_clock.now())
    invite(client, csrf, "invited.csrf@test.example")
    client.cookies.clear()
    links = [
        link_in(emails_to(session, "csrf@test.example")[0]),
        link_in(emails_to(session, member.email)[0]),
        link_in(emails_to(session, "invited.csrf@test.example")[0]),
    ]
    for path in links:
        client.get(path, headers=HTML)
        assert post(client, path, {"name": "X", "password": NEW_PASSWORD}, None).status_code == 403
    assert user(session, "csrf@test.example") is None and user(session, "invited.csrf@test.example") is None
    assert verify_password(user(session, member.email).password_hash, PASSWORD)  # type: ignore[union-attr]


def test_signed_in_forms_refuse_a_post_without_their_token(
    client: TestClient, session: Session, world: World, server_clock: FixedClock
) -> None:
    sign_in(client, session, "acme_admin@test.example", server_clock.now())
    token = session.scalars(
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(User.email == "acme_admin@test.example")
    ).first()
    assert token is not None
    before = count(session, ApiToken)
    for path, data in [
        ("/account/password", {"current_password": "x", "new_password": NEW_PASSWORD}),
        ("/account/tokens", {"name": "sneaky", "write": "1"}),
        (f"/account/tokens/{token.id}/revoke", {}),
        ("/organisations/acme-test/members", {"email": "sneaky@test.example", "role": "customer_admin"}),
    ]:
        assert post(client, path, data, None).status_code == 403, path
        assert post(client, path, data, "forged-token-of-another-site-xxxxx").status_code == 403, path
    assert count(session, ApiToken) == before and count(session, Invitation) == 0
    session.refresh(token)
    assert token.revoked_at is None


def test_account_pages_need_a_signed_in_user(client: TestClient) -> None:
    for path in ("/account/tokens", "/organisations/acme-test/members"):
        answer = client.get(path, headers=HTML, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in?next=")
