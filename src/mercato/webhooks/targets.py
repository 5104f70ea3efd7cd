"""Where webhooks may be sent: a public HTTPS address. Mercato posts from inside the operator's network, so an
endpoint that named an address there (a metadata service, a database, the admin port of a router) would let any
vendor probe it (server-side request forgery). The URL is checked when it is registered, and every address its
host resolves to is checked again before each delivery: a name may point elsewhere by then."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from mercato.problems import InvalidInput

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class InvalidWebhookUrl(InvalidInput):
    """A webhook endpoint's URL must be `https://` on a public address: Mercato refuses loopback, private,
    link-local and other non-public addresses, and user names or passwords in the URL. Only a demo or a test
    deployment (`webhook_allow_loopback`, `mercato serve --demo`) accepts `http://` on this machine
    (`127.0.0.1`, `[::1]`, `localhost`)."""

    type = "invalid-webhook-url"
    title = "Invalid webhook URL"


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def _is_loopback_host(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, allow_loopback: bool) -> str:
    """The URL, stripped, if Mercato may post to it; ``InvalidWebhookUrl`` otherwise. Names are not resolved
    here (``check_addresses`` does that before each delivery); literal addresses are checked at once."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        raise InvalidWebhookUrl(f"{url!r} is not a URL.", field="url") from None
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidWebhookUrl(
            "A webhook URL starts with https:// and names a host, like https://hooks.example.com/mercato.",
            field="url",
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl("A webhook URL may not carry a user name or password.", field="url")
    if parts.fragment:
        raise InvalidWebhookUrl("A webhook URL has no #fragment: the server never sees it.", field="url")
    loopback = _is_loopback_host(host)
    if loopback:
        if not allow_loopback:
            raise InvalidWebhookUrl(
                f"{host} is this server itself: Mercato posts webhooks to public addresses only.", field="url"
            )
        return url
    if parts.scheme != "https":
        raise InvalidWebhookUrl(
            "A webhook URL must use https://, so that events and signatures cannot be read on the way.",
            field="url",
        )
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if "." not in host:
            raise InvalidWebhookUrl(
                f"{host!r} is not a public host name (it has no domain).", field="url"
            ) from None
        return url
    if not _is_public(address):
        raise InvalidWebhookUrl(
            f"{address} is not a public address (private, loopback, link-local or reserved): Mercato does not "
            "post webhooks into private networks.",
            field="url",
        )
    return url


class TargetRefused(Exception):
    """The endpoint's host resolves to an address Mercato does not post to, or does not resolve."""


def check_addresses(url: str, allow_loopback: bool) -> None:
    """Resolve the URL's host and refuse it (``TargetRefused``) if any of its addresses is not public (on this
    machine's loopback, when ``allow_loopback``: only loopback addresses)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise TargetRefused(f"{host} does not resolve: {error}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if allow_loopback and _is_loopback_host(host) and address.is_loopback:
            continue
        if not _is_public(address):
            raise TargetRefused(f"{host} resolves to {address}, which is not a public address")
