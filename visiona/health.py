"""Health and system endpoints: ``/healthz`` for probes, ``/api/system/*`` for clients."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connection, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

import visiona
from visiona.api.scopes import PUBLIC, Scope
from visiona.errors import mark_expected_code
from visiona.registry import health_parts

logger = logging.getLogger(__name__)

_DATABASE_CHECK_NAMES = {"postgresql": "postgres"}
# Seconds one dependency may take to answer (platform spec: a short timeout each).
# Redis gets the same from its client's SOCKET_CONNECT_TIMEOUT and SOCKET_TIMEOUT.
CHECK_TIMEOUT = 2
HEALTHZ_PATH = "/healthz"


def _check_database() -> None:
    if connection.vendor != "postgresql":  # a local file: nothing to wait for
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return
    # Its own connection, not the app's (whose DATABASE_CONNECT_TIMEOUT is longer):
    # connect_timeout bounds a server that accepts and never answers,
    # statement_timeout one that answers but is stuck.
    probe = connection.copy()
    options = probe.settings_dict["OPTIONS"]
    options["connect_timeout"] = CHECK_TIMEOUT
    server_options = f"{options.get('options', '')} -c statement_timeout={CHECK_TIMEOUT * 1000}"
    options["options"] = server_options.strip()
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        probe.close()


def _check_redis() -> None:
    from django_redis import get_redis_connection

    get_redis_connection("default").ping()


def configured_checks() -> dict[str, Callable[[], None]]:
    checks = {_DATABASE_CHECK_NAMES.get(connection.vendor, connection.vendor): _check_database}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis
    return checks


# Network checks run here, side by side, so the answer never waits for more than
# ANSWER_DEADLINE in all, whatever a driver does with its own timeout (libpq applies
# connect_timeout per address: "localhost" has two). A check still running at the
# deadline is "down" and ends in the background, bounded by its driver's timeout.
# Under CHECK_TIMEOUT: the answer itself (a thread, the response) must fit in 2 s too.
ANSWER_DEADLINE = 1.5
_CHECKS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")


def run_checks() -> dict[str, str]:
    checks = configured_checks()
    futures = {
        name: _CHECKS.submit(_run_in_worker, name, check)
        for name, check in checks.items()
        if name != "sqlite"  # a local file, and its connection belongs to this thread
    }
    results = {name: _run_check(name, check) for name, check in checks.items() if name == "sqlite"}
    done, _late = wait(futures.values(), timeout=ANSWER_DEADLINE)
    for name, future in futures.items():
        if future in done:
            results[name] = future.result()
        else:
            logger.warning("health check timed out", extra={"dependency": name})
            results[name] = "down"
    return {name: results[name] for name in checks}  # in the configured order


def _run_check(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as exc:
        # An outage, not a bug: one line, and the raw driver error for operators only.
        logger.warning(
            "health check failed: %s", exc.__class__.__name__, extra={"dependency": name}
        )
        return "down"
    return "ok"


def _run_in_worker(name: str, check: Callable[[], None]) -> str:
    try:
        return _run_check(name, check)
    finally:
        connections.close_all()  # the worker thread's own connections, if any opened


class HealthzMiddleware:
    """Answers ``/healthz`` before the session and authentication middlewares run,
    so its JSON never depends on the session store, the cookies sent, or a user
    lookup in the database. (The URL pattern stays, for reverse() and the docs.)
    It reads no Host header, so ALLOWED_HOSTS does not apply to the probe.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTHZ_PATH:
            return healthz(request)
        return self.get_response(request)


@never_cache
@require_GET
def healthz(request):
    checks = run_checks()
    healthy = all(state == "ok" for state in checks.values())
    response = JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
    if not healthy:
        mark_expected_code(response, "unavailable")  # an outage's answer: a WARNING
    return response


class SystemInfoSerializer(serializers.Serializer):
    service = serializers.CharField()
    version = serializers.CharField()
    environment = serializers.CharField()


class SystemHealthSerializer(serializers.Serializer):
    """The app's own state, then the fields each app registered (visiona/registry.py)."""

    status = serializers.ChoiceField(choices=["ok", "degraded"])
    checks = serializers.DictField(child=serializers.CharField())

    def get_fields(self):
        fields = super().get_fields()
        for part in health_parts():
            fields.update(part.fields())
        return fields


class SystemInfoApi(APIView):
    """Which service this is, its version and environment. Public."""

    token_scope = PUBLIC

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses=SystemInfoSerializer)
    def get(self, request):
        return Response(
            {
                "service": "visiona-cloud",
                "version": visiona.__version__,
                "environment": settings.VISIONA_ENVIRONMENT,
            }
        )


class SystemHealthApi(APIView):
    """The app's health as a signed-in user sees it, with what each app adds
    (conversion: whether it is configured; devices: the user's devices' connection)."""

    token_scope = Scope.READ

    @extend_schema(responses=SystemHealthSerializer)
    def get(self, request):
        checks = run_checks()
        answer = {
            "status": "ok" if all(v == "ok" for v in checks.values()) else "degraded",
            "checks": checks,
        }
        for part in health_parts():
            answer.update(part.values(request.user))
        return Response(SystemHealthSerializer(answer).data)
