"""Tell the relay nodes that a device token may have stopped being usable.

Each relay node re-checks the tokens of its open tunnels (``RelayNode.recheck_tokens``)
so that a revocation closes a tunnel within 5 s. Asking the database about all of a
node's tokens every 2 s was, at 10,000 tunnels, the relay's second cost after the
agents' pings and about 50,000 rows read a second, to find nothing almost every time.

So whatever makes a token unusable through the app (revoking it, unpairing its device,
deactivating or deleting its owner) writes a new stamp to the shared cache once its
transaction has committed, and a node asks the database when the stamp moved, or every
``FULL_RECHECK_SECONDS`` whatever it says: tokens that expire, changes made behind the
app's back (SQL, bulk updates), a stamp lost with Redis. Without Redis there is no
shared stamp (``current`` answers None): nodes ask every time, as before.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

STAMP_KEY = "devices:token-changes"
# The longest a change the stamp did not announce waits for a node to notice it.
FULL_RECHECK_SECONDS = 60.0


def note_change() -> None:
    """A token may have become unusable in the current transaction: new stamp on commit
    (not before: a node that re-checked early would read the old rows and stop asking)."""
    transaction.on_commit(_write_stamp)


def connect_signals() -> None:
    """Owners: a deactivated user's devices lose their tokens' use (``DeviceToken
    .objects.usable``), and a deleted user's devices go with them; both however saved
    (a page, the admin, a script)."""
    user_model = get_user_model()
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="token-changes-user-saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="token-changes-user-deleted")


def _user_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    if not instance.is_active:
        note_change()


def _user_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    note_change()


def _write_stamp() -> None:
    if not settings.REDIS_URL:
        return
    try:
        cache.set(STAMP_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        # The nodes' full re-check finds the change within FULL_RECHECK_SECONDS.
        logger.warning("token change not announced: the cache is unavailable", exc_info=True)


def current() -> str | None:
    """The stamp now; None when there is no shared one or it cannot be read (the caller
    then re-checks everything)."""
    if not settings.REDIS_URL:
        return None
    try:
        stamp = cache.get(STAMP_KEY)
    except Exception:
        logger.warning("token change stamp unreadable: re-checking all tokens", exc_info=True)
        return None
    # No stamp yet (a new or flushed Redis): a fixed value, so nodes do not re-check
    # every time until the first change.
    return stamp if isinstance(stamp, str) else "none"
