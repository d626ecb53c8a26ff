from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversionConfig(AppConfig):
    name = "conversion"
    verbose_name = _("Conversion")

    def ready(self) -> None:
        from rest_framework import serializers

        from conversion.clients import conversion_enabled
        from conversion.context_processors import active_conversion
        from conversion.provenance import conversion_page_url
        from models_repo.choices import ModelSource
        from models_repo.provenance import register_source_link
        from visiona.registry import register_health_part, register_page_context

        # A converted model's detail page links to its conversion's page.
        register_source_link(ModelSource.CONVERTED, conversion_page_url)
        # Every page's banner while the user has an unfinished job.
        register_page_context("conversion", active_conversion)
        register_health_part(
            "conversion",
            fields=lambda: {"conversion_enabled": serializers.BooleanField()},
            values=lambda user: {"conversion_enabled": conversion_enabled()},
        )
        # The converter's own health, as ``converter``.
        from conversion.converter_status import register_health

        register_health()
