"""Health and system endpoints: ``/healthz`` for probes, ``/api/system/*`` for clients."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

import visiona

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


def run_checks() -> dict[str, str]:
    results = {}
    for name, check in configured_checks().items():
        try:
            check()
        except Exception:
            # The raw driver error is for operators, never for the answer.
            logger.exception("health check failed", extra={"dependency": name})
            results[name] = "down"
        else:
            results[name] = "ok"
    return results


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
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


class SystemInfoSerializer(serializers.Serializer):
    service = serializers.CharField()
    version = serializers.CharField()
    environment = serializers.CharField()


class DeviceSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    online = serializers.IntegerField()
    offline = serializers.IntegerField()
    last_seen_at = serializers.DateTimeField(allow_null=True)


class SystemHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded"])
    checks = serializers.DictField(child=serializers.CharField())
    conversion_enabled = serializers.BooleanField()
    devices = DeviceSummarySerializer()
    tunnel_connected = serializers.BooleanField(
        help_text="Whether one of your devices holds a tunnel now (false if unknown)."
    )
    agent_last_seen_at = serializers.DateTimeField(
        allow_null=True, help_text="Your agents' latest heartbeat or tunnel sign of life."
    )
    agent_session_count = serializers.IntegerField(
        help_text="How many of your devices hold a tunnel now."
    )


class SystemInfoApi(APIView):
    """Which service this is, its version and environment. Public."""

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


# Apps add fields of their own to the health answer: ``name`` is the key, ``field``
# its serializer field (for the schema), ``provider(request)`` its value. Core
# knows no app; an app registers in its AppConfig.ready().
_sections: dict[str, Callable] = {}


def register_health_section(name: str, field: serializers.Field, provider: Callable) -> None:
    SystemHealthSerializer._declared_fields[name] = field
    _sections[name] = provider


class SystemHealthApi(APIView):
    """The app's health as a signed-in user sees it, with their devices' connection."""

    @extend_schema(responses=SystemHealthSerializer)
    def get(self, request):
        from devices.selectors import device_connection_summary
        from devices.tunnel import tunnel_summary

        checks = run_checks()
        return Response(
            {
                "status": "ok" if all(v == "ok" for v in checks.values()) else "degraded",
                "checks": checks,
                "conversion_enabled": bool(settings.CONVERTER_BASE_URL and settings.FAA_BASE_URL),
                "devices": device_connection_summary(user=request.user),
                # From the tunnel registry, bounded: a failing one is not fatal.
                **tunnel_summary(user=request.user),
                **{name: provider(request) for name, provider in _sections.items()},
            }
        )
