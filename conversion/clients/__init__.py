"""Clients of the three upstream services (../shared/spec/upstreams.md).

One module per service; each keeps its paths, field names and codes, and maps
every answer onto ``conversion.errors``.
"""

from __future__ import annotations

from django.conf import settings

from conversion.errors import ConversionDisabled


def conversion_enabled() -> bool:
    """Conversion works only when both the converter and FAA are configured."""
    return bool(settings.CONVERTER_BASE_URL and settings.FAA_BASE_URL)


def require_enabled() -> None:
    if not conversion_enabled():
        raise ConversionDisabled()
