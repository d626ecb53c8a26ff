"""Where apps above models_repo add to its features (``models_repo`` imports none of them).

Like ``devices/registry.py``: an app that uses models (``deployments``) registers here
from its ``AppConfig.ready()``:

- ``register_model_uses``: what uses a model, for the page that confirms its delete
  (devices that have it, its runs, its rollouts). ``uses(model=...)`` answers a list of
  ``ModelUse``; an empty list when nothing of that app uses it.
- ``register_reference_needs``: what under way needs the model's original ONNX, for the
  page that confirms forgetting it (a rollout whose smoke runs are compared with it).
  ``needs(model=...)`` answers a list of ``ReferenceNeed``; empty when nothing does.

Registering again under the same name replaces the entry (``ready()`` may run more
than once in tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models_repo.models import NefModel


@dataclass(frozen=True)
class UsedBy:
    """One thing that uses the model: its name, its page and a word on its state."""

    label: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class ModelUse:
    """A kind of use (e.g. "On 3 devices"), with the first few and a link to them all."""

    title: str
    items: list[UsedBy] = field(default_factory=list)
    more: int = 0  # how many are not in ``items``
    all_url: str = ""
    # What deleting does to this use, when the user should act first (e.g. pause a rollout).
    advice: str = ""


@dataclass(frozen=True)
class ReferenceNeed:
    """Something under way that needs the model's original ONNX: what forgetting it
    would do there (a sentence in the reader's language) and that thing's page."""

    text: str
    link_text: str
    url: str


ModelUses = Callable[..., list[ModelUse]]
ReferenceNeeds = Callable[..., list[ReferenceNeed]]

_model_uses: dict[str, ModelUses] = {}


def register_model_uses(name: str, uses: ModelUses) -> None:
    """``uses(*, model: NefModel) -> list[ModelUse]``."""
    _model_uses[name] = uses


def model_uses(*, model: NefModel) -> list[ModelUse]:
    return [use for uses in _model_uses.values() for use in uses(model=model)]


_reference_needs: dict[str, ReferenceNeeds] = {}


def register_reference_needs(name: str, needs: ReferenceNeeds) -> None:
    """``needs(*, model: NefModel) -> list[ReferenceNeed]``."""
    _reference_needs[name] = needs


def reference_needs(*, model: NefModel) -> list[ReferenceNeed]:
    return [need for needs in _reference_needs.values() for need in needs(model=model)]
