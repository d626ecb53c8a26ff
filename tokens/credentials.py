"""Personal API tokens: how they are made, recognized and hashed.

A token is ``vap_`` + 32 random bytes (URL-safe base64): high entropy, so a plain
SHA-256 is a safe hash, and the row is found by that hash through a unique index.
The prefix tells it apart from a device token (``vad_``, devices/credentials.py) at a
glance, for people, secret scanners and the log redaction (visiona/log.py).
"""

from __future__ import annotations

import hashlib
import secrets
import string

TOKEN_PREFIX = "vap_"
# Shown in lists so people can tell their tokens apart: the prefix and 6 characters.
DISPLAY_LENGTH = len(TOKEN_PREFIX) + 6
_TOKEN_MAX_LENGTH = 128
_TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_")


def token_generate() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_looks_valid(token: str) -> bool:
    """Cheap shape check before touching the database."""
    return (
        token.startswith(TOKEN_PREFIX)
        and len(token) <= _TOKEN_MAX_LENGTH
        and all(char in _TOKEN_CHARACTERS for char in token[len(TOKEN_PREFIX) :])
    )
