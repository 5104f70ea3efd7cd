"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the mail and outbox tests."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port where nothing listens, so connecting is refused: an SMTP server that is down.

    The port stays bound (but not listening) while in use, so nothing else picks it meanwhile; an
    ``SmtpTestServer`` can still be started on it, as both sockets allow the address to be reused.
    """
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


@dataclass(frozen=True)
class ReceivedEmail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Capture:
    def __init__(self, refuse_recipients_with: str | None) -> None:
        self.received: list[ReceivedEmail] = []
        self.refuse_recipients_with = refuse_recipients_with

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_recipients_with:
            return self.refuse_recipients_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # As a mailbox stores it: SMTP's CRLF line ends become newlines.
        content = (envelope.original_content or b"").replace(b"\r\n", b"\n")
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(ReceivedEmail(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd's controller, on the port it was given or, given 0, on one the system picks."""

    def _trigger_server(self) -> None:
        # Listening by now: learn the port before the controller connects to it to check that it answers.
        assert self.server is not None
        self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()


class SmtpTestServer:
    """Listens on 127.0.0.1 while started (by default on a port the system picks, read back as ``port``);
    ``received`` lists every accepted e-mail, parsed."""

    def __init__(self, port: int = 0, refuse_recipients_with: str | None = None, **smtp: Any) -> None:
        self._capture = _Capture(refuse_recipients_with)
        self._controller = _Controller(self._capture, hostname="127.0.0.1", port=port, **smtp)

    @property
    def port(self) -> int:
        assert self._controller.port, "the server has no port until it is started"
        return int(self._controller.port)

    @property
    def received(self) -> list[ReceivedEmail]:
        return self._capture.received

    def start(self) -> SmtpTestServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


@dataclass(frozen=True)
class TestCertificate:
    __test__ = False  # not a pytest test class

    server_context: ssl.SSLContext
    client_context: ssl.SSLContext


def self_signed_certificate(directory: Path) -> TestCertificate:
    """A certificate for 127.0.0.1, and a client context that trusts only it (hostname checks stay on)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp.crt", directory / "smtp.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    return TestCertificate(server_context, ssl.create_default_context(cafile=str(cert_file)))
