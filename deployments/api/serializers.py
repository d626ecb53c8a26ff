"""What the deployment APIs show: the user's <deployment>, the agent's work item."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deployments import failures
from deployments.choices import DeploymentState
from deployments.models import Deployment, DeploymentEvent
from visiona.chips import Chip


class DeploymentModelSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="model.pk")
    name = serializers.CharField(source="model.name")
    # The deployment's own copy: what the device must end up with.
    sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField()


class DeploymentDeviceSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="device.pk")
    name = serializers.CharField(source="device.name")
    chip = serializers.ChoiceField(source="device.chip", choices=Chip.choices)


class DeploymentFailureSerializer(serializers.Serializer):
    code = serializers.CharField()
    summary = serializers.CharField(help_text="What happened, in the caller's language.")
    next_step = serializers.CharField(help_text="What to do about it.")
    retry = serializers.BooleanField(help_text="Whether deploying again can help.")


class DeploymentOutputSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=DeploymentState.choices)
    model = DeploymentModelSerializer(source="*")
    device = DeploymentDeviceSerializer(source="*")
    bytes_total = serializers.IntegerField(allow_null=True)
    failure = serializers.SerializerMethodField(
        help_text="A failed deployment explained (deployments/failures.py); null otherwise."
    )

    @extend_schema_field(DeploymentFailureSerializer(allow_null=True))
    def get_failure(self, deployment: Deployment) -> dict | None:
        failure = failures.failure_of(deployment)
        return failure.to_dict() if failure else None

    class Meta:
        model = Deployment
        fields = [
            "id",
            "state",
            "model",
            "device",
            "bytes_done",
            "bytes_total",
            "error_code",
            "error_message",
            "failure",
            "created_at",
            "updated_at",
            "finished_at",
        ]
        read_only_fields = fields


class DeploymentEventSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=DeploymentState.choices)

    class Meta:
        model = DeploymentEvent
        fields = ["state", "at", "bytes_done", "error_code", "error_message"]
        read_only_fields = fields


class DeploymentDetailSerializer(DeploymentOutputSerializer):
    events = DeploymentEventSerializer(many=True, read_only=True)

    class Meta(DeploymentOutputSerializer.Meta):
        fields = [*DeploymentOutputSerializer.Meta.fields, "events"]
        read_only_fields = fields


# The agent's view of a deployment.


class WorkItemModelSerializer(DeploymentModelSerializer):
    chips = serializers.SerializerMethodField()

    def get_chips(self, deployment: Deployment) -> list[str]:
        return deployment.model.chips


class WorkItemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=DeploymentState.choices)
    model = WorkItemModelSerializer(source="*")
    download_url = serializers.SerializerMethodField(
        help_text="Root-relative: join it to the server's URL."
    )
    created_at = serializers.DateTimeField()

    def get_download_url(self, deployment: Deployment) -> str:
        return reverse("api-agent-deployment-file", args=[deployment.pk])


class WorkItemListSerializer(serializers.Serializer):
    deployments = WorkItemSerializer(many=True)


def work_items(deployments) -> list[dict]:
    return list(WorkItemSerializer(deployments, many=True).data)


class AgentDeploymentStateSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=DeploymentState.choices)
    bytes_total = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "state",
            "bytes_done",
            "bytes_total",
            "error_code",
            "error_message",
            "updated_at",
            "finished_at",
        ]
        read_only_fields = fields
