from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TokensConfig(AppConfig):
    name = "tokens"
    verbose_name = _("Personal API tokens")

    def ready(self) -> None:
        from tokens import schema  # noqa: F401  (registers the personal-token scheme)
