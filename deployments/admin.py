"""Admin for deployments: read-only, with a cancel action that goes through the
service (one transaction, the push, the log), as the user's cancel does."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from deployments import services
from deployments.errors import DeploymentFinished
from deployments.models import Deployment, DeploymentEvent, Run
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

    list_display = ["id", "model", "device", "owner", "state", "progress", "created_at"]
    list_filter = ["state", "device__chip", "created_at"]
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
