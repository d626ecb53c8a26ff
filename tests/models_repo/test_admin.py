"""Administrators see every model, deleted ones too, and can soft delete or restore."""

import pytest
from django.urls import reverse

from models_repo.models import NefModel

pytestmark = pytest.mark.django_db


def _act(admin_client, action: str, *models):
    return admin_client.post(
        reverse("admin:models_repo_nefmodel_changelist"),
        {"action": action, "_selected_action": [model.pk for model in models]},
    )


def test_the_restore_action_brings_a_model_back(admin_client, alice, make_model):
    model = make_model(alice, "Detector")
    _act(admin_client, "soft_delete", model)
    model.refresh_from_db()
    assert model.deleted_at is not None
    response = _act(admin_client, "restore", model)
    assert response.status_code == 302
    model.refresh_from_db()
    assert (model.deleted_at, model.name) == (None, "Detector")


def test_a_restored_model_gets_a_free_name(admin_client, alice, make_model):
    old = make_model(alice, "Detector")
    _act(admin_client, "soft_delete", old)
    make_model(alice, "Detector")  # the name was reused meanwhile
    _act(admin_client, "restore", old)
    old.refresh_from_db()
    assert (old.deleted_at, old.name) == (None, "Detector (2)")
    assert NefModel.objects.live().count() == 2


def test_the_list_shows_deleted_models_and_filters_them(admin_client, alice, bob, make_model):
    make_model(alice, "Live one")
    gone = make_model(bob, "Gone one")
    _act(admin_client, "soft_delete", gone)
    url = reverse("admin:models_repo_nefmodel_changelist")
    everything = admin_client.get(url).content.decode()
    assert "Live one" in everything and "Gone one" in everything
    deleted = admin_client.get(url, {"deleted": "yes"}).content.decode()
    assert "Gone one" in deleted and "Live one" not in deleted
    by_chip = admin_client.get(url, {"platforms__chip": "KL730"}).content.decode()
    assert "Live one" not in by_chip
    assert admin_client.get(url, {"q": "Gone"}).status_code == 200


def test_the_admin_cannot_hard_delete_a_model(admin_client, alice, make_model):
    model = make_model(alice, "Detector")
    changelist = admin_client.get(reverse("admin:models_repo_nefmodel_changelist"))
    assert b'value="delete_selected"' not in changelist.content
    response = admin_client.post(reverse("admin:models_repo_nefmodel_delete", args=[model.pk]))
    assert response.status_code == 403
    assert NefModel.objects.filter(pk=model.pk).exists()
