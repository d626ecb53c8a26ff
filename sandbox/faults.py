"""Failures armed on purpose, so pages and tests can walk the real error paths.

A fault makes the next ``times`` requests at one point answer ``status`` with
the upstream's error shape. State is a file under SANDBOX_DIR (shared by every
thread and process of the sandbox), changed under a lock.

    POST /sandbox/_faults  {"point": "converter.get_job", "status": 500, "times": 1}
    DELETE /sandbox/_faults

The switch breaks visionA for everyone, so only a signed-in staff user may
flip it (session and CSRF token, as for Django admin): the sandbox may be on
where others can reach it.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.http import HttpRequest, HttpResponse, JsonResponse

from sandbox import store
from visiona.errors import PermissionDenied, Unauthenticated, envelope

POINTS = ("mc.token", "converter.get_job", "converter.promote", "faa.get")


@contextmanager
def _locked_state() -> Iterator[dict]:
    path = store.root() / "faults.json"
    with open(store.root() / "faults.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            state = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            state = {}
        yield state
        store.write_json(path, state)


def arm(point: str, status: int, times: int = 1) -> None:
    if point not in POINTS:
        raise ValueError(f"unknown fault point {point!r}; known: {', '.join(POINTS)}")
    with _locked_state() as state:
        state[point] = {"status": status, "times": times}


def clear() -> None:
    with _locked_state() as state:
        state.clear()


def take(point: str) -> int | None:
    """The status to fail this request with, if a fault is armed here (uses one)."""
    if not (store.root() / "faults.json").exists():
        return None
    with _locked_state() as state:
        fault = state.get(point)
        if not fault:
            return None
        fault["times"] -= 1
        if fault["times"] <= 0:
            del state[point]
        return int(fault["status"])


def faults_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return JsonResponse(envelope(Unauthenticated()), status=Unauthenticated.status)
    if not request.user.is_staff:
        return JsonResponse(envelope(PermissionDenied()), status=PermissionDenied.status)
    if request.method == "DELETE":
        clear()
        return HttpResponse(status=204)
    if request.method != "POST":
        return JsonResponse({"error": "method_not_allowed"}, status=405)
    try:
        body = json.loads(request.body)
        arm(body["point"], int(body["status"]), int(body.get("times", 1)))
    except (ValueError, KeyError, TypeError) as exc:
        return JsonResponse({"error": "bad_request", "message": str(exc)}, status=400)
    return JsonResponse({"armed": body["point"]}, status=201)
