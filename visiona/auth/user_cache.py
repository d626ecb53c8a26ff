"""Who is signed in, remembered by each process for AUTH_CACHE_SECONDS.

Every signed-in request looked its user up in the database (a query the ORM compiles:
about a third of a small API request's CPU). Each process now keeps the rows it read
for a few seconds: a request then rebuilds the user from the row, with no query.

How fast a change reaches a process (docs/streams.md, "Short requests"):
- the process that saves or deletes the user forgets it at once (signals), so does the
  one revoking a token (tokens.services);
- every other process within AUTH_CACHE_SECONDS (5 by default): a deactivated account,
  a changed password (which ends its sessions) or a revoked token stops working
  everywhere within that time. 0 turns the cache off.

What is kept is the row's values, never a shared instance: each request gets its own
user object, so nothing one request sets on it reaches another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver


class LocalCache:
    """Values for AUTH_CACHE_SECONDS in this process, under a lock; a bounded size."""

    MAX_ENTRIES = 10_000
    every: list[LocalCache] = []

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        LocalCache.every.append(self)

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self.forget(key)
            return None
        return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        seconds = settings.AUTH_CACHE_SECONDS
        if seconds <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()  # rare: a new start costs one query per user
            self._entries[key] = (time.monotonic() + seconds, value)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def forget_where(self, predicate: Callable[[Any], bool]) -> None:
        with self._lock:
            for key in [key for key, (_, value) in self._entries.items() if predicate(value)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def clear_all() -> None:
    """Forget everything every such cache of this process holds (the test suite)."""
    for local in LocalCache.every:
        local.clear()


def row_of(instance: models.Model) -> tuple:
    return tuple(getattr(instance, field.attname) for field in instance._meta.concrete_fields)


ModelType = TypeVar("ModelType", bound=models.Model)


def from_row(model: type[ModelType], row: tuple) -> ModelType:
    """A fresh instance, as if the row had just been read from the database."""
    names = [field.attname for field in model._meta.concrete_fields]
    return model.from_db("default", names, row)


users = LocalCache()


def cached_user(user_id) -> models.Model | None:
    """The user with this primary key (None if there is none), from this process's
    memory when it read the row less than AUTH_CACHE_SECONDS ago."""
    User = get_user_model()
    try:
        key = User._meta.pk.to_python(user_id)
    except Exception:
        return None
    row = users.get(key)
    if row is not None:
        return from_row(User, row)
    user = User._default_manager.filter(pk=key).first()
    if user is not None:
        users.put(key, row_of(user))
    return user


@receiver(post_save, dispatch_uid="visiona.user_cache.saved")
@receiver(post_delete, dispatch_uid="visiona.user_cache.deleted")
def _forget_changed_user(sender, instance, **kwargs) -> None:
    if sender is get_user_model():
        users.forget(instance.pk)
