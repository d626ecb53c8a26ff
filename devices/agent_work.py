"""Work waiting for agents, as apps above ``devices`` see it: registered finders.

When a tunnel opens, its relay node asks which of the devices that just
connected have work waiting (``devices_with_work``, one query per finder for a
whole batch of devices) and sends each such agent the finder's path through its
tunnel (``POST /_visiona/...``), so work created while a device was away
reaches it when it comes back, without the agent asking the web tier. An app
registers its finder from its ``AppConfig.ready()`` (registering again under
the same name replaces it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Finder = Callable[[Sequence[str]], set[str]]


@dataclass(frozen=True)
class WorkFinder:
    name: str
    find: Finder  # device ids -> those with work waiting (str ids)
    path: str  # what the relay POSTs through the tunnel, e.g. "/_visiona/deployments/sync"


_finders: dict[str, WorkFinder] = {}


def register_work_finder(name: str, *, find: Finder, path: str) -> None:
    _finders[name] = WorkFinder(name=name, find=find, path=path)


def devices_with_work(device_ids: Sequence[str]) -> dict[str, list[str]]:
    """device id -> the paths to nudge it with, for those with work waiting."""
    nudges: dict[str, list[str]] = {}
    for finder in _finders.values():
        for device_id in finder.find(device_ids):
            nudges.setdefault(str(device_id), []).append(finder.path)
    return nudges
