"""Webhook secrets at rest: AES-256-GCM under a key derived from the deployment's secret
(``MERCATO_SECRET_KEY``), as the private signing keys are. A database dump alone cannot forge a webhook. The
endpoint's id is bound in as associated data, so a sealed secret copied onto another endpoint does not open.
``mercato keys reseal`` moves them to a new secret together with the signing keys."""

from __future__ import annotations

import base64
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.problems import Problem
from mercato.webhooks.models import WebhookEndpoint

_FORMAT = "v1"


class WebhookSecretUnreadable(Problem):
    """A webhook endpoint's signing secret cannot be opened with this deployment's secret key: the key changed
    without `mercato keys reseal`. Set `MERCATO_SECRET_KEY` back, or reseal from the old one."""

    status = 500
    type = "webhook-secret-unreadable"
    title = "Webhook secret cannot be opened"


def _key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"mercato webhook secrets v1").derive(
        secret_key.encode()
    )


def seal_secret(secret: str, secret_key: str, endpoint_id: uuid.UUID) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(secret_key)).encrypt(nonce, secret.encode(), endpoint_id.bytes)
    return f"{_FORMAT}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def open_secret(sealed: str, secret_key: str, endpoint_id: uuid.UUID) -> str:
    version, _, payload = sealed.partition(".")
    try:
        if version != _FORMAT:
            raise ValueError(version)
        blob = base64.urlsafe_b64decode(payload)
        return AESGCM(_key(secret_key)).decrypt(blob[:12], blob[12:], endpoint_id.bytes).decode()
    except (InvalidTag, ValueError) as error:
        raise WebhookSecretUnreadable(
            f"The signing secret of webhook endpoint {endpoint_id} cannot be opened with this deployment's secret "
            "key. MERCATO_SECRET_KEY must be the value it had when the secret was made (or run mercato keys "
            "reseal)."
        ) from error


def reseal_webhook_secrets(session: Session, old_secret_key: str, new_secret_key: str) -> int:
    """Seal every endpoint's secrets under ``new_secret_key`` instead of ``old_secret_key``, in the caller's
    transaction; one that the old key cannot open stops it. Returns how many endpoints were resealed."""
    endpoints = list(session.scalars(select(WebhookEndpoint)))
    for endpoint in endpoints:
        endpoint.secret = seal_secret(
            open_secret(endpoint.secret, old_secret_key, endpoint.id), new_secret_key, endpoint.id
        )
        if endpoint.previous_secret:
            endpoint.previous_secret = seal_secret(
                open_secret(endpoint.previous_secret, old_secret_key, endpoint.id),
                new_secret_key,
                endpoint.id,
            )
    session.flush()
    return len(endpoints)
