"""A real HTTP server on loopback that receives webhooks and verifies each with the stock ``standardwebhooks``
library, as a vendor's receiver would. It answers the statuses it is told to, in turn (then 200)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    """What the receiver answered."""
    verified_with: tuple[str, ...]
    """The secrets (of those the receiver knows) whose verification passed."""
    payload: Any


class WebhookReceiver:
    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.statuses: deque[int] = deque()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {key.lower(): value for key, value in self.headers.items()}
                passed, payload = [], None
                for secret in receiver.secrets:
                    try:
                        payload = Webhook(secret).verify(body, headers)
                    except WebhookVerificationError:
                        continue
                    passed.append(secret)
                with receiver._lock:
                    status = receiver.statuses.popleft() if receiver.statuses else 200
                    if not passed and status < 300:
                        status = 401  # as a receiver must: an unverified webhook is refused
                    receiver.received.append(
                        Received(self.path, headers, body, status, tuple(passed), payload)
                    )
                answer = b"ok" if status < 300 else b"not now"
                self.send_response(status)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, *statuses: int) -> None:
        """Answer these statuses to the next requests, in turn; 200 afterwards."""
        self.statuses.extend(statuses)

    @property
    def accepted(self) -> list[Received]:
        return [item for item in self.received if item.status < 300]
