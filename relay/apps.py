from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelayConfig(AppConfig):
    """The relay process (manage.py run_relay): no models, no URLs; nothing imports it."""

    name = "relay"
    verbose_name = _("Tunnel relay")
