"""The signed-in user's rollouts: a saved model to a group in phases (docs/deployments.md).

Owner only: another user's rollout, group or model is "not found". Writes need the
``deploy`` scope, reads ``read``. Nothing here waits for a device: the answer is the
rollout as it is; the background worker moves it on.
"""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from deployments import rollout_actions, rollout_selectors, rollout_services
from deployments.api.fleet_serializers import (
    RolloutDetailSerializer,
    RolloutSerializer,
    rollout_data,
)
from deployments.rollout_choices import RolloutState
from deployments.rollout_models import (
    DEFAULT_MAX_FAILURE_PERCENT,
    DEFAULT_PHASES,
    DEFAULT_WAIT_SECONDS,
    SMOKE_EXPECT_MAX_CHARS,
)
from deployments.rollout_phases import MAX_PHASES
from visiona.api import fields
from visiona.api.parsers import JSONParser
from visiona.api.schema import error_response
from visiona.api.scopes import Scope

NOT_FOUND = error_response("rollout_not_found: unknown, or another user's rollout.")
# A phase: N devices (1 to 99999), N% (1 to 100) or rest (the last phase only).
PHASE_PATTERN = r"^(?:[1-9][0-9]{0,4}|(?:100|[1-9][0-9]?)%|rest)$"
MIN_WAIT_SECONDS = 10
MAX_WAIT_SECONDS = 7 * 24 * 3600


class RolloutPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class RolloutPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RolloutSerializer(many=True)


def _detail(user, rollout_id) -> dict:
    rollout = rollout_selectors.rollout_get_for_user(user=user, rollout_id=rollout_id)
    return RolloutDetailSerializer(rollout_data(rollout)).data


class RolloutListApi(APIView):
    """The user's rollouts, newest first (GET); a new rollout (POST)."""

    token_scope = {"get": Scope.READ, "post": Scope.DEPLOY}
    parser_classes = [JSONParser]

    class FilterSerializer(fields.QuerySerializer):
        group = serializers.UUIDField(required=False)
        state = serializers.ChoiceField(
            choices=RolloutState.choices, required=False, allow_blank=True
        )
        page = serializers.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

    @extend_schema_serializer(component_name="RolloutCreateInput")
    class InputSerializer(serializers.Serializer):
        model_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
        group_id = serializers.UUIDField()
        phases = serializers.ListField(
            child=fields.RegexField(PHASE_PATTERN, max_length=6),
            required=False,
            min_length=1,
            max_length=MAX_PHASES,
            help_text=(
                'Each "N" devices, "N%" of those taking part, or "rest"; the last phase '
                f"always takes the rest. Default: {', '.join(DEFAULT_PHASES)}."
            ),
        )
        max_failure_percent = serializers.IntegerField(
            min_value=0,
            max_value=100,
            required=False,
            help_text=(
                "A phase with a larger share of failed devices pauses the rollout "
                f"(default {DEFAULT_MAX_FAILURE_PERCENT})."
            ),
        )
        wait_seconds = serializers.IntegerField(
            min_value=MIN_WAIT_SECONDS,
            max_value=MAX_WAIT_SECONDS,
            required=False,
            help_text=(
                "How long a phase waits for offline devices before going on without them "
                f"(default {DEFAULT_WAIT_SECONDS})."
            ),
        )
        smoke_run_id = serializers.UUIDField(
            required=False,
            help_text=(
                "A completed run of this model: each device runs the model on its inputs, "
                "with its options, before its phase passes (the health gate's smoke run)."
            ),
        )
        smoke_min_cosine = serializers.FloatField(
            required=False,
            min_value=0.0,
            max_value=1.0,
            help_text=(
                "With smoke_run_id, for a model that keeps its original ONNX: each smoke "
                "run's lowest cosine must be at least this. The older form of "
                'smoke_expect "cosine>=X".'
            ),
        )
        smoke_expect = fields.CharField(
            required=False,
            allow_blank=True,
            max_length=SMOKE_EXPECT_MAX_CHARS,
            help_text=(
                "With smoke_run_id: what each smoke run must reach, as a run's expectations, "
                'e.g. "cosine>=0.99,top1>=0.98,p90_ms<=20" (FIGURE>=NUMBER or <=, >, <; '
                "figures: cosine, cosine_mean, max_abs, mean_abs, top1, top5, p50_ms, "
                "p90_ms, throughput). Agreement figures need a model that keeps its "
                "original ONNX."
            ),
        )

    @extend_schema(
        operation_id="rollouts_list",
        parameters=[FilterSerializer],
        responses={
            200: RolloutPageSerializer,
            400: error_response("validation_failed: a filter is not valid."),
            404: error_response("not_found: the page is past the last one."),
        },
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rollouts = rollout_selectors.rollout_list_for_user(
            user=request.user,
            group_id=filters.validated_data.get("group"),
            state=filters.validated_data.get("state"),
        )
        paginator = RolloutPagination()
        page = paginator.paginate_queryset(rollouts, request, view=self)
        rows = [rollout_data(rollout) for rollout in page or []]
        return paginator.get_paginated_response(RolloutSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="rollouts_create",
        request=InputSerializer,
        responses={
            201: RolloutDetailSerializer,
            400: error_response(
                "validation_failed (phases, smoke_expect); group_empty; no_device_of_chip "
                "(details: devices, model_chips); no_eligible_devices (every device that "
                "could is pinned); smoke_run_invalid. Nothing is started."
            ),
            404: error_response(
                "model_not_found, group_not_found, run_not_found: unknown or not yours."
            ),
            409: error_response(
                "rollout_in_progress: the group's rollout is under way (details: rollout_id)."
            ),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        rollout = rollout_services.rollout_create(
            user=request.user,
            model_id=values["model_id"],
            group_id=values["group_id"],
            phases=values.get("phases", DEFAULT_PHASES),
            max_failure_percent=values.get("max_failure_percent", DEFAULT_MAX_FAILURE_PERCENT),
            wait_seconds=values.get("wait_seconds", DEFAULT_WAIT_SECONDS),
            smoke_run_id=values.get("smoke_run_id"),
            smoke_min_cosine=values.get("smoke_min_cosine"),
            smoke_expect=values.get("smoke_expect", ""),
        )
        return Response(_detail(request.user, rollout.pk), status=status.HTTP_201_CREATED)


class RolloutDetailApi(APIView):
    """One rollout: its phases, each device's state and why, the pause's reason."""

    token_scope = Scope.READ

    @extend_schema(
        operation_id="rollouts_retrieve",
        responses={200: RolloutDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request, rollout_id: uuid.UUID):
        return Response(_detail(request.user, rollout_id))


class _RolloutActionApi(APIView):
    """One action on a rollout; the answer is the rollout after it."""

    token_scope = Scope.DEPLOY

    def act(self, request, rollout_id: uuid.UUID, action) -> Response:
        rollout = action(user=request.user, rollout_id=rollout_id)
        return Response(_detail(request.user, rollout.pk))


def _responses(conflicts: str) -> dict:
    return {200: RolloutDetailSerializer, 404: NOT_FOUND, 409: error_response(conflicts)}


class RolloutPauseApi(_RolloutActionApi):
    """Pause: no further phase starts; what was sent goes on."""

    @extend_schema(
        operation_id="rollouts_pause",
        request=None,
        responses=_responses("rollout_state_conflict: only a running rollout can be paused."),
    )
    def post(self, request, rollout_id: uuid.UUID):
        return self.act(request, rollout_id, rollout_actions.rollout_pause)


class RolloutResumeApi(_RolloutActionApi):
    """Resume: a failed phase is accepted as it is and the next one starts."""

    @extend_schema(
        operation_id="rollouts_resume",
        request=None,
        responses=_responses("rollout_state_conflict: only a paused rollout can be resumed."),
    )
    def post(self, request, rollout_id: uuid.UUID):
        return self.act(request, rollout_id, rollout_actions.rollout_resume)


class RolloutRetryApi(_RolloutActionApi):
    """Send the model again to the devices that failed; their phase waits for them again."""

    @extend_schema(
        operation_id="rollouts_retry",
        request=None,
        responses=_responses(
            "nothing_to_retry; rollout_state_conflict: rolled back (or rolling back)."
        ),
    )
    def post(self, request, rollout_id: uuid.UUID):
        return self.act(request, rollout_id, rollout_actions.rollout_retry)


class RolloutRollbackApi(_RolloutActionApi):
    """Roll back: each device the rollout installed on gets back the model it had
    before; what was not installed yet is cancelled."""

    @extend_schema(
        operation_id="rollouts_rollback",
        request=None,
        responses=_responses("rollout_state_conflict: rolled back already (or rolling back)."),
    )
    def post(self, request, rollout_id: uuid.UUID):
        return self.act(request, rollout_id, rollout_actions.rollout_rollback)
