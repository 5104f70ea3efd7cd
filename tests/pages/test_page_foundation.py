"""What every page shares: errors as pages, sign-in and sign-out as forms, CSRF on every form post."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from mercato.accounts.models import User
from mercato.accounts.passwords import hash_password
from mercato.clock import FixedClock
from support.pages import HTML, csrf_of

PASSWORD = "a long enough pass phrase"


@pytest.fixture
def member(session: Session) -> User:
    user = User(email="page.member@test.example", name="Page Member", password_hash=hash_password(PASSWORD))
    session.add(user)
    session.commit()
    return user


def test_an_unknown_page_is_an_html_404_and_an_unknown_api_path_stays_a_problem(client: TestClient) -> None:
    page = client.get("/no-such-page", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text
    api = client.get("/api/v1/no-such-thing", headers=HTML)
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_sign_in_and_out_with_the_form(client: TestClient, member: User) -> None:
    form = client.get("/sign-in?next=/account", headers=HTML)
    assert form.status_code == 200
    token = csrf_of(form.text)
    signed_in = client.post(
        "/sign-in",
        data={"csrf_token": token, "email": member.email, "password": PASSWORD, "next": "/account"},
        headers=HTML,
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/account"
    home = client.get("/sign-in", headers=HTML, follow_redirects=False)
    assert home.status_code == 303  # already signed in
    page = client.get("/no-such-page", headers=HTML)
    assert "Page Member" in page.text
    out = client.post("/sign-out", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert "Page Member" not in client.get("/no-such-page", headers=HTML).text


def test_a_wrong_password_is_told_on_the_form_without_saying_which_part(
    client: TestClient, member: User
) -> None:
    token = csrf_of(client.get("/sign-in", headers=HTML).text)
    answer = client.post(
        "/sign-in",
        data={"csrf_token": token, "email": member.email, "password": "not it at all"},
        headers=HTML,
    )
    assert answer.status_code == 401
    assert "The e-mail address or the password is not right." in answer.text


@pytest.mark.parametrize("token", [None, "", "forged-token-of-another-site-xxxxx"])
def test_a_form_without_its_token_changes_nothing(
    client: TestClient, member: User, token: str | None
) -> None:
    client.get("/sign-in", headers=HTML)  # the browser has its form cookie
    data = {"email": member.email, "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    answer = client.post("/sign-in", data=data, headers=HTML, follow_redirects=False)
    assert answer.status_code == 403
    assert "This form has expired" in answer.text
    assert "mercato_session" not in answer.headers.get("set-cookie", "")


def test_only_local_paths_are_followed_after_signing_in(client: TestClient, member: User) -> None:
    token = csrf_of(client.get("/sign-in", headers=HTML).text)
    answer = client.post(
        "/sign-in",
        data={"csrf_token": token, "email": member.email, "password": PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"


def test_a_page_that_needs_a_user_sends_a_stranger_to_sign_in(
    client: TestClient, server_clock: FixedClock
) -> None:
    answer = client.get("/account", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/account"
