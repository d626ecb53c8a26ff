"""Admin for devices, pairing codes and device tokens.

Only hashes are stored, so only hashes can be shown. Codes and tokens are made
by the pairing flow, never here; unpair and revoke go through the services so
the admin keeps the same rules (one transaction, logs).
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from devices import services
from devices.models import Device, DeviceToken, PairingCode
from devices.presence import AGENT_STATUS_LABELS
from visiona.admin_fields import field_names


class DeviceTokenInline(admin.TabularInline):
    model = DeviceToken
    fields = ["public_id", "token_hash", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = field_names(fields)
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "serial",
        "owner",
        "chip",
        "registration_status",
        "connection",
        "last_seen_at",
        "created_at",
    ]
    list_filter = ["registration_status", "chip"]
    search_fields = ["id", "serial", "name", "owner__username", "owner__email"]
    list_select_related = ["owner"]
    fields = [
        "id",
        "owner",
        "name",
        "serial",
        "chip",
        "agent_version",
        "agent_status_label",
        "registration_status",
        "last_seen_at",
        "created_at",
        "updated_at",
        "deleted_at",
    ]
    readonly_fields = [name for name in field_names(fields) if name != "name"]
    inlines = [DeviceTokenInline]
    actions = ["unpair"]

    @admin.display(description=_("agent status"))
    def agent_status_label(self, device: Device) -> str:
        # What the agent reported, in the reader's words (as the device's page says it).
        return str(AGENT_STATUS_LABELS.get(device.agent_status, device.agent_status))

    date_hierarchy = "created_at"

    @admin.display(description=_("connection"))
    def connection(self, device: Device) -> str:
        return str(device.connection_status().label)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Unpair (soft delete plus token revocation) instead of deleting rows.
        return False

    @admin.action(description=_("Unpair the selected devices (revokes their tokens)"))
    def unpair(self, request, queryset) -> None:
        devices = list(queryset.live())
        for device in devices:
            services.device_unpair(device=device)
        count = len(devices)
        self.message_user(
            request,
            ngettext("%(count)d device unpaired.", "%(count)d devices unpaired.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(PairingCode)
class PairingCodeAdmin(admin.ModelAdmin):
    list_display = ["public_id", "owner", "created_at", "expires_at", "used_at", "device"]
    list_filter = ["used_at"]
    search_fields = ["public_id", "owner__username", "owner__email"]
    list_select_related = ["owner", "device"]
    fields = ["public_id", "code_hash", "owner", "created_at", "expires_at", "used_at", "device"]
    readonly_fields = field_names(fields)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin):
    list_display = ["public_id", "device", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["public_id", "device__serial", "device__name", "device__owner__username"]
    list_select_related = ["device"]
    fields = [
        "public_id",
        "token_hash",
        "device",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = field_names(fields)
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset) -> None:
        device_tokens = list(queryset.filter(revoked_at__isnull=True))
        for device_token in device_tokens:
            services.device_token_revoke(device_token=device_token)
        count = len(device_tokens)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )
