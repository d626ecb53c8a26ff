"""The JSON shapes of runs (docs/runs.md): the user's and the agent's."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from deployments.run_choices import ReferenceState, RunInputState, RunState
from deployments.run_models import Run, RunInput


class RunModelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RunDeviceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    chip = serializers.CharField()


class RunOptionsSerializer(serializers.Serializer):
    repeat = serializers.IntegerField()
    channel_order = serializers.CharField()
    scale = serializers.CharField()


class RunReferenceSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=ReferenceState.choices)
    error = serializers.CharField(allow_blank=True)


class RunOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=RunState.choices)
    model = RunModelSerializer()
    device = RunDeviceSerializer()
    options = RunOptionsSerializer(source="*")
    runtime = serializers.CharField(help_text='Where it ran, as the device says: "demo, CPU".')
    inputs_count = serializers.IntegerField()
    inputs_done = serializers.IntegerField()
    inputs_bytes = serializers.IntegerField()
    latency = serializers.JSONField(
        allow_null=True,
        help_text="count, p50_ms, p90_ms, mean_ms, min_ms, max_ms, throughput (per second).",
    )
    agreement = serializers.JSONField(
        allow_null=True,
        help_text="cosine (the lowest), cosine_mean, max_abs, mean_abs, top1, top5, outputs.",
    )
    reference = serializers.SerializerMethodField()
    error_code = serializers.CharField()
    error_message = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_reference(self, run: Run) -> dict:
        return {"state": run.reference_state, "error": run.reference_error}


class RunInputOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    state = serializers.ChoiceField(choices=RunInputState.choices)
    timings_ms = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    agreement = serializers.JSONField(allow_null=True)
    error_code = serializers.CharField()
    error_message = serializers.CharField()
    output_url = serializers.SerializerMethodField()

    def get_output_url(self, item: RunInput) -> str | None:
        if item.state != RunInputState.DONE:
            return None
        return reverse("api-runs-output", args=[item.run_id, item.index])


class RunInputListSerializer(serializers.Serializer):
    inputs = RunInputOutputSerializer(many=True)


# The agent's side -----------------------------------------------------------------------


class RunWorkInputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    done = serializers.BooleanField()


class RunWorkModelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sha256 = serializers.CharField()


class RunWorkItemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=RunState.choices)
    model = RunWorkModelSerializer()
    options = RunOptionsSerializer()
    inputs = RunWorkInputSerializer(many=True)


class RunWorkListSerializer(serializers.Serializer):
    runs = RunWorkItemSerializer(many=True)


def work_items(runs: list[Run]) -> list[dict]:
    return [
        {
            "id": str(run.pk),
            "state": run.state,
            "model": {"id": run.model_id, "name": run.model.name, "sha256": run.sha256},
            "options": {
                "repeat": run.repeat,
                "channel_order": run.channel_order,
                "scale": run.scale,
            },
            "inputs": [
                {
                    "index": item.index,
                    "name": item.name,
                    "content_type": item.content_type,
                    "size_bytes": item.size_bytes,
                    "done": item.state != RunInputState.PENDING,
                }
                for item in sorted(run.inputs.all(), key=lambda item: item.index)
            ],
        }
        for run in runs
    ]
