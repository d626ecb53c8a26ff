from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from conversion.models import ConversionJob

# Everything the converter reported is history: admins read it, never edit it.
UPSTREAM_FIELDS = [
    "job_id",
    "owner",
    "chip",
    "filename",
    "model_id",
    "version",
    "status",
    "stage",
    "progress",
    "stage_progress",
    "error_code",
    "error_message",
    "error_stage",
    "faa_object_key",
    "created_at",
    "updated_at",
    "expires_at",
    "finished_at",
    "recorded_at",
    "refreshed_at",
]


@admin.register(ConversionJob)
class ConversionJobAdmin(admin.ModelAdmin):
    list_display = [
        "job_id",
        "owner",
        "chip",
        "filename",
        "status",
        "stage",
        "created_at",
        "saved_as",
    ]
    list_filter = ["status", "chip", "error_code"]
    search_fields = ["job_id", "filename", "owner__username", "owner__email"]
    list_select_related = ["owner", "saved_model"]
    readonly_fields = UPSTREAM_FIELDS
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("saved as"))
    def saved_as(self, job: ConversionJob) -> str | None:
        model = job.saved_model
        return model.name if model is not None else None  # the admin's empty value
