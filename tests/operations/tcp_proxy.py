"""A TCP proxy on loopback that can stop forwarding, as a network partition does.

While partitioned it keeps every connection open and accepts new ones, but passes no byte either way: what
the client sends is accepted (the kernel acknowledges it) and no answer and no error ever come back. That is
what a client sees when a switch or a firewall between it and its database drops packets, and why neither
TCP nor libpq ends the wait on their own. When the partition heals, held bytes flow again.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._forwarding = threading.Event()
        self._forwarding.set()
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        threading.Thread(target=self._accept, name="tcp-proxy-accept", daemon=True).start()
        return self

    def partition(self) -> None:
        """Stop forwarding, in both directions, on every connection, open or new."""
        self._forwarding.clear()

    def heal(self) -> None:
        self._forwarding.set()

    def stop(self) -> None:
        self._stopped.set()
        self._forwarding.set()  # release the pumps, which then find their sockets closed
        with suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with suppress(OSError):
                    sock.close()

    def _keep(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
        return sock

    def _wait_until_forwarding(self) -> bool:
        self._forwarding.wait()
        return not self._stopped.is_set()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(self._keep(client),), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        if not self._wait_until_forwarding():  # partitioned: the connection is accepted and left hanging
            return
        try:
            upstream = self._keep(socket.create_connection(self.target))
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        self._pump(upstream, client)

    def _pump(self, source: socket.socket, destination: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not self._wait_until_forwarding():
                    return
                if not data:
                    destination.shutdown(socket.SHUT_WR)
                    return
                destination.sendall(data)
        except OSError:
            with suppress(OSError):
                destination.close()
