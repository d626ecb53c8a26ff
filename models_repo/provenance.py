"""Where a model came from, as the model detail page links it.

The repository keeps a model's provenance as plain data (``source``,
``source_reference``, ``source_label``) and knows nothing of the apps that make
models. An app that does (conversion) registers, in its ``AppConfig.ready()``,
how to link a reference of its source to its own page; without one, the page
shows the label and the reference unlinked.
"""

from __future__ import annotations

from collections.abc import Callable

from models_repo.models import NefModel

SourceLink = Callable[[NefModel], "str | None"]

_links: dict[str, SourceLink] = {}


def register_source_link(source: str, link: SourceLink) -> None:
    """``link(model)`` answers the URL of the page ``model`` was made on, or None."""
    _links[str(source)] = link


def source_link(model: NefModel) -> str | None:
    link = _links.get(model.source)
    if link is None or not model.source_reference:
        return None
    return link(model)
