"""What the deployment APIs show: the user's <deployment>, the agent's work item."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from deployments import failures
from deployments.choices import DeploymentState
from deployments.models import Deployment, DeploymentEvent
from deployments.rollout_choices import DeploymentKind, RestoredFrom
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
    kind = serializers.ChoiceField(
        choices=DeploymentKind.choices,
        help_text="install, or rollback: the model the device had before, brought back.",
    )
    model = DeploymentModelSerializer(source="*")
    device = DeploymentDeviceSerializer(source="*")
    bytes_total = serializers.IntegerField(allow_null=True)
    rolls_back = serializers.UUIDField(
        source="rolls_back_id", allow_null=True, help_text="A rollback: the deployment it undoes."
    )
    restored_from = serializers.ChoiceField(
        choices=[("", ""), *RestoredFrom.choices],
        help_text="A rollback, once installed: where the agent found the model; else empty.",
    )
    rollout = serializers.UUIDField(
        source="rollout_id", allow_null=True, help_text="The rollout that made it, if any."
    )
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
            "kind",
            "model",
            "device",
            "bytes_done",
            "bytes_total",
            "error_code",
            "error_message",
            "rolls_back",
            "restored_from",
            "rollout",
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


class WorkItemRemoveSerializer(serializers.Serializer):
    model_id = serializers.IntegerField()
    sha256 = serializers.CharField()


class WorkItemRollbackSerializer(serializers.Serializer):
    remove = WorkItemRemoveSerializer(
        allow_null=True,
        help_text=(
            "The model of the deployment rolled back, to take off the device (its file "
            "goes to .previous/); null when nothing is to be taken off."
        ),
    )


class WorkItemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(
        choices=DeploymentKind.choices,
        help_text=(
            "install: put the model on the device. rollback: bring back this model, the "
            "one the device had before (its kept copy in .previous/ when its SHA-256 is "
            "the model's, else download_url), then take off rollback.remove."
        ),
    )
    state = serializers.ChoiceField(choices=DeploymentState.choices)
    model = WorkItemModelSerializer(source="*")
    download_url = serializers.SerializerMethodField(
        help_text="Root-relative: join it to the server's URL."
    )
    rollback = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_download_url(self, deployment: Deployment) -> str:
        return reverse("api-agent-deployment-file", args=[deployment.pk])

    @extend_schema_field(WorkItemRollbackSerializer(allow_null=True))
    def get_rollback(self, deployment: Deployment) -> dict | None:
        if deployment.kind != DeploymentKind.ROLLBACK:
            return None
        undone = deployment.rolls_back
        remove = None
        # Only an install of another model is taken off: a rollback undone leaves what it
        # restored (that model was on the device before it too).
        if (
            undone is not None
            and undone.kind == DeploymentKind.INSTALL
            and undone.model_id != deployment.model_id
        ):
            remove = {"model_id": undone.model_id, "sha256": undone.sha256}
        return {"remove": remove}


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
