from django.contrib import admin

from models_repo.models import ModelPlatform, NefModel


class ModelPlatformInline(admin.TabularInline):
    model = ModelPlatform
    extra = 0


@admin.register(NefModel)
class NefModelAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "source", "size_bytes", "created_at", "deleted_at"]
    list_filter = ["source", "platforms__chip", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "owner__username", "owner__email", "sha256"]
    list_select_related = ["owner"]
    readonly_fields = ["file", "size_bytes", "sha256", "faa_object_key", "source_job"]
    inlines = [ModelPlatformInline]
