"""The offline license check: one key, the trusted public keys and the host's context give one verdict.

Statuses are decided in a fixed order and the first failure wins (docs/license-keys.md has the table):

1. ``MALFORMED``: the text is not a license key of format 1. Checked in this order, on the key with paste
   noise (whitespace, line breaks) removed: length, three base64url segments, header (exactly ``alg`` EdDSA,
   ``typ`` mercato-license+jwt, a valid ``kid``, no ``crit``), a 64-byte signature, payload (UTF-8 JSON
   object with exactly the claims of format 1, optionally ``lu``, each of the right type).
2. ``BAD_SIGNATURE``: well formed, the kid is trusted, but the Ed25519 signature does not verify (by PyNaCl
   where it is installed, else by cryptography, under libsodium's rules either way: ``signatures``).
3. ``UNKNOWN_KEY``: well formed, but the kid is not among the trusted keys, so the signature cannot be
   checked. (2 and 3 exclude each other, so their relative order never decides anything.) Also
   ``UNKNOWN_KEY`` (with ``CONTACT_SELLER``): the signature verified, but its signer may not sell this
   license. Each trusted key is bound to one issuer; the signer must be the issuer the key names, and for a
   key of this app that issuer must be the one that sells it in the key's channel: the operator on the
   marketplace, the app's vendor (``HostContext.app_vendor``) on the direct channel.
4. the license rules of ``evaluate``, on a payload whose signature verified.

Nothing here reads a clock, a file or the network: ``HostContext.today`` is the date.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Final

from mercato.licensing.claims import (
    PAID_TYPES,
    UNPAID_TYPES,
    VENDOR_ISSUER_PREFIX,
    Channel,
    Hosting,
    LicensePayload,
    LicenseType,
    is_vendor_slug,
    issuer_in_words,
)
from mercato.licensing.keys import TrustedKeys
from mercato.licensing.reading import _REPASTE, PASTE_NOISE, _Malformed, _read
from mercato.licensing.signatures import signature_is_valid
from mercato.licensing.verdicts import FixAction, LicenseStatus, Verdict

_HOSTING_NAMES: Final = {Hosting.SERVER: "Server", Hosting.DATACENTER: "Data Center", Hosting.CLOUD: "Cloud"}
_HOSTING_PLACES: Final = {
    Hosting.SERVER: "a Server installation",
    Hosting.DATACENTER: "a Data Center installation",
    Hosting.CLOUD: "a Cloud site",
}


@dataclass(frozen=True, slots=True)
class HostContext:
    """What the app knows about the host it runs in, at the time of the check."""

    app_key: str
    """The key of the app doing the check, e.g. ``com.example.mockups.wiki``."""
    hosting: Hosting
    server_id: str
    """The host's server id (server, datacenter) or its cloud site."""
    host_tier: int | None
    """Users of the host's own license; None means unlimited."""
    host_license_type: LicenseType
    app_users: int | None
    """Users of the app (direct and licensed-users licenses admit at most their tier); None when unknown."""
    build_date: date | None
    """Build date of the running app version; None skips the maintenance check."""
    today: date
    host_name: str = "the host"
    """How messages name the host product, e.g. "the wiki"."""
    app_vendor: str | None = None
    """The slug of the vendor that sells this app on its direct store (``example-labs`` for the issuer
    ``vendor:example-labs``): only that vendor's direct keys of this app are genuine. None: nobody sells the
    app directly, so every direct key of it is refused."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hosting", Hosting(self.hosting))
        object.__setattr__(self, "host_license_type", LicenseType(self.host_license_type))
        if not isinstance(self.app_key, str) or not self.app_key:
            raise ValueError("app_key must be a non-empty string")
        if not isinstance(self.server_id, str) or not self.server_id.strip(PASTE_NOISE):
            raise ValueError("server_id must be a non-empty string")
        if self.host_tier is not None and (type(self.host_tier) is not int or self.host_tier < 1):
            raise ValueError(f"host_tier must be a positive number of users or None, not {self.host_tier!r}")
        if self.app_users is not None and (type(self.app_users) is not int or self.app_users < 0):
            raise ValueError(f"app_users must be a number of users or None, not {self.app_users!r}")
        if self.build_date is not None and type(self.build_date) is not date:
            raise ValueError(f"build_date must be a datetime.date or None, not {self.build_date!r}")
        if type(self.today) is not date:
            raise ValueError(f"today must be a datetime.date, not {self.today!r}")
        if not isinstance(self.host_name, str) or not self.host_name:
            raise ValueError("host_name must be a non-empty string")
        if self.app_vendor is not None and not is_vendor_slug(self.app_vendor):
            raise ValueError(
                f"app_vendor must be a vendor's slug such as 'example-labs' or None, not {self.app_vendor!r}"
            )


@dataclass(frozen=True, slots=True)
class SignedLicense:
    """A key whose signature verified with a trusted public key: which key signed it, the issuer that key is
    bound to, and what the key says. Not yet judged: whether that signer may sell this license, and the
    license rules, depend on the host (``evaluate_signed``)."""

    kid: str
    signer: str
    """The issuer the signing key is bound to in the trusted keys: ``operator`` or ``vendor:<slug>``."""
    payload: LicensePayload


def check(key: str, trusted: TrustedKeys, host: HostContext, revoked: Collection[str] = ()) -> Verdict:
    """Check a pasted license key offline.

    ``trusted`` maps signing key ids to their public keys and issuers; ``revoked`` holds revoked license ids
    and/or key serials (a set is fastest). Never raises for any ``key``: text that is not a key is
    ``MALFORMED``.
    """
    signed = authenticate(key, trusted)
    if isinstance(signed, Verdict):
        return signed
    return evaluate_signed(signed, host, revoked)


def authenticate(key: str, trusted: TrustedKeys) -> SignedLicense | Verdict:
    """The first steps of ``check``: the key as a ``SignedLicense`` when it is well formed and its signature
    verifies with a trusted key, else the ``MALFORMED``, ``UNKNOWN_KEY`` or ``BAD_SIGNATURE`` verdict.

    Its answer depends on the key and the trusted keys only, so a license server may remember it.
    """
    try:
        kid, signing_input, signature, payload = _read(key)
    except _Malformed as malformed:
        return Verdict(LicenseStatus.MALFORMED, malformed.message, malformed.action)
    trusted_key = trusted.get(kid)
    if trusted_key is None:
        return Verdict(
            LicenseStatus.UNKNOWN_KEY,
            f"This key was signed with the signing key {kid}, which this app does not trust (it may have "
            "been retired). Get the current key of your license from your licenses page; if it gives the "
            "same message, update the app.",
            FixAction.GET_NEW_KEY,
        )
    if not signature_is_valid(trusted_key, signature, signing_input):
        return Verdict(
            LicenseStatus.BAD_SIGNATURE,
            "This key's signature does not match its content: the key was changed after it was issued, or it "
            "is not genuine. " + _REPASTE,
            FixAction.GET_NEW_KEY,
        )
    return SignedLicense(kid, trusted_key.issuer, payload)


def evaluate_signed(signed: SignedLicense, host: HostContext, revoked: Collection[str] = ()) -> Verdict:
    """The rest of ``check`` for a key whose signature verified: the issuer binding (``UNKNOWN_KEY`` when
    the signer may not sell this license), then the license rules of ``evaluate``."""
    payload = signed.payload
    # 1. The signer is the seller of record the key names. Claims already tie the channel to the issuer
    #    (marketplace: operator; direct: a vendor), so this also keeps vendors' keys off marketplace licenses.
    if signed.signer != payload.issuer:
        return Verdict(
            LicenseStatus.UNKNOWN_KEY,
            f"This key says it was sold by {payload.seller}, but it was signed with the signing key "
            f"{signed.kid} of {issuer_in_words(signed.signer)}: only {payload.seller} signs the licenses it "
            f"sells, so this key is not genuine. Contact {payload.seller} for a genuine key of your license.",
            FixAction.CONTACT_SELLER,
        )
    # 2. For a key of this app, that seller may sell it in this channel: the operator sells every app on the
    #    marketplace; only the app's own vendor sells it directly. (A key of another app fails APP_MISMATCH:
    #    the app knows its own vendor, not the vendors of other apps.)
    direct_seller = None if host.app_vendor is None else VENDOR_ISSUER_PREFIX + host.app_vendor
    if (
        payload.channel is Channel.DIRECT
        and payload.app_key == host.app_key
        and payload.issuer != direct_seller
    ):
        if direct_seller is None:
            sellers, rightful = "no vendor sells", "the marketplace"
        else:
            rightful = issuer_in_words(direct_seller)
            sellers = f"only {rightful} sells"
        return Verdict(
            LicenseStatus.UNKNOWN_KEY,
            f"This key says it is a direct license of {payload.app_key} from {payload.seller}, but {sellers} "
            f"{payload.app_key} directly, so this key is not genuine. Contact {rightful} for a genuine key of "
            "your license.",
            FixAction.CONTACT_SELLER,
        )
    return evaluate(payload, host, revoked)


def evaluate(payload: LicensePayload, host: HostContext, revoked: Collection[str] = ()) -> Verdict:
    """The license rules, from ``APP_MISMATCH`` to ``VALID``, for a payload already known to be genuine and
    sold by whom may sell it (from a key that passed ``evaluate_signed``'s issuer binding, or from the
    license server's own records)."""
    if payload.app_key != host.app_key:
        return Verdict(
            LicenseStatus.APP_MISMATCH,
            f"This key is for the app {payload.app_key}, not for {host.app_key}. "
            f"Paste the key issued for {host.app_key}, from your licenses page.",
            FixAction.GET_NEW_KEY,
            payload,
        )
    if _binding(payload.host_binding) != _binding(host.server_id):
        what = "site" if host.hosting is Hosting.CLOUD else "server ID"
        server_id = host.server_id.strip(PASTE_NOISE)
        return Verdict(
            LicenseStatus.HOST_MISMATCH,
            f"This key is bound to the {what} {payload.host_binding}, but the {what} of {host.host_name} is "
            f"{server_id}. Get a key for {server_id} from your licenses page, or ask {payload.seller} to "
            "move the license.",
            FixAction.GET_NEW_KEY,
            payload,
        )
    if revoked:
        if payload.license_id in revoked:
            return Verdict(
                LicenseStatus.REVOKED,
                f"License {payload.entitlement_number} has been revoked. Contact {payload.seller} to find "
                "out why and to get a valid license.",
                FixAction.CONTACT_SELLER,
                payload,
            )
        if payload.key_serial in revoked:
            return Verdict(
                LicenseStatus.REVOKED,
                f"This key (serial {payload.key_serial}) has been replaced by a newer key of license "
                f"{payload.entitlement_number}. Paste the newest key, from your licenses page.",
                FixAction.GET_NEW_KEY,
                payload,
            )
    # Evaluations (of the app or of the host) pass the tier and type rules, as in UPM.
    exempt = payload.evaluation or host.host_license_type is LicenseType.EVALUATION
    same_hosting = payload.hosting is host.hosting
    # Tiers of different hostings are not comparable; a key for the wrong hosting is a TYPE_MISMATCH below.
    if not exempt and same_hosting and payload.tier is not None:
        # Direct licenses, and marketplace licenses of listings that sell licensed users, count the app's
        # own users: the key may be below the host's tier, but admits at most its tier of app users.
        if payload.channel is Channel.DIRECT or payload.licensed_users:
            app_users = host.app_users
            if app_users is not None and app_users > payload.tier:
                kind = "direct" if payload.channel is Channel.DIRECT else "licensed-users"
                return Verdict(
                    LicenseStatus.USERS_EXCEEDED,
                    f"This key is for {_users(payload.tier)} but the app has {_users(app_users)}. A {kind} "
                    "license admits at most its tier: upgrade the app license to at least "
                    f"{_users(app_users)}, or remove {_users(app_users - payload.tier)} from the app.",
                    FixAction.UPGRADE,
                    payload,
                )
        elif host.host_tier is None or payload.tier < host.host_tier:
            return Verdict(
                LicenseStatus.USER_MISMATCH,
                f"This key is for {_users(payload.tier)} but {host.host_name} has {_users(host.host_tier)}. "
                "Marketplace licenses must cover every user of the host: upgrade the app to the "
                f"{_tier_name(host.host_tier)} tier.",
                FixAction.UPGRADE,
                payload,
            )
    if not same_hosting:
        return Verdict(
            LicenseStatus.TYPE_MISMATCH,
            f"This key is for {_HOSTING_PLACES[payload.hosting]}, but {host.host_name} is "
            f"{_HOSTING_PLACES[host.hosting]}. Buy a {_HOSTING_NAMES[host.hosting]} license of the app.",
            FixAction.BUY,
            payload,
        )
    if not exempt and host.host_license_type in PAID_TYPES and payload.license_type in UNPAID_TYPES:
        return Verdict(
            LicenseStatus.TYPE_MISMATCH,
            f"This is {_a(_type_name(payload.license_type))} license, but {host.host_name} has "
            f"{_a(_type_name(host.host_license_type))} license. A paid host needs a paid app license "
            "(commercial, academic or starter): buy one.",
            FixAction.BUY,
            payload,
        )
    if payload.term_end is not None and payload.term_end < host.today:
        if payload.evaluation:
            return Verdict(
                LicenseStatus.EXPIRED,
                f"This evaluation license was valid until {payload.term_end.isoformat()}. "
                "Buy a license to keep using the app.",
                FixAction.BUY,
                payload,
            )
        return Verdict(
            LicenseStatus.EXPIRED,
            f"This license's term ended on {payload.term_end.isoformat()}. Renew it to keep using the app.",
            FixAction.RENEW,
            payload,
        )
    if (
        payload.maintenance_end is not None
        and host.build_date is not None
        and host.build_date > payload.maintenance_end
    ):
        maintenance_end = payload.maintenance_end.isoformat()
        return Verdict(
            LicenseStatus.VERSION_MISMATCH,
            f"This version of the app was built on {host.build_date.isoformat()}, after the license's "
            f"maintenance ended on {maintenance_end}. Renew maintenance to use this version, or install a "
            f"version built on or before {maintenance_end}.",
            FixAction.RENEW,
            payload,
        )
    kind = _type_name(payload.license_type)
    if payload.evaluation and payload.license_type is not LicenseType.EVALUATION:
        kind += " evaluation"
    until = "" if payload.term_end is None else f", until {payload.term_end.isoformat()}"
    return Verdict(
        LicenseStatus.VALID,
        f"This key is valid: {kind} license {payload.entitlement_number} for {_users(payload.tier)}{until}.",
        FixAction.NONE,
        payload,
    )


def _binding(value: str) -> str:
    return value.strip(PASTE_NOISE).lower()


def _users(count: int | None) -> str:
    if count is None:
        return "unlimited users"
    return "1 user" if count == 1 else f"{count} users"


def _tier_name(tier: int | None) -> str:
    return "unlimited" if tier is None else f"{tier}-user"


def _type_name(license_type: LicenseType) -> str:
    return license_type.value.replace("_", " ")


def _a(noun_phrase: str) -> str:
    return ("an " if noun_phrase[0] in "aeiou" else "a ") + noun_phrase
