"""A lean HTTP/1.1 keep-alive client over raw sockets for the benchmarks: building a request and reading its
answer cost microseconds, so the figures measure the server, not an HTTP library."""

from __future__ import annotations

import asyncio


def http_request(method: str, path: str, body: bytes = b"", token: str | None = None) -> bytes:
    """The bytes of one request (a JSON body when ``body`` is given, a bearer token when ``token`` is)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of the next answer on the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)
