from django.apps import AppConfig


class ConversionConfig(AppConfig):
    name = "conversion"

    def ready(self) -> None:
        from conversion.converter_status import register_health

        register_health()
