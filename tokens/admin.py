"""Admin for personal API tokens: listed without their secret (only a hash is
stored, and not even that is shown), never created here, revoked by any staff member
through the service (one rule, one log line)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tokens import services
from tokens.models import PersonalToken
from visiona.admin_fields import field_names
from visiona.api.scopes import scope_name


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "display_prefix",
        "scope_names",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "display_prefix", "owner__username", "owner__email"]
    list_select_related = ["owner"]
    fields = [
        "id",
        "name",
        "owner",
        "display_prefix",
        "scope_names",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = field_names(fields)
    actions = ["revoke"]

    @admin.display(description=_("scopes"))
    def scope_names(self, token: PersonalToken) -> str:
        # In the reader's words, as the API tokens page names them, not the stored list.
        return ", ".join(scope_name(scope) for scope in token.scopes)

    # Any staff member may see the list and revoke a token (a leak is an emergency);
    # nobody adds, edits or deletes one here.
    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            services.token_revoke(token=token, by=request.user)
        count = len(tokens)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )
