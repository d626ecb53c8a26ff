"""Where apps add to core features.

Core (``visiona/``) imports no app: only the root URLconf names them. An app that
adds to a core feature registers here, from its ``AppConfig.ready()``:

- ``register_health_part``: fields of ``GET /api/system/health`` (the signed-in
  user's view of the app), with their serializer fields for the OpenAPI document;
- ``register_page_context``: a context processor every page's template gets
  (``visiona.context_processors.site`` runs them);
- ``register_schema_enum``: the OpenAPI component name of an app's choices, where
  two enums of one field name would clash (drf-spectacular's ENUM_NAME_OVERRIDES);
- ``register_error_page``: an error nginx answers for the app in one of its own
  locations (``manage.py write_error_pages`` writes it beside the statuses' pages).

Registering again under the same name replaces the entry (``ready()`` may run
more than once in tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework import serializers

    from visiona.errors import AppError
    from visiona.models import User


@dataclass(frozen=True)
class HealthPart:
    """Some fields of the user's health answer.

    ``fields()`` builds fresh serializer fields (DRF binds a field to one
    serializer) describing what ``values(user)`` answers.
    """

    name: str
    fields: Callable[[], dict[str, serializers.Field]]
    values: Callable[[User], dict[str, Any]]


PageContext = Callable[["HttpRequest"], dict[str, Any]]

_health_parts: dict[str, HealthPart] = {}
_page_contexts: dict[str, PageContext] = {}
_error_pages: dict[str, type[AppError]] = {}


def register_health_part(
    name: str,
    *,
    fields: Callable[[], dict[str, serializers.Field]],
    values: Callable[[User], dict[str, Any]],
) -> None:
    _health_parts[name] = HealthPart(name=name, fields=fields, values=values)


def health_parts() -> list[HealthPart]:
    return list(_health_parts.values())


def register_page_context(name: str, processor: PageContext) -> None:
    _page_contexts[name] = processor


def page_contexts() -> list[PageContext]:
    return list(_page_contexts.values())


def register_schema_enum(component_name: str, choices_path: str) -> None:
    """Name an app's choices (a dotted path to them) in the OpenAPI document.

    drf-spectacular reads its overrides from settings when it builds the document,
    so the entry goes there; settings themselves name no app.
    """
    from django.conf import settings

    spectacular: dict[str, Any] = settings.SPECTACULAR_SETTINGS
    spectacular.setdefault("ENUM_NAME_OVERRIDES", {})[component_name] = choices_path


def register_error_page(name: str, error_type: type[AppError]) -> None:
    """``<name>.json`` and ``<name>.html``, in every language, for nginx to answer with
    (e.g. ``device-unreachable``: the relay node nginx was sent to does not answer)."""
    _error_pages[name] = error_type


def error_pages() -> dict[str, type[AppError]]:
    return dict(_error_pages)
