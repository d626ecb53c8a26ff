"""Relayed requests: the signed-in user reaches their device's local API through its tunnel.

``ANY /api/devices/<id>/agent/<path>`` and ``GET /api/system/deps``. The request
body is streamed to the device unparsed, the answer streamed back; the answer is
served from visionA's origin, so it may not act there (``_served_safely``).
"""

from __future__ import annotations

import uuid

from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, DataAndFiles
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from devices import relay_client, tunnel
from visiona.api.schema import error_response
from visiona.api.scopes import Scope
from visiona.errors import LengthRequired, NotFound, ValidationFailed, mark_expected_code

# What a relayed answer may not do on our origin: run script or plugins (sandbox,
# and nothing may load), be sniffed into another type, or be kept by a cache.
ANSWER_SECURITY_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"
# When the agent names no type: bytes, never HTML.
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# The agent answers paths under this segment itself (the deployment push).
CONTROL_SEGMENT = "_visiona"

DEVICE_ID = OpenApiParameter("device_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
PATH = OpenApiParameter(
    "path",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The path on the device's local API, e.g. api/system/deps.",
)
RELAYED = OpenApiResponse(
    OpenApiTypes.BINARY,
    description=(
        "The device's own answer: its status, headers and body, whatever they are, "
        "streamed. Never sets cookies here; served with Content-Security-Policy: sandbox, "
        "X-Content-Type-Options: nosniff and Cache-Control: no-store."
    ),
)
RELAY_ERRORS = {
    400: error_response(
        "malformed_request: the path cannot be relayed; request_interrupted: the body "
        "stopped before its end."
    ),
    404: error_response(
        "device_not_found: unknown, unpaired or another user's device; not_found: a path "
        "under _visiona/ (the agent's own, never relayed)."
    ),
    411: error_response("length_required: a body must state its Content-Length."),
    413: error_response("payload_too_large: the body is over the relay's limit."),
    502: error_response("device_unreachable: the tunnel was lost or the local API is down."),
    503: error_response(
        "device_offline: no tunnel to the device (answered at once); "
        "tunnel_unavailable: the tunnel registry is down."
    ),
    504: error_response("device_timeout: the device did not answer in time."),
}


class UnparsedBodyParser(BaseParser):
    """Claims every media type and reads nothing: the body is streamed to the device.

    DRF's CSRF check reads ``request.POST``; with the default parsers that would
    read the whole body first. With this one it sees an empty form and checks the
    X-CSRFToken header instead, as for any session-authenticated write.
    """

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None) -> DataAndFiles:
        return DataAndFiles({}, {})


class AnyAcceptNegotiation(BaseContentNegotiation):
    """The client's Accept is for the device; our own answers (errors) are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class RelayedResponse(StreamingHttpResponse):
    """A device's answer, streamed through the tunnel."""


class _RelayApi(APIView):
    parser_classes = [UnparsedBodyParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AnyAcceptNegotiation

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, RelayedResponse):
            return response  # the device's answer: no Allow or Vary of ours on it
        return super().finalize_response(request, response, *args, **kwargs)


def _served_safely(answer: relay_client.RelayedAnswer) -> RelayedResponse:
    response = RelayedResponse(answer, status=answer.status)
    # Whatever the device answered is its outcome, not our error (logged at INFO/WARNING).
    mark_expected_code(response, "device_answer")
    del response["Content-Type"]  # Django's default is HTML
    for name, value in answer.headers:
        response[name] = value
    if "Content-Type" not in response:
        response["Content-Type"] = DEFAULT_CONTENT_TYPE
    response["Content-Security-Policy"] = ANSWER_SECURITY_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _content_length(request) -> int | None:
    """The body's length; 411 for a body without one (WSGI would hand us nothing)."""
    raw = request.META.get("CONTENT_LENGTH") or ""
    if not raw:
        if request.META.get("HTTP_TRANSFER_ENCODING"):
            raise LengthRequired()
        return None
    try:
        value = int(raw)
    except ValueError:
        raise LengthRequired() from None
    if value < 0:
        raise LengthRequired()
    return value


def _relay(request, *, device_id, path: str, query: str):
    django_request = request._request
    answer = tunnel.device_relay(
        user=request.user,
        device_id=device_id,
        method=request.method,
        path=path,
        query=query,
        headers=django_request.headers,
        body=django_request,
        content_length=_content_length(django_request),
        request_id=_request_id(request),
    )
    return _served_safely(answer)


def is_agent_control_path(path: str) -> bool:
    """The agent's own paths (``/_visiona/...``, docs/deployments.md): visionA's, not the user's.

    Leading slashes and case do not matter: ``//_visiona/`` would reach the agent too.
    """
    return path.lstrip("/").lower().split("/", 1)[0] == CONTROL_SEGMENT


def _request_id(request) -> str:
    # Set by RequestIdMiddleware; forwarded so the agent's logs and ours meet.
    return getattr(request._request, "request_id", "") or uuid.uuid4().hex


def _relay_schema(method: str, **overrides):
    return extend_schema(
        operation_id=f"devices_agent_{method}",
        parameters=[DEVICE_ID, PATH],
        request=None if method in {"get", "head", "options"} else {"*/*": OpenApiTypes.BINARY},
        responses={(200, "*/*"): RELAYED, **RELAY_ERRORS},
        **overrides,
    )


class DeviceAgentApi(_RelayApi):
    """Any request to the device's local API, relayed through its tunnel (owner only).

    GET, POST, PUT, PATCH and DELETE are documented; HEAD and OPTIONS are relayed too.
    The answer's status is the device's, whatever it is.
    """

    token_scope = Scope.DEPLOY

    def _relay(self, request, device_id: uuid.UUID, path: str):
        if is_agent_control_path(path):
            raise NotFound()
        return _relay(request, device_id=device_id, path=path, query=request.META["QUERY_STRING"])

    @_relay_schema("get")
    def get(self, request, device_id: uuid.UUID, path: str):
        return self._relay(request, device_id, path)

    @_relay_schema("post")
    def post(self, request, device_id: uuid.UUID, path: str):
        return self._relay(request, device_id, path)

    @_relay_schema("put")
    def put(self, request, device_id: uuid.UUID, path: str):
        return self._relay(request, device_id, path)

    @_relay_schema("patch")
    def patch(self, request, device_id: uuid.UUID, path: str):
        return self._relay(request, device_id, path)

    @_relay_schema("delete")
    def delete(self, request, device_id: uuid.UUID, path: str):
        return self._relay(request, device_id, path)

    @_relay_schema("head")
    def head(self, request, device_id: uuid.UUID, path: str):
        return self._relay(request, device_id, path)

    @_relay_schema("options")
    def options(self, request, device_id: uuid.UUID, path: str):
        return self._relay(request, device_id, path)


class SystemDepsApi(_RelayApi):
    """The connected device's dependencies (its local API's ``/api/system/deps``)."""

    token_scope = Scope.READ

    @extend_schema(
        operation_id="system_deps",
        parameters=[
            OpenApiParameter(
                "device",
                OpenApiTypes.UUID,
                OpenApiParameter.QUERY,
                description="Which of your devices; default: the most recently connected.",
            )
        ],
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description=(
                    "The device's answer as it gave it (the demo agent: JSON with driver, "
                    "firmware and toolchain versions and the attached dongles)."
                ),
            ),
            400: error_response("validation_failed: device is not a device id."),
            **{code: RELAY_ERRORS[code] for code in (404, 502, 503, 504)},
        },
    )
    def get(self, request):
        query = request.query_params.copy()
        device_id = query.pop("device", [None])[-1]  # ours, not the device's
        if device_id is not None:
            try:
                device_id = uuid.UUID(device_id)
            except ValueError:
                raise ValidationFailed.for_fields(
                    [{"field": "device", "message": str(_("This is not a device id."))}]
                ) from None
        answer = tunnel.system_deps_relay(
            user=request.user,
            device_id=device_id,
            query=query.urlencode(),
            headers=request._request.headers,
            request_id=_request_id(request),
        )
        return _served_safely(answer)
