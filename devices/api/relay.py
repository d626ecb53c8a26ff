"""Relayed requests: the signed-in user reaches their device's local API through its tunnel.

``ANY /api/devices/<id>/agent/<path>`` and ``GET /api/system/deps``. Django
authorizes (owner, token scope per method, path rules, the caps' slot), then:

- behind an nginx that says it can (``X-Visiona-Offload: relay``, set by
  deploy/nginx whatever the client sent), hands the transfer to nginx
  (``RelayHandoff``: ``X-Accel-Redirect`` to the internal location, which fetches
  the answer from the relay node with a signed grant; devices/relay_grant.py): no
  byte of it passes through this process;
- otherwise streams the request body to the device unparsed and the answer back.

The answer is served from visionA's origin, so it may not act there: one set of
rules for both paths (devices/relay_answer.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, DataAndFiles
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from devices import relay_answer, relay_client, relay_grant, tunnel
from devices.errors import RelayBodyTooLarge
from visiona.api.schema import error_response
from visiona.api.scopes import Scope
from visiona.errors import LengthRequired, NotFound, ValidationFailed, mark_expected_code
from visiona.middleware import HandoffResponse

logger = logging.getLogger("devices.relay")

# nginx sends the relayed paths to Django without their body (it keeps it for the
# relay node) and states its length here (deploy/nginx/visiona/relay-authorize.conf).
BODY_LENGTH_META = "HTTP_X_RELAY_BODY_LENGTH"
# What the nginx in front can take over (deploy/nginx/visiona/proxy.conf).
OFFLOAD_HEADER = "X-Visiona-Offload"


def nginx_relays(request) -> bool:
    """The request came through an nginx with the relay's internal location."""
    return "relay" in request.headers.get(OFFLOAD_HEADER, "").split()


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
    429: error_response(
        "too_many_device_requests: over the cap on relayed exchanges open at once, for "
        "you (details.cap: user) or this device (device); Retry-After says when to try."
    ),
    404: error_response(
        "device_not_found: unknown, unpaired or another user's device; not_found: a path "
        "under _visiona/ (the agent's own, never relayed)."
    ),
    411: error_response("length_required: a body must state its Content-Length."),
    413: error_response("payload_too_large: the body is over the relay's limit."),
    502: error_response(
        "device_unreachable: the tunnel was lost or the local API is down; "
        "device_bad_answer: the device's answer was not valid HTTP."
    ),
    503: error_response(
        "device_offline: no tunnel to the device (answered at once); "
        "tunnel_unavailable: the tunnel registry is down."
    ),
    504: error_response(
        "device_timeout: the device did not start its answer in time, or went silent."
    ),
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
    """A device's answer, streamed through the tunnel.

    Its status is the device's: a 5xx of the device is not an error of ours, so
    Django's request logger does not log it at ERROR (the relay call is at INFO).
    """

    _has_been_logged = True


class _Flushed:
    """The answer's body, after an empty first piece: the WSGI server sends the
    status and headers at once, before the device's first byte (a slow device's
    user sees the answer start; a deadline after it cuts the body, never turns the
    answer into the server's bare 500)."""

    def __init__(self, answer: relay_client.RelayedAnswer) -> None:
        self._answer = answer

    def __iter__(self) -> Iterator[bytes]:
        yield b""
        yield from self._answer

    def close(self) -> None:
        self._answer.close()


class RelayHandoff(HandoffResponse):
    """nginx fetches the answer from the relay node itself (``nginx_relays``).

    The grant is signed last (``seal``), with the headers every middleware added:
    the node gives the user the same headers Django would have.
    """

    _has_been_logged = True

    def __init__(
        self, *, route: tunnel.RelayRoute, method: str, target: str, request_id: str, allow: str
    ) -> None:
        super().__init__(status=200)
        del self["Content-Type"]  # nginx takes the node's
        self["X-Accel-Redirect"] = relay_grant.ACCEL_LOCATION
        self[relay_grant.NODE_HEADER] = urlsplit(route.registration.node_url).netloc
        self[relay_grant.TARGET_HEADER] = target
        self._grant = relay_grant.Grant(
            device_id=route.device_id,
            user_id=route.slot.user_id,
            slot_id=route.slot.id,
            method=method,
            target=target,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            request_id=request_id,
            error_headers=[("Allow", allow)],
        )

    def seal(self) -> None:
        passed_on = [
            (name, value)
            for name, value in self.headers.items()
            if name.lower() not in _NOT_PASSED_ON and not name.lower().startswith("x-relay-")
        ]
        grant = relay_grant.Grant(**{**self._grant.__dict__, "site_headers": passed_on})
        self[relay_grant.GRANT_HEADER] = relay_grant.grant_sign(grant)


# Headers of the handoff that are nginx's business, not the user's (nginx passes
# Django's Set-Cookie on itself).
_NOT_PASSED_ON = frozenset({"content-type", "content-length", "x-accel-redirect"})


class _RelayApi(APIView):
    parser_classes = [UnparsedBodyParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AnyAcceptNegotiation

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, RelayedResponse | RelayHandoff):
            return response  # the device's answer: no Allow or Vary of ours on it
        return super().finalize_response(request, response, *args, **kwargs)


def _served_safely(answer: relay_client.RelayedAnswer) -> RelayedResponse:
    response = RelayedResponse(_Flushed(answer), status=answer.status)
    # Whatever the device answered is its outcome, not our error (logged at INFO/WARNING).
    mark_expected_code(response, "device_answer")
    del response["Content-Type"]  # Django's default is HTML
    for name, value in relay_answer.with_policy(answer.headers):
        response[name] = value
    return response


def _content_length(request) -> int | None:
    """The body's length; 411 for a body without one (WSGI would hand us nothing)."""
    raw = request.META.get("CONTENT_LENGTH") or ""
    if nginx_relays(request) and BODY_LENGTH_META in request.META:
        raw = request.META[BODY_LENGTH_META]  # nginx kept the body for the node
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


def _relay(request, *, route_for: Callable[[], tunnel.RelayRoute], path: str, query: str):
    """Check the request, take a route and a slot (``route_for``), then hand the
    exchange to nginx or stream it here. Refusals come before the slot is taken."""
    django_request = request._request
    relay_client.relayable_path_check(path)
    has_body = request.method not in {"GET", "HEAD"}
    content_length = _content_length(django_request) if has_body else None
    if content_length and content_length > settings.RELAY_MAX_BODY_BYTES:
        raise RelayBodyTooLarge()
    route = route_for()
    request_id = _request_id(request)
    if nginx_relays(django_request):
        return RelayHandoff(
            route=route,
            method=request.method,
            target=relay_client.relay_target(device_id=route.device_id, path=path, query=query),
            request_id=request_id,
            allow=", ".join(request.parser_context["view"].allowed_methods),
        )
    answer = tunnel.device_relay(
        route=route,
        method=request.method,
        path=path,
        query=query,
        headers=django_request.headers,
        body=django_request if has_body else None,
        content_length=content_length,
        request_id=request_id,
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
    The answer's status is the device's, whatever it is. A personal token needs
    ``read`` for GET and HEAD, ``deploy`` for every other method (OPTIONS included:
    it reaches the device like any request).
    """

    token_scope = {
        "get": Scope.READ,
        "post": Scope.DEPLOY,
        "put": Scope.DEPLOY,
        "patch": Scope.DEPLOY,
        "delete": Scope.DEPLOY,
        "options": Scope.DEPLOY,
    }

    def _relay(self, request, device_id: uuid.UUID, path: str):
        if is_agent_control_path(path):
            raise NotFound()
        return _relay(
            request,
            route_for=lambda: tunnel.device_relay_route(user=request.user, device_id=device_id),
            path=path,
            query=request.META["QUERY_STRING"],
        )

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
            **{code: RELAY_ERRORS[code] for code in (404, 429, 502, 503, 504)},
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
        return _relay(
            request,
            route_for=lambda: tunnel.system_deps_route(user=request.user, device_id=device_id),
            path=tunnel.DEPS_PATH,
            query=query.urlencode(),
        )
