"""Pairing codes and device tokens: how they are made, written and hashed.

Only hashes are stored. A device token is high-entropy, so a plain SHA-256 is
enough. A pairing code is short enough to type, so a leaked table could be
brute-forced offline: its hash is an HMAC keyed by SECRET_KEY, and codes
expire in minutes and wrong ones are rate-limited per client address on the way in.

Rows are found by hash through a unique index; timing differences in that
lookup reveal at most a hash prefix, which does not help to find a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from django.conf import settings

# No look-alikes: no I, L, O, 0 or 1.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_GROUP = 4
TOKEN_PREFIX = "vad_"
_TOKEN_MAX_LENGTH = 128
_CODE_SEPARATORS = str.maketrans("", "", "- \t")
_TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_")


def pairing_code_generate() -> str:
    """A new code, normalized (8 characters, no separator)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def pairing_code_display(code: str) -> str:
    """``ABCDEFGH`` -> ``ABCD-EFGH``, the way people read and type it."""
    return f"{code[:CODE_GROUP]}-{code[CODE_GROUP:]}"


def pairing_code_normalize(raw: str) -> str | None:
    """What the user typed, as stored; None when it cannot be a code."""
    code = raw.translate(_CODE_SEPARATORS).upper()
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        return None
    return code


def pairing_code_hash(code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"devices.pairing-code:" + code.encode(), hashlib.sha256).hexdigest()


def device_token_generate() -> str:
    # The prefix makes a leaked token recognizable (secret scanners, logs).
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def device_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_token_looks_valid(token: str) -> bool:
    """Cheap shape check before touching the database."""
    return (
        token.startswith(TOKEN_PREFIX)
        and len(token) <= _TOKEN_MAX_LENGTH
        and all(char in _TOKEN_CHARACTERS for char in token[len(TOKEN_PREFIX) :])
    )
