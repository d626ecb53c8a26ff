"""Rename, describe, retarget and delete, on the page and in the API."""

import pytest

from models_repo.models import NefModel

from .conftest import stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(alice, make_model):
    return make_model(alice, "Detector", chips=["KL720"])


def test_the_page_edits_a_model(alice_client, model):
    created_at = model.created_at
    response = alice_client.post(
        f"/models/{model.pk}/edit/",
        {"name": "  Face   detector ", "description": "v2", "chips": ["KL520", "KL720"]},
    )
    assert response.status_code == 302
    model.refresh_from_db()
    assert (model.name, model.description, model.chips) == (
        "Face detector",
        "v2",
        ["KL520", "KL720"],
    )
    assert model.created_at == created_at
    assert model.updated_at > created_at


def test_the_edit_page_shows_the_current_values(alice_client, model):
    form = alice_client.get(f"/models/{model.pk}/edit/").context["form"]
    assert form.initial == {"name": "Detector", "description": "", "chips": ["KL720"]}


def test_the_api_patches_only_what_it_is_sent(alice_api, model):
    created_at = model.created_at
    response = alice_api.patch(f"/api/models/{model.pk}", {"description": "Faces"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Detector"
    assert response.json()["description"] == "Faces"
    response = alice_api.patch(f"/api/models/{model.pk}", {"chips": ["KL630"]}, format="json")
    assert response.json()["chips"] == ["KL630"]
    model.refresh_from_db()
    assert (model.description, model.chips, model.created_at) == ("Faces", ["KL630"], created_at)


@pytest.mark.parametrize("format", ["multipart", "json"])
def test_a_form_patch_without_chips_leaves_them_alone(alice_api, model, format):
    # A form or multipart body has no way to say "chips not sent" but leaving them out.
    response = alice_api.patch(f"/api/models/{model.pk}", {"name": "Renamed"}, format=format)
    assert response.status_code == 200, response.content
    assert response.json()["chips"] == ["KL720"]
    model.refresh_from_db()
    assert (model.name, model.chips) == ("Renamed", ["KL720"])


def test_a_form_patch_can_set_chips(alice_api, model):
    response = alice_api.patch(
        f"/api/models/{model.pk}", {"chips": ["KL520", "KL630"]}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["chips"] == ["KL520", "KL630"]


@pytest.mark.parametrize(
    ("data", "field"),
    [({"name": "   "}, "name"), ({"chips": []}, "chips"), ({"chips": ["KL1"]}, "chips")],
)
def test_the_api_refuses_bad_edits(alice_api, model, data, field):
    response = alice_api.patch(f"/api/models/{model.pk}", data, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"][0]["field"] == field
    model.refresh_from_db()
    assert (model.name, model.chips) == ("Detector", ["KL720"])


def test_a_duplicate_name_is_a_field_error_on_the_page(alice, alice_client, make_model, model):
    make_model(alice, "Classifier")
    response = alice_client.post(
        f"/models/{model.pk}/edit/", {"name": "Classifier", "chips": ["KL720"]}
    )
    assert response.status_code == 400
    assert "already have a model with this name" in response.context["form"].errors["name"][0]
    model.refresh_from_db()
    assert model.name == "Detector"


def test_a_duplicate_name_is_a_409_in_the_api(alice, alice_api, make_model, model):
    make_model(alice, "Classifier")
    response = alice_api.patch(f"/api/models/{model.pk}", {"name": "Classifier"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "model_name_taken"
    assert error["details"]["fields"][0]["field"] == "name"


def test_an_upload_with_a_taken_name_stores_nothing(
    alice_client, alice_api, nef_file, model, models_folder
):
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file(), "name": "Detector", "chips": ["KL520"]},
        format="multipart",
    )
    assert response.status_code == 409
    page = alice_client.post(
        "/models/upload/", {"file": nef_file("Detector.nef"), "chips": ["KL520"]}
    )
    assert "name" in page.context["form"].errors
    assert NefModel.objects.count() == 1
    assert len(stored_files(models_folder)) == 1


def test_other_users_may_use_the_same_name(bob_client, nef_file, model):
    response = bob_client.post(
        "/models/upload/", {"file": nef_file(), "name": "Detector", "chips": ["KL520"]}
    )
    assert response.status_code == 302
    assert NefModel.objects.filter(name="Detector").count() == 2


def test_the_page_deletes_after_confirmation(alice_client, model, models_folder):
    confirm = alice_client.get(f"/models/{model.pk}/delete/")
    assert "Delete Detector?" in confirm.content.decode()
    assert NefModel.objects.live().count() == 1
    response = alice_client.post(f"/models/{model.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/models/"
    model.refresh_from_db()
    assert model.deleted_at is not None
    # Soft: the row and the file stay for an administrator to restore.
    assert len(stored_files(models_folder)) == 1


def test_the_api_deletes_softly(alice_api, model):
    assert alice_api.delete(f"/api/models/{model.pk}").status_code == 204
    assert alice_api.get(f"/api/models/{model.pk}").status_code == 404
    assert alice_api.delete(f"/api/models/{model.pk}").status_code == 404
    assert NefModel.objects.get().deleted_at is not None


def test_a_deleted_models_name_can_be_reused(alice_api, alice_client, nef_file, model):
    alice_client.post(f"/models/{model.pk}/delete/")
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file(), "name": "Detector", "chips": ["KL520"]},
        format="multipart",
    )
    assert response.status_code == 201
    assert NefModel.objects.filter(name="Detector").count() == 2


def test_the_detail_page_shows_provenance(alice, alice_client, make_model):
    model = make_model(
        alice,
        "yolo",
        source="converted",
        source_reference="job-123",
        source_label="yolo.onnx",
    )
    page = alice_client.get(f"/models/{model.pk}/").content.decode()
    assert "job-123" in page and "yolo.onnx" in page
    assert model.sha256 in page
    # Nothing links a reference no source page knows (here: no such conversion).
    assert 'href="/convert/job-123/"' not in page


def test_an_uploaded_models_detail_page_names_its_source(alice, alice_client, make_model):
    model = make_model(alice, "mine")
    page = alice_client.get(f"/models/{model.pk}/").content.decode()
    assert "Uploaded" in page and "Reference" not in page
