"""The agent's side of runs (docs/runs.md): its work, each input, each result, its state.

Device token only; another device's run is ``run_not_found``. A result's body is the
local device API's ``.npz`` streamed to storage as it arrives, never parsed here.
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.parsers import BaseParser, DataAndFiles
from rest_framework.response import Response
from visiona_client.inference_contract import (
    MAX_OUTPUT_BYTES,
    NPZ_TYPE,
    RUNTIME_HEADER,
    TIMINGS_HEADER,
    parse_timings,
)

from deployments import run_files, run_selectors, run_services
from deployments.api.run_serializers import RunWorkListSerializer, work_items
from devices.api.agent import DEVICE_TOKEN_INVALID, AgentApiView
from visiona.api import fields, parsers
from visiona.api.schema import error_response
from visiona.errors import LengthRequired, PayloadTooLarge, ValidationFailed

NOT_THIS_DEVICE = error_response("run_not_found: unknown, or another device's run.")
STOPPED = error_response("run_cancelled: stop running it; run_finished: it already ended.")
_READ = 1024 * 1024


class _Unparsed(BaseParser):
    """Claims the result's media types and reads nothing: the view streams the body."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None) -> DataAndFiles:
        return DataAndFiles({}, {})


class AgentRunListApi(AgentApiView):
    """The device's unfinished runs, oldest first (at most 20)."""

    @extend_schema(
        operation_id="agent_runs_list",
        responses={200: RunWorkListSerializer, 401: DEVICE_TOKEN_INVALID},
    )
    def get(self, request):
        runs = run_selectors.run_work_for_device(device=request.auth.device)
        return Response({"runs": work_items(runs)})


class AgentRunInputApi(AgentApiView):
    """One input's file, streamed."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="agent_runs_input",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            401: DEVICE_TOKEN_INVALID,
            404: NOT_THIS_DEVICE,
        },
    )
    def get(self, request, run_id: uuid.UUID, index: int):
        from django.http import StreamingHttpResponse

        run = run_selectors.run_get_for_device(device=request.auth.device, run_id=run_id)
        item = run_selectors.run_input_get(run=run, index=index)
        response = StreamingHttpResponse(
            run_files.chunks(item.file), content_type=item.content_type
        )
        response["Content-Length"] = str(item.size_bytes)
        return response


class _InputErrorSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64, help_text="The local device API's code.")
    message = serializers.CharField(allow_blank=True, max_length=500)


@extend_schema_serializer(component_name="AgentRunInputError")
class AgentRunInputErrorSerializer(serializers.Serializer):
    error = _InputErrorSerializer()


TIMINGS = OpenApiParameter(
    TIMINGS_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="With an .npz: milliseconds, one per repetition, comma-separated.",
    pattern=r"^[0-9]{1,6}(\.[0-9]{1,6})?(,[0-9]{1,6}(\.[0-9]{1,6})?){0,99}$",
)


class AgentRunResultApi(AgentApiView):
    """One input's outputs (``application/x-npz`` with the timings header) or the error
    the local device API gave for it (``application/json`` ``{"error": {code, message}}``)."""

    parser_classes = [_Unparsed]  # type: ignore[list-item]  # DRF's stub wants JSONParser

    @extend_schema(
        operation_id="agent_runs_result",
        parameters=[TIMINGS],
        request={NPZ_TYPE: OpenApiTypes.BINARY, "application/json": AgentRunInputErrorSerializer},
        responses={
            200: OpenApiResponse(description='{"index", "state"}'),
            400: error_response("validation_failed: no timings, or a bad error body."),
            401: DEVICE_TOKEN_INVALID,
            404: NOT_THIS_DEVICE,
            409: STOPPED,
            411: error_response("length_required"),
            413: error_response("payload_too_large: outputs over the contract's limit."),
        },
    )
    def post(self, request, run_id: uuid.UUID, index: int):
        device = request.auth.device
        # Another device's run, or no such input: not found, before the body is read.
        run_selectors.run_input_get(
            run=run_selectors.run_get_for_device(device=device, run_id=run_id), index=index
        )
        raw = request._request
        length = raw.META.get("CONTENT_LENGTH") or ""
        if not length.isdigit():
            raise LengthRequired()
        if int(length) > MAX_OUTPUT_BYTES:
            raise PayloadTooLarge(details={"limit_bytes": MAX_OUTPUT_BYTES})
        media = (raw.META.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if media == "application/json":
            code, message = _error_body(raw.read(64 * 1024))
            item = run_services.run_record_input_error(
                device=device, run_id=run_id, index=index, code=code, message=message
            )
        else:
            try:
                timings = parse_timings(raw.headers.get(TIMINGS_HEADER, ""))
            except ValueError:
                raise ValidationFailed(details={"header": TIMINGS_HEADER}) from None
            item = run_services.run_record_result(
                device=device,
                run_id=run_id,
                index=index,
                chunks=iter(lambda: raw.read(_READ), b""),
                timings_ms=timings,
                runtime=raw.headers.get(RUNTIME_HEADER, ""),
            )
        return Response({"index": item.index, "state": item.state})


def _error_body(data: bytes) -> tuple[str, str]:
    """The agent's ``{"error": {"code", "message"}}``, read strictly: a lone surrogate,
    NaN or Infinity is refused like any other bad body (it could not be stored or shown),
    and so is a NUL, which PostgreSQL's text refuses. Cut to the columns rather than
    refused when long: the agent passes on what the device said."""
    refused = ValidationFailed(details={"body": 'send {"error": {"code", "message"}}'})
    try:
        error = parsers.loads(data)["error"]
        code, message = str(error["code"])[:64], str(error.get("message") or "")[:500]
    except (ValueError, KeyError, TypeError):
        raise refused from None
    if "\x00" in code or "\x00" in message:
        raise refused
    return code or "input_failed", message


class AgentRunStateApi(AgentApiView):
    """The agent reports the run's state: running, completed, or failed with a code."""

    @extend_schema_serializer(component_name="AgentRunStateInput")
    class InputSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=run_services.REPORTABLE)
        error_code = fields.RegexField(r"^[a-z][a-z0-9_]{0,63}$", required=False)
        error_message = fields.CharField(max_length=500, required=False, allow_blank=True)

    @extend_schema(
        operation_id="agent_runs_state",
        request=InputSerializer,
        responses={
            200: OpenApiResponse(description='{"id", "state"}'),
            400: error_response("validation_failed"),
            401: DEVICE_TOKEN_INVALID,
            404: NOT_THIS_DEVICE,
            409: STOPPED,
        },
    )
    def post(self, request, run_id: uuid.UUID):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        run = run_services.run_report(
            device=request.auth.device,
            run_id=run_id,
            state=values["state"],
            error_code=values.get("error_code", ""),
            message=values.get("error_message", ""),
        )
        return Response({"id": str(run.pk), "state": run.state})
