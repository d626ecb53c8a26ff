from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModelsRepoConfig(AppConfig):
    name = "models_repo"
    verbose_name = _("My models")
