"""An access matrix for API endpoints: who gets 2xx, who 403, and everybody else 404.

Mercato's access rule, checked the same way for every feature:

- no token, or a token Mercato does not know: **401**;
- a read-only token on a write (any method but GET/HEAD): **403**; on a read, whatever its user would get;
- a principal allowed to do it: **2xx**;
- a principal that may see the object but not act on it (a billing contact changing a host): **403**;
- everyone else (another organisation's admin, a vendor): **404**, exactly as for an object that does not
  exist, so existence does not leak. (``hidden_status`` changes this for collection-level actions.)

Every refusal must be an RFC 9457 problem document. Usage::

    ENDPOINTS = [
        Endpoint("GET", "/api/v1/organisations/{acme}", allowed={"operator", "acme_admin", "acme_billing"}),
        Endpoint(
            "POST",
            "/api/v1/organisations/{acme}/members",
            allowed={"operator", "acme_admin"},
            forbidden={"acme_billing"},
            body=lambda caller: {"email": f"new-{caller}@acme.example", "role": "billing_contact"},
        ),
    ]
    assert_access(
        client,
        ENDPOINTS,
        tokens={"operator": "...", "acme_admin": "...", "acme_billing": "...", "globex_admin": "...",
                "acme_read_only": "..."},
        read_only={"acme_read_only": "acme_admin"},
        params={"acme": str(acme.id)},
    )

A body may be a callable of the caller's name, so that callers that succeed do not collide (two users created
with the same e-mail). Requests that are expected to succeed run last, after every refusal, so one that
changes data cannot change what the refusals see. All mismatches are reported together, one line each.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

Body = Mapping[str, Any] | Callable[[str], Mapping[str, Any]] | None
ANONYMOUS = "(no token)"
UNKNOWN_TOKEN = "(unknown token)"
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_BOGUS_TOKEN = "mct_this-token-was-never-issued"


@dataclass(frozen=True)
class Endpoint:
    """One request to check: ``path`` may hold ``{placeholders}`` filled from ``params``."""

    method: str
    path: str
    allowed: Collection[str]
    forbidden: Collection[str] = ()
    body: Body = None
    hidden_status: int = 404

    @property
    def writes(self) -> bool:
        return self.method.upper() not in _READS

    def expected(self, caller: str, read_only: Mapping[str, str]) -> int | None:
        """The status ``caller`` must get; None means any 2xx."""
        if caller in read_only:
            return 403 if self.writes else self.expected(read_only[caller], read_only)
        if caller in self.allowed:
            return None
        if caller in self.forbidden:
            return 403
        return self.hidden_status

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _order(endpoint: Endpoint, callers: Sequence[str], read_only: Mapping[str, str]) -> list[str]:
    # Refusals first, successes last: a successful write must not change what a later refusal sees.
    return sorted(callers, key=lambda caller: endpoint.expected(caller, read_only) is None)


def _describe(response: httpx.Response) -> str:
    """The problem's detail sentence (or the start of the body), to show what the caller was told."""
    try:
        document = response.json()
    except ValueError:
        return response.text[:200]
    detail = document.get("detail", document) if isinstance(document, dict) else document
    return str(detail)[:200]


def check_access(
    client: TestClient,
    endpoints: Sequence[Endpoint],
    tokens: Mapping[str, str],
    *,
    read_only: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> list[str]:
    """Run every endpoint as every caller in ``tokens`` (name → bearer token), with no token and with an
    unknown token; return one line per response that breaks the rule (empty when all is well).

    ``read_only`` maps the names of read-only tokens to the name of the principal whose rights they carry
    (``{"acme_read_only": "acme_admin"}``); each of those must also be in ``tokens``.
    """
    read_only = read_only or {}
    params = params or {}
    missing = set(read_only) - set(tokens) | set(read_only.values()) - set(tokens)
    assert not missing, f"read_only names callers without a token: {sorted(missing)}"
    failures = []
    for endpoint in endpoints:
        path = endpoint.path.format_map(params)
        calls: list[tuple[str, dict[str, str], int | None]] = [
            (ANONYMOUS, {}, 401),
            (UNKNOWN_TOKEN, {"Authorization": f"Bearer {_BOGUS_TOKEN}"}, 401),
        ]
        calls += [
            (caller, {"Authorization": f"Bearer {tokens[caller]}"}, endpoint.expected(caller, read_only))
            for caller in _order(endpoint, list(tokens), read_only)
        ]
        for caller, headers, expected in calls:
            body = endpoint.body(caller) if callable(endpoint.body) else endpoint.body
            response = client.request(
                endpoint.method, path, headers=headers, json=dict(body) if body is not None else None
            )
            status = response.status_code
            ok = 200 <= status < 300 if expected is None else status == expected
            if not ok:
                wanted = "2xx" if expected is None else str(expected)
                failures.append(
                    f"{endpoint.method.upper()} {path} as {caller}: expected {wanted}, got {status} "
                    f"({_describe(response)})"
                )
            elif status >= 400 and not response.headers.get("content-type", "").startswith(
                "application/problem+json"
            ):
                failures.append(
                    f"{endpoint.method.upper()} {path} as {caller}: {status} is not a problem document"
                )
    return failures


def assert_access(
    client: TestClient,
    endpoints: Sequence[Endpoint],
    tokens: Mapping[str, str],
    *,
    read_only: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> None:
    """``check_access``, failing the test with every mismatch listed."""
    failures = check_access(client, endpoints, tokens, read_only=read_only, params=params)
    assert not failures, "Access rules broken:\n" + "\n".join(failures)
