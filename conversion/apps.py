from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversionConfig(AppConfig):
    name = "conversion"
    verbose_name = _("Conversion")
