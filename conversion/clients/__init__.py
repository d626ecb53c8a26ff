"""Clients of the three upstream services (docs/upstreams.md).

One module per service; each keeps its paths, field names and codes, and maps
every answer onto the clients' own errors (``conversion.clients.errors``), which
``conversion.upstream_errors`` maps onto the app's in one place.
"""

from __future__ import annotations

from django.conf import settings


def conversion_enabled() -> bool:
    """Conversion works only when both the converter and FAA are configured."""
    return bool(settings.CONVERTER_BASE_URL and settings.FAA_BASE_URL)
