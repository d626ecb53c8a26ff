"""A TCP proxy for benchmarks that cuts one connection once N bytes went to the client.

``arm(n)``: the next connection that carries more than ``n`` bytes from the server is
closed (both ways) right there, once; ``cut_after`` is how many it had forwarded.
``from_server`` counts every byte read from the server since ``arm`` (all connections,
headers included): what visionA sent that reached this side.
"""

from __future__ import annotations

import contextlib
import socket
import threading

BUFFER = 256 * 1024


class CutProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._armed: int | None = None
        self._lock = threading.Lock()
        self.cut_after: int | None = None
        self.from_server = 0

    def arm(self, after: int) -> None:
        with self._lock:
            self._armed, self.cut_after, self.from_server = after, None, 0

    def start(self) -> CutProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, to_client: bool) -> None:
        sent = 0
        try:
            while True:
                data = source.recv(BUFFER)
                if not data:
                    break
                if to_client:
                    with self._lock:
                        self.from_server += len(data)
                        limit = self._armed
                        if limit is not None and sent + len(data) > limit:
                            data = data[: limit - sent]
                            self._armed, self.cut_after = None, sent + len(data)
                            target.sendall(data)
                            raise ConnectionAbortedError("cut")
                target.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for side in (source, target):
                with contextlib.suppress(OSError):
                    side.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    side.close()
