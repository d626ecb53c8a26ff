"""Raw-socket clients that send or read as slowly as a test wants, and the forms they send."""

from __future__ import annotations

import socket
import uuid
from urllib.parse import urlsplit

from tests.models_repo.conftest import nef_bytes


def bearer(user, scopes=("read", "convert", "deploy")) -> dict[str, str]:
    from tokens.services import token_create

    name = f"stack {uuid.uuid4().hex[:6]}"
    issued = token_create(owner=user, name=name, scopes=scopes, expires_in_days=7)
    return {"Authorization": f"Bearer {issued.secret}"}


def model_form(size: int, chip: str = "KL520") -> tuple[bytes, bytes, str]:
    """A My models upload: (the form's head, its file and tail, its content type)."""
    boundary = "visiona-slow-" + uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="chips"\r\n\r\n{chip}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        'filename="slow.nef"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    rest = nef_bytes(size) + f"\r\n--{boundary}--\r\n".encode()
    return head, rest, f"multipart/form-data; boundary={boundary}"


class RawRequest:
    """One HTTP/1.1 request over a socket of its own: the head, then the body as the
    test feeds it, then the answer."""

    def __init__(self, base_url: str, method: str, path: str, headers: dict[str, str]) -> None:
        url = urlsplit(base_url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=60)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {url.hostname}:{url.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def send(self, data: bytes) -> bool:
        """False once the server has closed (or answered and stopped reading)."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def answer(self, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
        self.sock.settimeout(timeout)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "-1"))
        while length >= 0 and len(body) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            body += chunk
        if headers.get("transfer-encoding") == "chunked":
            body = _dechunk(body, self.sock)
        return status, headers, body

    def close(self) -> None:
        self.sock.close()


def _dechunk(body: bytes, sock: socket.socket) -> bytes:
    while not body.endswith(b"0\r\n\r\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out
