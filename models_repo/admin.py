from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from models_repo import services
from models_repo.errors import ModelNameTaken
from models_repo.models import ModelPlatform, NefModel


class ModelPlatformInline(admin.TabularInline):
    model = ModelPlatform
    extra = 0


class DeletedFilter(admin.SimpleListFilter):
    title = _("deleted")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", _("Live")), ("yes", _("Deleted"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(NefModel)
class NefModelAdmin(admin.ModelAdmin):
    """Every user's models, deleted ones included (the default manager hides none)."""

    list_display = [
        "name",
        "owner",
        "source",
        "chip_list",
        "size_bytes",
        "created_at",
        "deleted_at",
    ]
    list_filter = ["source", "platforms__chip", DeletedFilter]
    search_fields = ["name", "owner__username", "owner__email", "sha256", "source_reference"]
    list_select_related = ["owner"]
    readonly_fields = [
        "file",
        "size_bytes",
        "sha256",
        "faa_object_key",
        "source_reference",
        "source_label",
        "created_at",
        "updated_at",
        "deleted_at",
    ]
    raw_id_fields = ["owner"]
    inlines = [ModelPlatformInline]
    actions = ["soft_delete", "restore"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("platforms")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting is soft everywhere (the actions above): a hard delete here
        # would drop the record and leave its stored file behind.
        return False

    @admin.display(description=_("chips"))
    def chip_list(self, model: NefModel) -> str:
        return ", ".join(model.chips)

    @admin.action(description=_("Soft delete the selected models"))
    def soft_delete(self, request, queryset: QuerySet[NefModel]) -> None:
        count = 0
        for model in queryset.filter(deleted_at__isnull=True):
            services.model_delete(model=model)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d model deleted.", "%(count)d models deleted.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Restore the selected models"))
    def restore(self, request, queryset: QuerySet[NefModel]) -> None:
        restored, failed = 0, 0
        for model in queryset.filter(deleted_at__isnull=False):
            try:
                services.model_restore(model=model)
            except ModelNameTaken:
                failed += 1
            else:
                restored += 1
        self.message_user(
            request,
            ngettext("%(count)d model restored.", "%(count)d models restored.", restored)
            % {"count": restored},
            messages.SUCCESS,
        )
        if failed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d model could not be restored; try again.",
                    "%(count)d models could not be restored; try again.",
                    failed,
                )
                % {"count": failed},
                messages.ERROR,
            )
