"""Reads from the models repository. Ownership is enforced here: another user's
model is indistinguishable from an unknown one, and deleted models are gone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from models_repo.errors import ModelNotFound
from models_repo.models import NefModel
from visiona.models import User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Sort keys offered by the list (page and API); the primary key breaks ties so
# pagination is stable.
MODEL_SORTS = {
    "newest": (_("Newest first"), ("-created_at", "-pk")),
    "name": (_("Name"), (Lower("name"), "name", "pk")),
    "size": (_("Largest first"), ("-size_bytes", "-pk")),
}
DEFAULT_SORT = "newest"


def model_list_for_user(
    *,
    user: User | AnonymousUser,
    chip: str | None = None,
    source: str | None = None,
    search: str | None = None,
    sort: str = DEFAULT_SORT,
) -> QuerySet[NefModel]:
    """The user's live models, filtered and sorted; chips come in one extra query."""
    if not isinstance(user, User) or not user.is_authenticated:
        return NefModel.objects.none()
    models = NefModel.objects.live().filter(owner=user).prefetch_related("platforms")
    if chip:
        # (model, chip) is unique, so this join never repeats a model.
        models = models.filter(platforms__chip=chip)
    if source:
        models = models.filter(source=source)
    if search and search.strip():
        models = models.filter(name__icontains=search.strip())
    _label, ordering = MODEL_SORTS.get(sort, MODEL_SORTS[DEFAULT_SORT])
    return models.order_by(*ordering)


def model_get_for_user(*, user: User | AnonymousUser, model_id: int | str) -> NefModel:
    if not isinstance(user, User) or not user.is_authenticated:
        raise ModelNotFound()
    try:
        return NefModel.objects.live().prefetch_related("platforms").get(owner=user, pk=model_id)
    except (NefModel.DoesNotExist, ValueError, TypeError):
        raise ModelNotFound() from None


def model_sort_choices() -> list[tuple[str, StrOrPromise]]:
    # Lazy labels: the form reads its choices when it renders, in the user's language.
    return [(key, label) for key, (label, _ordering) in MODEL_SORTS.items()]
