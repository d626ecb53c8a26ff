from django.apps import AppConfig


class RelayConfig(AppConfig):
    """The relay process (manage.py run_relay): no models, no URLs; nothing imports it."""

    name = "relay"
