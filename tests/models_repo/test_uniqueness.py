"""Names are unique per owner among live models, enforced by the database (a
partial unique index), so races and code that bypasses the forms are refused too.

Marked ``postgres``: the production database is the one whose behaviour counts.
"""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from models_repo import services
from models_repo.errors import ModelNameTaken
from models_repo.models import NefModel

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _raw(owner, name: str, **fields) -> NefModel:
    """A row straight into the table: no form, no service, no friendly check."""
    values = {"source": "uploaded", "file": "x.nef", "size_bytes": 1, "sha256": "0" * 64}
    return NefModel.objects.create(owner=owner, name=name, **{**values, **fields})


def test_the_database_refuses_a_second_live_name(alice):
    _raw(alice, "Detector")
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(alice, "Detector")


def test_the_database_allows_a_deleted_name_again(alice, bob):
    _raw(alice, "Detector", deleted_at=timezone.now())
    _raw(alice, "Detector", deleted_at=timezone.now())
    _raw(alice, "Detector")
    _raw(bob, "Detector")
    assert NefModel.objects.filter(name="Detector").count() == 4


def test_the_database_refuses_restoring_into_a_taken_name(alice):
    old = _raw(alice, "Detector", deleted_at=timezone.now())
    _raw(alice, "Detector")
    with pytest.raises(IntegrityError), transaction.atomic():
        NefModel.objects.filter(pk=old.pk).update(deleted_at=None)


@pytest.mark.parametrize("fields", [{"name": ""}, {"size_bytes": -1}])
def test_the_database_checks_names_and_sizes(alice, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(alice, **{"name": "ok", **fields})


def test_a_race_past_the_friendly_check_is_still_a_409(alice, alice_api, make_model, monkeypatch):
    """Two renames at once: both pass the check, the index refuses the second."""
    make_model(alice, "Detector")
    other = make_model(alice, "Other")
    monkeypatch.setattr(services, "_require_free_name", lambda **kwargs: None)
    response = alice_api.patch(f"/api/models/{other.pk}", {"name": "Detector"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "model_name_taken"
    other.refresh_from_db()
    assert other.name == "Other"


def test_a_racing_upload_leaves_no_file(alice, make_model, nef_file, models_folder, monkeypatch):
    from .conftest import stored_files

    make_model(alice, "Detector")
    monkeypatch.setattr(services, "_require_free_name", lambda **kwargs: None)
    with pytest.raises(ModelNameTaken):
        services.model_upload(owner=alice, upload=nef_file(), chips=["KL520"], name="Detector")
    assert NefModel.objects.count() == 1
    assert len(stored_files(models_folder)) == 1


def test_the_page_and_api_reuse_a_deleted_name(alice, alice_client, alice_api, make_model):
    model = make_model(alice, "Detector")
    assert alice_api.delete(f"/api/models/{model.pk}").status_code == 204
    other = make_model(alice, "Other")
    response = alice_client.post(
        f"/models/{other.pk}/edit/", {"name": "Detector", "chips": ["KL520"]}
    )
    assert response.status_code == 302
    assert NefModel.objects.live().get(name="Detector").pk == other.pk


def test_updates_never_change_created_at(alice, alice_api, make_model):
    model = make_model(alice, "Detector")
    created_at = model.created_at
    for data in ({"name": "A"}, {"description": "d"}, {"chips": ["KL730"]}):
        assert alice_api.patch(f"/api/models/{model.pk}", data, format="json").status_code == 200
    services.model_delete(model=model)
    services.model_restore(model=model)
    model.refresh_from_db()
    assert model.created_at == created_at


def test_two_restores_of_one_model_bring_it_back_once_under_its_name(alice):
    """Saving a conversion again revives its deleted model; a second, stale revival
    (another request that read the model while it was deleted) changes nothing."""
    model = _raw(alice, "Detector")
    services.model_delete(model=model)
    stale = NefModel.objects.get(pk=model.pk)
    services.model_restore(model=model)
    services.model_restore(model=stale)
    assert NefModel.objects.get(pk=model.pk).name == "Detector"
    assert (stale.name, stale.deleted_at) == ("Detector", None)
