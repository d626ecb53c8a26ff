"""Admin for deployments: read-only, with a cancel action that goes through the
service (one transaction, the push, the log), as the user's cancel does."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from deployments import services
from deployments.errors import DeploymentFinished
from deployments.models import (
    Deployment,
    DeploymentEvent,
    DeviceGroup,
    DevicePin,
    GroupPin,
    Rollout,
    RolloutPhase,
    Run,
)
from visiona.admin_fields import field_names


class DeploymentEventInline(admin.TabularInline):
    model = DeploymentEvent
    fields = ["state", "at", "bytes_done", "error_code", "error_message"]
    readonly_fields = field_names(fields)
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    """Read-only: deployments change only through the services (the agent, the user,
    or the cancel action here)."""

    list_display = ["id", "model", "device", "owner", "state", "kind", "progress", "created_at"]
    list_filter = ["state", "kind", "device__chip", "created_at"]
    search_fields = ["id", "device__name", "device__serial", "model__name", "sha256"]
    list_select_related = ["model", "device", "device__owner"]
    fields = [
        "id",
        "device",
        "model",
        "created_by",
        "state",
        "sha256",
        "size_bytes",
        "bytes_done",
        "bytes_total",
        "error_code",
        "error_message",
        "kind",
        "previous",
        "rolls_back",
        "restored_from",
        "rollout",
        "created_at",
        "updated_at",
        "finished_at",
    ]
    readonly_fields = field_names(fields)
    inlines = [DeploymentEventInline]
    actions = ["cancel"]
    date_hierarchy = "created_at"

    @admin.display(description=_("owner"))
    def owner(self, deployment: Deployment):
        return deployment.device.owner

    @admin.display(description=_("progress"))
    def progress(self, deployment: Deployment) -> str:
        total = deployment.bytes_total or deployment.size_bytes
        return f"{deployment.bytes_done * 100 // total}%" if total else "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("deployments.change_deployment")

    @admin.action(description=_("Cancel the selected deployments"), permissions=["cancel"])
    def cancel(self, request, queryset) -> None:
        count = 0
        for deployment in queryset.select_related("device__owner"):
            try:
                services.deployment_cancel(
                    user=deployment.device.owner, deployment_id=deployment.pk
                )
            except DeploymentFinished:
                continue
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d deployment cancelled.", "%(count)d deployments cancelled.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    """Read-only: runs change only through the services (the user, the agent, the worker)."""

    list_display = ["id", "model", "device", "owner", "state", "reference_state", "created_at"]
    list_filter = ["state", "reference_state", "device__chip", "created_at"]
    search_fields = ["id", "device__name", "device__serial", "model__name"]
    list_select_related = ["model", "device", "owner"]
    readonly_fields = [field.name for field in Run._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# Groups, pins and rollouts: read only (they change through their services, from the
# pages, the API and the worker; docs/deployments.md).


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DeviceGroup)
class DeviceGroupAdmin(_ReadOnly):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    fields = ["id", "owner", "name", "devices", "created_at", "updated_at"]
    readonly_fields = field_names(fields)


@admin.register(DevicePin)
class DevicePinAdmin(_ReadOnly):
    list_display = ["device", "reason", "pinned_by", "pinned_at"]
    list_select_related = ["device", "pinned_by"]
    fields = ["device", "reason", "pinned_by", "pinned_at"]
    readonly_fields = field_names(fields)


@admin.register(GroupPin)
class GroupPinAdmin(_ReadOnly):
    list_display = ["group", "reason", "pinned_by", "pinned_at"]
    list_select_related = ["group", "pinned_by"]
    fields = ["group", "reason", "pinned_by", "pinned_at"]
    readonly_fields = field_names(fields)


class RolloutPhaseInline(admin.TabularInline):
    model = RolloutPhase
    fields = ["number", "size", "state", "started_at", "deadline_at", "finished_at"]
    readonly_fields = field_names(fields)
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Rollout)
class RolloutAdmin(_ReadOnly):
    list_display = ["id", "model", "group_name", "owner", "state", "created_at"]
    list_filter = ["state", "created_at"]
    search_fields = ["id", "group_name", "model__name", "owner__username"]
    list_select_related = ["model", "owner"]
    fields = [
        "id",
        "owner",
        "group",
        "group_name",
        "model",
        "state",
        "max_failure_percent",
        "wait_seconds",
        "pause_code",
        "pause_details",
        "next_look_at",
        "created_at",
        "updated_at",
        "finished_at",
    ]
    readonly_fields = field_names(fields)
    inlines = [RolloutPhaseInline]
