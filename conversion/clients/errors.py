"""Errors of the upstream clients themselves, before they mean anything to a user.

The clients raise these; ``conversion.upstream_errors`` maps them onto the app's
errors (``conversion.errors``) in one place.
"""

from __future__ import annotations


class ClientError(Exception):
    """Base of the clients' own errors."""


class BudgetExhausted(ClientError):
    """The converter's shared budget has no slot for this priority now."""

    def __init__(self, retry_after: int = 30) -> None:
        super().__init__(f"converter budget used; retry after {retry_after} s")
        self.retry_after = retry_after
