from django.apps import AppConfig


class ConversionConfig(AppConfig):
    name = "conversion"

    def ready(self) -> None:
        from conversion.provenance import conversion_page_url
        from models_repo.choices import ModelSource
        from models_repo.provenance import register_source_link

        # A converted model's detail page links to its conversion's page.
        register_source_link(ModelSource.CONVERTED, conversion_page_url)
