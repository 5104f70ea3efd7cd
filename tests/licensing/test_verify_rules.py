"""The license rules of check(): one status per rule, for each channel, evaluations and perpetual licenses,
with the admin's sentence and the action that fixes it; and the order in which they apply."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.licensing import (
    Channel,
    FixAction,
    HostContext,
    Hosting,
    LicensePayload,
    LicenseStatus,
    LicenseType,
    TrustedKey,
    Verdict,
    check,
    evaluate,
    sign_license,
)
from mercato.licensing.reading import PASTE_NOISE

BOTH_CHANNELS = pytest.mark.parametrize("channel", [Channel.MARKETPLACE, Channel.DIRECT])


def verdict_of(
    sign: Any, trusted: Any, payload: LicensePayload, host: HostContext, revoked: Any = ()
) -> Verdict:
    return check(sign(payload), trusted, host, revoked)


# VALID ------------------------------------------------------------------------------------------------------


@BOTH_CHANNELS
def test_perpetual_license_on_its_host_is_valid(channel, make_payload, make_host, sign, trusted):
    payload = make_payload(channel)
    verdict = verdict_of(sign, trusted, payload, make_host())
    assert verdict.status is LicenseStatus.VALID
    assert verdict.action is FixAction.NONE
    assert verdict.valid
    assert verdict.payload == payload
    assert (
        verdict.message
        == "This key is valid: commercial license " + payload.entitlement_number + " for 100 users."
    )


@BOTH_CHANNELS
def test_evaluation_before_its_end_is_valid(channel, make_evaluation, make_host, sign, trusted):
    verdict = verdict_of(sign, trusted, make_evaluation(channel), make_host())
    assert verdict.status is LicenseStatus.VALID
    assert verdict.message.endswith("for unlimited users, until 2025-07-01.")


def test_evaluation_is_valid_on_its_last_day(make_evaluation, make_host, sign, trusted):
    verdict = verdict_of(sign, trusted, make_evaluation(term_end=date(2025, 6, 15)), make_host())
    assert verdict.status is LicenseStatus.VALID


def test_key_accepts_whitespace_and_line_breaks_pasted_from_an_email(make_payload, make_host, sign, trusted):
    key = sign(make_payload())
    wrapped = "\ufeff  " + "\r\n\u00a0 ".join(key[i : i + 64] for i in range(0, len(key), 64)) + "\u200b\n\t"
    assert check(wrapped, trusted, make_host()).status is LicenseStatus.VALID


@pytest.mark.parametrize("noise", list(PASTE_NOISE), ids=lambda character: f"U+{ord(character):04X}")
def test_key_with_any_paste_noise_inside_and_around_it_is_valid(
    noise, make_payload, make_host, sign, trusted
):
    key = sign(make_payload())
    pasted = noise + noise.join(key[i : i + 50] for i in range(0, len(key), 50)) + noise
    assert check(pasted, trusted, make_host()).status is LicenseStatus.VALID


def test_key_pasted_with_invisible_characters_that_editors_insert_is_valid(
    make_payload, make_host, sign, trusted
):
    """Word joiners, zero-width joiners, soft hyphens and ideographic spaces: all invisible in an e-mail."""
    key = sign(make_payload())
    pasted = "\ufeff" + key[:100] + "\u2060" + key[100:200] + "\u200d\u00ad" + key[200:300] + "\u3000\u2003"
    pasted += key[300:400] + "\u200c\u205f" + key[400:] + "\u2029"
    assert check(pasted, trusted, make_host()).status is LicenseStatus.VALID


def test_trusted_keys_may_be_any_mapping(make_payload, make_host, sign, trusted):
    from types import MappingProxyType

    assert check(sign(make_payload()), MappingProxyType(trusted), make_host()).valid


# Rotation ---------------------------------------------------------------------------------------------------


def test_key_signed_by_previous_signing_key_still_verifies_while_trusted(
    make_payload, make_host, sign, trusted
):
    assert {kid for kid, key in trusted.items() if key.issuer == "operator"} == {
        "operator-2024",
        "operator-2025",
    }
    old = sign(make_payload(), kid="operator-2024")
    new = sign(make_payload(), kid="operator-2025")
    assert check(old, trusted, make_host()).valid
    assert check(new, trusted, make_host()).valid


def test_key_signed_by_retired_signing_key_is_unknown_key(make_payload, make_host, sign, trusted):
    old = sign(make_payload(), kid="operator-2024")
    after_retirement = {"operator-2025": trusted["operator-2025"]}
    verdict = check(old, after_retirement, make_host())
    assert verdict.status is LicenseStatus.UNKNOWN_KEY
    assert verdict.action is FixAction.GET_NEW_KEY
    assert verdict.payload is None
    assert "operator-2024" in verdict.message


def test_no_trusted_keys_at_all_is_unknown_key(make_payload, make_host, sign):
    assert check(sign(make_payload()), {}, make_host()).status is LicenseStatus.UNKNOWN_KEY


def test_trusting_a_kid_with_another_public_key_is_bad_signature(make_payload, make_host, sign):
    impostor = {"operator-2025": TrustedKey("operator", Ed25519PrivateKey.generate().public_key())}
    assert check(sign(make_payload()), impostor, make_host()).status is LicenseStatus.BAD_SIGNATURE


# Issuer binding: only who may sell the app in the key's channel signs it -------------------------------------


def test_direct_key_of_the_app_signed_by_another_vendor_is_not_genuine(
    make_payload, make_host, sign, trusted
):
    forged = make_payload(Channel.DIRECT, issuer="vendor:other-labs", tier=None)
    verdict = check(sign(forged, kid="other-labs-2025"), trusted, make_host(app_vendor="example-labs"))
    assert verdict.status is LicenseStatus.UNKNOWN_KEY
    assert verdict.action is FixAction.CONTACT_SELLER
    assert verdict.payload is None
    assert verdict.message == (
        "This key says it is a direct license of com.example.mockups.wiki from the vendor (other-labs), but "
        "only the vendor (example-labs) sells com.example.mockups.wiki directly, so this key is not genuine. "
        "Contact the vendor (example-labs) for a genuine key of your license."
    )


def test_marketplace_key_signed_by_the_apps_own_vendor_is_not_genuine(make_payload, make_host, sign, trusted):
    forged = make_payload(Channel.MARKETPLACE, tier=None)
    verdict = check(sign(forged, kid="example-labs-2025"), trusted, make_host(app_vendor="example-labs"))
    assert verdict.status is LicenseStatus.UNKNOWN_KEY
    assert verdict.action is FixAction.CONTACT_SELLER
    assert verdict.payload is None
    assert verdict.message == (
        "This key says it was sold by the marketplace, but it was signed with the signing key "
        "example-labs-2025 of the vendor (example-labs): only the marketplace signs the licenses it sells, so "
        "this key is not genuine. Contact the marketplace for a genuine key of your license."
    )


@pytest.mark.parametrize("kid", ["operator-2025", "other-labs-2025"])
def test_direct_key_signed_by_anyone_but_the_vendor_it_names_is_not_genuine(
    kid, make_payload, make_host, sign, trusted
):
    verdict = check(sign(make_payload(Channel.DIRECT), kid=kid), trusted, make_host())
    assert verdict.status is LicenseStatus.UNKNOWN_KEY
    assert verdict.payload is None
    assert f"signed with the signing key {kid} of the " in verdict.message
    assert "Contact the vendor (example-labs)" in verdict.message


def test_direct_key_of_an_app_that_no_vendor_sells_directly_is_not_genuine(
    make_payload, make_host, sign, trusted
):
    verdict = check(sign(make_payload(Channel.DIRECT)), trusted, make_host(app_vendor=None))
    assert verdict.status is LicenseStatus.UNKNOWN_KEY
    assert "no vendor sells com.example.mockups.wiki directly" in verdict.message
    assert "Contact the marketplace" in verdict.message
    assert check(sign(make_payload()), trusted, make_host(app_vendor=None)).valid


def test_genuine_direct_key_of_another_vendors_app_is_an_app_mismatch(make_payload, make_host, sign, trusted):
    """The app knows its own vendor, not the vendors of other apps: a genuine key of another app is for
    another app, which says more than "not genuine"."""
    theirs = make_payload(Channel.DIRECT, app_key="com.example.diagrams.wiki", issuer="vendor:other-labs")
    verdict = check(sign(theirs, kid="other-labs-2025"), trusted, make_host(app_vendor="example-labs"))
    assert verdict.status is LicenseStatus.APP_MISMATCH
    assert verdict.payload == theirs


@settings(max_examples=300, deadline=None)
@given(
    kid=st.sampled_from(["operator-2024", "operator-2025", "example-labs-2025", "other-labs-2025"]),
    channel=st.sampled_from(list(Channel)),
    named_vendor=st.sampled_from(["example-labs", "other-labs"]),
    app_vendor=st.sampled_from(["example-labs", "other-labs", None]),
)
def test_a_key_is_valid_only_when_its_signer_may_sell_the_app_in_its_channel(
    kid, channel, named_vendor, app_vendor, make_payload, make_host, sign, trusted
):
    issuer = "operator" if channel is Channel.MARKETPLACE else f"vendor:{named_vendor}"
    payload = make_payload(channel, issuer=issuer, tier=None)
    verdict = check(sign(payload, kid=kid), trusted, make_host(host_tier=None, app_vendor=app_vendor))
    may_sell = "operator" if channel is Channel.MARKETPLACE else f"vendor:{app_vendor}"
    genuine = trusted[kid].issuer == issuer == may_sell
    assert verdict.valid is genuine
    assert (verdict.payload is not None) is genuine
    if not genuine:
        assert (verdict.status, verdict.action) == (LicenseStatus.UNKNOWN_KEY, FixAction.CONTACT_SELLER)


@pytest.mark.parametrize("app_vendor", ["", "vendor:example-labs", "example labs", "-labs", 7])
def test_app_vendor_is_a_vendor_slug(app_vendor, make_host):
    with pytest.raises(ValueError, match="app_vendor"):
        make_host(app_vendor=app_vendor)


# APP_MISMATCH, HOST_MISMATCH --------------------------------------------------------------------------------


@BOTH_CHANNELS
def test_key_for_another_app_is_app_mismatch(channel, make_payload, make_host, sign, trusted):
    verdict = verdict_of(sign, trusted, make_payload(channel), make_host(app_key="com.example.diagrams.wiki"))
    assert verdict.status is LicenseStatus.APP_MISMATCH
    assert verdict.action is FixAction.GET_NEW_KEY
    assert "com.example.mockups.wiki" in verdict.message and "com.example.diagrams.wiki" in verdict.message


@BOTH_CHANNELS
def test_key_bound_to_another_server_is_host_mismatch(channel, make_payload, make_host, sign, trusted):
    verdict = verdict_of(sign, trusted, make_payload(channel), make_host(server_id="A1B2-C3D4-E5F6-G7H8"))
    assert verdict.status is LicenseStatus.HOST_MISMATCH
    assert verdict.action is FixAction.GET_NEW_KEY
    assert "BX7D-3KQ2-9ZLM-WP4T" in verdict.message and "A1B2-C3D4-E5F6-G7H8" in verdict.message


@pytest.mark.parametrize(
    "server_id", ["bx7d-3kq2-9zlm-wp4t", "  BX7D-3KQ2-9ZLM-WP4T\n", "\tBx7d-3kQ2-9ZLM-wp4T "]
)
def test_server_id_is_compared_trimmed_and_case_insensitive(
    server_id, make_payload, make_host, sign, trusted
):
    assert verdict_of(sign, trusted, make_payload(), make_host(server_id=server_id)).valid


def test_cloud_key_bound_to_another_site_is_host_mismatch(make_payload, make_host, sign, trusted):
    cloud = make_payload(
        hosting=Hosting.CLOUD, host_binding="acme.example-cloud.net", term_end=date(2025, 7, 14)
    )
    host = make_host(hosting=Hosting.CLOUD, server_id="globex.example-cloud.net")
    verdict = verdict_of(sign, trusted, cloud, host)
    assert verdict.status is LicenseStatus.HOST_MISMATCH
    assert "site acme.example-cloud.net" in verdict.message


# REVOKED ----------------------------------------------------------------------------------------------------


@BOTH_CHANNELS
def test_revoked_license_id_is_revoked_and_names_the_seller(channel, make_payload, make_host, sign, trusted):
    payload = make_payload(channel)
    verdict = verdict_of(sign, trusted, payload, make_host(), {payload.license_id})
    assert verdict.status is LicenseStatus.REVOKED
    assert verdict.action is FixAction.CONTACT_SELLER
    seller = "the marketplace" if channel is Channel.MARKETPLACE else "the vendor (example-labs)"
    assert f"Contact {seller}" in verdict.message


@BOTH_CHANNELS
def test_superseded_key_serial_is_revoked_and_asks_for_the_newest_key(
    channel, make_payload, make_host, sign, trusted
):
    payload = make_payload(channel)
    verdict = verdict_of(sign, trusted, payload, make_host(), [payload.key_serial])
    assert verdict.status is LicenseStatus.REVOKED
    assert verdict.action is FixAction.GET_NEW_KEY
    assert payload.key_serial in verdict.message


def test_revocation_of_other_licenses_does_not_matter(make_payload, make_host, sign, trusted):
    assert verdict_of(sign, trusted, make_payload(), make_host(), ("lic_other", "key_other")).valid


# USERS_EXCEEDED (direct) ------------------------------------------------------------------------------------


def test_direct_key_may_have_fewer_users_than_the_host(make_payload, make_host, sign, trusted):
    ten_users = make_payload(Channel.DIRECT, tier=10)
    assert verdict_of(sign, trusted, ten_users, make_host(host_tier=100, app_users=10)).valid
    assert verdict_of(sign, trusted, ten_users, make_host(host_tier=None, app_users=3)).valid
    assert verdict_of(sign, trusted, ten_users, make_host(app_users=None)).valid


def test_direct_key_with_more_app_users_than_its_tier_is_users_exceeded(
    make_payload, make_host, sign, trusted
):
    verdict = verdict_of(sign, trusted, make_payload(Channel.DIRECT, tier=10), make_host(app_users=25))
    assert verdict.status is LicenseStatus.USERS_EXCEEDED
    assert verdict.action is FixAction.UPGRADE
    assert verdict.message == (
        "This key is for 10 users but the app has 25 users. A direct license admits at most its tier: "
        "upgrade the app license to at least 25 users, or remove 15 users from the app."
    )


def test_unlimited_direct_key_never_exceeds(make_payload, make_host, sign, trusted):
    unlimited = make_payload(Channel.DIRECT, tier=None)
    assert verdict_of(sign, trusted, unlimited, make_host(app_users=10**9)).valid


def test_marketplace_key_ignores_app_users(make_payload, make_host, sign, trusted):
    assert verdict_of(sign, trusted, make_payload(tier=100), make_host(app_users=5000)).valid


@BOTH_CHANNELS
def test_evaluation_is_exempt_from_tier_rules(channel, make_evaluation, make_host, sign, trusted):
    small = make_evaluation(channel, tier=10)
    assert verdict_of(sign, trusted, small, make_host(host_tier=None, app_users=500)).valid


@BOTH_CHANNELS
def test_evaluation_host_exempts_from_tier_rules(channel, make_payload, make_host, sign, trusted):
    host = make_host(host_license_type=LicenseType.EVALUATION, host_tier=None, app_users=500)
    assert verdict_of(sign, trusted, make_payload(channel, tier=10), host).valid


# USER_MISMATCH (marketplace) --------------------------------------------------------------------------------


def test_marketplace_key_with_smaller_tier_than_host_is_user_mismatch(make_payload, make_host, sign, trusted):
    verdict = verdict_of(sign, trusted, make_payload(tier=10), make_host(host_tier=100))
    assert verdict.status is LicenseStatus.USER_MISMATCH
    assert verdict.action is FixAction.UPGRADE
    assert verdict.message == (
        "This key is for 10 users but the wiki has 100 users. Marketplace licenses must cover every user of "
        "the host: upgrade the app to the 100-user tier."
    )


def test_marketplace_tier_rule_has_no_tolerance_unlike_upm(make_payload, make_host, sign, trusted):
    # UPM let a host have one user more than the app tier; DESIGN §6 says tier < host tier fails.
    assert verdict_of(sign, trusted, make_payload(tier=99), make_host(host_tier=100)).status is (
        LicenseStatus.USER_MISMATCH
    )
    assert verdict_of(sign, trusted, make_payload(tier=100), make_host(host_tier=100)).valid


def test_marketplace_key_with_larger_tier_than_host_is_valid(make_payload, make_host, sign, trusted):
    assert verdict_of(sign, trusted, make_payload(tier=250), make_host(host_tier=100)).valid
    assert verdict_of(sign, trusted, make_payload(tier=None), make_host(host_tier=100)).valid


def test_unlimited_host_needs_unlimited_marketplace_key(make_payload, make_host, sign, trusted):
    verdict = verdict_of(sign, trusted, make_payload(tier=10000), make_host(host_tier=None))
    assert verdict.status is LicenseStatus.USER_MISMATCH
    assert "has unlimited users" in verdict.message and "unlimited tier" in verdict.message
    assert verdict_of(sign, trusted, make_payload(tier=None), make_host(host_tier=None)).valid


def test_direct_key_is_never_user_mismatch(make_payload, make_host, sign, trusted):
    assert verdict_of(sign, trusted, make_payload(Channel.DIRECT, tier=10), make_host(host_tier=None)).valid


# TYPE_MISMATCH ----------------------------------------------------------------------------------------------


@BOTH_CHANNELS
@pytest.mark.parametrize("host_type", [LicenseType.COMMERCIAL, LicenseType.ACADEMIC, LicenseType.STARTER])
@pytest.mark.parametrize("app_type", [LicenseType.COMMUNITY, LicenseType.OPEN_SOURCE, LicenseType.DEVELOPER])
def test_unpaid_app_type_on_paid_host_is_type_mismatch(
    channel, host_type, app_type, make_payload, make_host, sign, trusted
):
    verdict = verdict_of(
        sign, trusted, make_payload(channel, license_type=app_type), make_host(host_license_type=host_type)
    )
    assert verdict.status is LicenseStatus.TYPE_MISMATCH
    assert verdict.action is FixAction.BUY
    assert app_type.value.replace("_", " ") in verdict.message and host_type.value in verdict.message


@pytest.mark.parametrize("app_type", [LicenseType.COMMERCIAL, LicenseType.ACADEMIC, LicenseType.STARTER])
@pytest.mark.parametrize("host_type", list(LicenseType))
def test_paid_app_type_passes_on_any_host(app_type, host_type, make_payload, make_host, sign, trusted):
    host = make_host(host_license_type=host_type)
    assert verdict_of(sign, trusted, make_payload(license_type=app_type), host).valid


@pytest.mark.parametrize("host_type", [LicenseType.COMMUNITY, LicenseType.OPEN_SOURCE, LicenseType.DEVELOPER])
def test_unpaid_app_type_passes_on_unpaid_host(host_type, make_payload, make_host, sign, trusted):
    payload = make_payload(license_type=LicenseType.COMMUNITY)
    assert verdict_of(sign, trusted, payload, make_host(host_license_type=host_type)).valid


def test_evaluation_passes_type_rule_on_paid_host(make_evaluation, make_host, sign, trusted):
    assert verdict_of(
        sign, trusted, make_evaluation(), make_host(host_license_type=LicenseType.STARTER)
    ).valid


@BOTH_CHANNELS
@pytest.mark.parametrize(
    ("key_hosting", "host_hosting"),
    [
        (Hosting.SERVER, Hosting.DATACENTER),
        (Hosting.DATACENTER, Hosting.SERVER),
        (Hosting.SERVER, Hosting.CLOUD),
        (Hosting.CLOUD, Hosting.DATACENTER),
    ],
)
def test_key_for_another_hosting_is_type_mismatch(
    channel, key_hosting, host_hosting, make_payload, make_host, sign, trusted
):
    payload = make_payload(channel, hosting=key_hosting, term_end=date(2026, 1, 31))
    verdict = verdict_of(sign, trusted, payload, make_host(hosting=host_hosting))
    assert verdict.status is LicenseStatus.TYPE_MISMATCH
    assert verdict.action is FixAction.BUY
    names = {Hosting.SERVER: "Server", Hosting.DATACENTER: "Data Center", Hosting.CLOUD: "Cloud"}
    assert f"Buy a {names[host_hosting]} license" in verdict.message


def test_hosting_mismatch_is_reported_instead_of_meaningless_tier_comparison(
    make_payload, make_host, sign, trusted
):
    # A 10-user Server key on a 500-user Data Center host: the fix is a Data Center license, not an upgrade.
    verdict = verdict_of(
        sign,
        trusted,
        make_payload(tier=10),
        make_host(hosting=Hosting.DATACENTER, host_tier=500, app_users=400),
    )
    assert verdict.status is LicenseStatus.TYPE_MISMATCH


# EXPIRED ----------------------------------------------------------------------------------------------------


@BOTH_CHANNELS
def test_evaluation_after_its_end_is_expired_and_asks_to_buy(
    channel, make_evaluation, make_host, sign, trusted
):
    verdict = verdict_of(sign, trusted, make_evaluation(channel, term_end=date(2025, 6, 14)), make_host())
    assert verdict.status is LicenseStatus.EXPIRED
    assert verdict.action is FixAction.BUY
    assert "2025-06-14" in verdict.message


@BOTH_CHANNELS
def test_term_license_after_its_end_is_expired_and_asks_to_renew(
    channel, make_payload, make_host, sign, trusted
):
    datacenter = make_payload(channel, hosting=Hosting.DATACENTER, term_end=date(2025, 3, 31))
    verdict = verdict_of(sign, trusted, datacenter, make_host(hosting=Hosting.DATACENTER))
    assert verdict.status is LicenseStatus.EXPIRED
    assert verdict.action is FixAction.RENEW
    assert verdict.message == "This license's term ended on 2025-03-31. Renew it to keep using the app."


@BOTH_CHANNELS
def test_perpetual_license_never_expires(channel, make_payload, make_host, sign, trusted):
    payload = make_payload(channel, maintenance_end=date(2020, 1, 31))
    far_future = make_host(today=date(2099, 12, 31), build_date=date(2019, 6, 1))
    assert verdict_of(sign, trusted, payload, far_future).valid


# VERSION_MISMATCH -------------------------------------------------------------------------------------------


@BOTH_CHANNELS
def test_build_after_maintenance_end_is_version_mismatch(channel, make_payload, make_host, sign, trusted):
    verdict = verdict_of(sign, trusted, make_payload(channel), make_host(build_date=date(2026, 2, 1)))
    assert verdict.status is LicenseStatus.VERSION_MISMATCH
    assert verdict.action is FixAction.RENEW
    assert "2026-02-01" in verdict.message and "2026-01-31" in verdict.message


@BOTH_CHANNELS
def test_perpetual_license_works_for_builds_released_up_to_maintenance_end(
    channel, make_payload, make_host, sign, trusted
):
    assert verdict_of(sign, trusted, make_payload(channel), make_host(build_date=date(2026, 1, 31))).valid


def test_no_build_date_skips_the_maintenance_check(make_payload, make_host, sign, trusted):
    lapsed = make_payload(maintenance_end=date(2020, 1, 31))
    assert verdict_of(sign, trusted, lapsed, make_host(build_date=None)).valid


def test_evaluation_without_maintenance_end_runs_any_build(make_evaluation, make_host, sign, trusted):
    assert verdict_of(sign, trusted, make_evaluation(), make_host(build_date=date(2030, 1, 1))).valid


# Precedence -------------------------------------------------------------------------------------------------


def test_statuses_are_declared_in_precedence_order():
    assert [status.name for status in LicenseStatus] == [
        "MALFORMED",
        "BAD_SIGNATURE",
        "UNKNOWN_KEY",
        "APP_MISMATCH",
        "HOST_MISMATCH",
        "REVOKED",
        "USERS_EXCEEDED",
        "USER_MISMATCH",
        "TYPE_MISMATCH",
        "EXPIRED",
        "VERSION_MISMATCH",
        "VALID",
    ]


def test_every_rule_broken_at_once_reports_the_first(make_payload, make_host, sign, trusted):
    payload = make_payload(
        Channel.DIRECT,
        tier=10,
        license_type=LicenseType.COMMUNITY,
        term_end=date(2025, 1, 1),
        maintenance_end=date(2025, 1, 1),
    )
    broken = make_host(
        app_key="com.example.other", server_id="OTHER", app_users=99, build_date=date(2025, 5, 1)
    )
    expected = [
        ({}, LicenseStatus.APP_MISMATCH),
        ({"app_key": payload.app_key}, LicenseStatus.HOST_MISMATCH),
        ({"server_id": payload.host_binding}, LicenseStatus.REVOKED),
        ({"revoked": ()}, LicenseStatus.USERS_EXCEEDED),
        ({"app_users": 5}, LicenseStatus.TYPE_MISMATCH),
        ({"host_license_type": LicenseType.COMMUNITY}, LicenseStatus.EXPIRED),
        ({"today": date(2024, 12, 1)}, LicenseStatus.VERSION_MISMATCH),
        ({"build_date": date(2024, 11, 1)}, LicenseStatus.VALID),
    ]
    key = sign(payload)
    revoked: tuple[str, ...] = (payload.license_id,)
    fixes: dict[str, Any] = {}
    for fix, status in expected:
        if "revoked" in fix:
            revoked = ()
        else:
            fixes.update(fix)
        assert check(key, trusted, _replace(broken, **fixes), revoked).status is status, fix


def _replace(host: HostContext, **changes: Any) -> HostContext:
    import dataclasses

    return dataclasses.replace(host, **changes)


# The rules as a list of independent predicates: the verdict must be the first that holds.
def _model(payload: LicensePayload, host: HostContext, revoked: frozenset[str]) -> LicenseStatus:
    exempt = payload.evaluation or host.host_license_type is LicenseType.EVALUATION
    same_hosting = payload.hosting is host.hosting
    tier = float("inf") if payload.tier is None else payload.tier
    host_tier = float("inf") if host.host_tier is None else host.host_tier
    rules = [
        (LicenseStatus.APP_MISMATCH, payload.app_key != host.app_key),
        (LicenseStatus.HOST_MISMATCH, payload.host_binding.lower() != host.server_id.strip().lower()),
        (LicenseStatus.REVOKED, bool({payload.license_id, payload.key_serial} & revoked)),
        (
            LicenseStatus.USERS_EXCEEDED,
            payload.channel is Channel.DIRECT
            and not exempt
            and same_hosting
            and host.app_users is not None
            and host.app_users > tier,
        ),
        (
            LicenseStatus.USER_MISMATCH,
            payload.channel is Channel.MARKETPLACE and not exempt and same_hosting and tier < host_tier,
        ),
        (
            LicenseStatus.TYPE_MISMATCH,
            not same_hosting
            or (
                not exempt
                and host.host_license_type.value in {"commercial", "academic", "starter"}
                and payload.license_type.value in {"community", "open_source", "developer"}
            ),
        ),
        (LicenseStatus.EXPIRED, payload.term_end is not None and payload.term_end < host.today),
        (
            LicenseStatus.VERSION_MISMATCH,
            payload.maintenance_end is not None
            and host.build_date is not None
            and host.build_date > payload.maintenance_end,
        ),
    ]
    return next((status for status, broken in rules if broken), LicenseStatus.VALID)


_days = st.integers(min_value=-40, max_value=40).map(lambda n: date(2025, 6, 15) + timedelta(days=n))
_tiers = st.sampled_from([None, 1, 10, 25, 99, 100, 101, 500])


@st.composite
def _cases(
    draw: st.DrawFn, make_payload: Any, make_host: Any
) -> tuple[LicensePayload, HostContext, frozenset[str]]:
    channel = draw(st.sampled_from(list(Channel)))
    evaluation = draw(st.booleans())
    license_type = (
        LicenseType.EVALUATION
        if evaluation and draw(st.booleans())
        else draw(st.sampled_from([t for t in LicenseType if t is not LicenseType.EVALUATION]))
    )
    payload = make_payload(
        channel,
        hosting=draw(st.sampled_from(list(Hosting))),
        license_type=license_type,
        evaluation=evaluation,
        tier=draw(_tiers),
        host_binding=draw(st.sampled_from(["SRV-1", "SRV-2"])),
        app_key=draw(st.sampled_from(["com.example.a", "com.example.b"])),
        maintenance_end=draw(st.none() | _days),
        term_end=draw(_days) if evaluation else draw(st.none() | _days),
    )
    host = make_host(
        app_key=draw(st.sampled_from(["com.example.a", "com.example.b"])),
        hosting=draw(st.sampled_from(list(Hosting))),
        server_id=draw(st.sampled_from(["SRV-1", " srv-1 ", "SRV-2"])),
        host_tier=draw(_tiers),
        host_license_type=draw(st.sampled_from(list(LicenseType))),
        app_users=draw(st.none() | st.integers(min_value=0, max_value=600)),
        build_date=draw(st.none() | _days),
        today=date(2025, 6, 15),
    )
    revoked = draw(st.frozensets(st.sampled_from([payload.license_id, payload.key_serial, "other"])))
    return payload, host, revoked


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_verdict_is_the_first_rule_that_fails(data, make_payload, make_host, sign, trusted):
    payload, host, revoked = data.draw(_cases(make_payload, make_host))
    expected = _model(payload, host, revoked)
    assert evaluate(payload, host, revoked).status is expected
    verdict = check(sign(payload), trusted, host, revoked)
    assert verdict.status is expected
    assert verdict.payload == payload
    assert verdict.message and verdict.message[0].isupper() and verdict.message.endswith(".")


# Actions and to_dict ----------------------------------------------------------------------------------------


def test_every_action_is_used(make_payload, make_host, sign, trusted):
    host = make_host()
    seen = {
        check(sign(make_payload()), trusted, host).action,
        check("", trusted, host).action,
        check(sign(make_payload()), trusted, host, {make_payload().license_id}).action,
        check(sign(make_payload(tier=10)), trusted, host).action,
        check(sign(make_payload(license_type=LicenseType.COMMUNITY)), trusted, host).action,
        check(sign(make_payload()), trusted, make_host(build_date=date(2027, 1, 1))).action,
    }
    assert seen == set(FixAction)


def test_to_dict_of_a_genuine_key_holds_status_message_action_and_the_license(
    make_payload, make_host, sign, trusted
):
    payload = make_payload()
    result = check(sign(payload), trusted, make_host()).to_dict()
    assert result["status"] == "VALID" and result["action"] == "NONE" and result["message"]
    assert result["entitlement_number"] == "SEN-L48213097"
    assert result["tier"] == 100 and result["maintenance_end"] == "2026-01-31" and result["term_end"] is None
    assert result["issued_at"] == "2025-01-31T10:00:00Z"
    import json

    assert json.loads(json.dumps(result)) == result


def test_to_dict_of_an_untrusted_key_holds_no_license(make_payload, make_host, sign):
    result = check(sign(make_payload()), {}, make_host()).to_dict()
    assert set(result) == {"status", "message", "action"}


# HostContext ------------------------------------------------------------------------------------------------


def test_host_context_accepts_strings_for_its_enums(make_host):
    host = make_host(hosting="datacenter", host_license_type="academic")
    assert host.hosting is Hosting.DATACENTER and host.host_license_type is LicenseType.ACADEMIC


@pytest.mark.parametrize(
    "changes",
    [
        {"hosting": "mainframe"},
        {"host_license_type": "pirated"},
        {"server_id": "  "},
        {"app_key": ""},
        {"host_tier": 0},
        {"host_tier": True},
        {"app_users": -1},
        {"build_date": "2025-01-01"},
        {"today": None},
        {"host_name": ""},
    ],
)
def test_host_context_refuses_invalid_values(changes, make_host):
    with pytest.raises(ValueError):
        make_host(**changes)


def test_check_uses_no_clock(make_evaluation, make_host, sign, trusted):
    key = sign(make_evaluation(term_end=date(2000, 1, 31)))
    assert check(key, trusted, make_host(today=date(2000, 1, 31))).valid
    assert check(key, trusted, make_host(today=date(2000, 2, 1))).status is LicenseStatus.EXPIRED


def test_signing_requires_an_ed25519_key(make_payload):
    from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

    with pytest.raises(TypeError):
        sign_license(make_payload(), generate_private_key(SECP256R1()), "operator-2025")  # type: ignore[arg-type]
