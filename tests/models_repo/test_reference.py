"""A model's reference ONNX: kept, replaced, downloaded and forgotten, by its owner only."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from models_repo.models import NefModel

pytestmark = pytest.mark.django_db
ONNX = b"float onnx" * 300


def upload(client, model, data=ONNX, name="net.onnx"):
    return client.post(
        f"/api/models/{model.pk}/reference", {"file": SimpleUploadedFile(name, data)}
    )


def test_the_owner_keeps_downloads_and_forgets_it(alice_client, alice, make_model):
    model = make_model(owner=alice)
    response = upload(alice_client, model)
    assert response.status_code == 200, response.content
    assert response.json()["has_reference"] is True
    assert alice_client.get(f"/api/models/{model.pk}/reference").getvalue() == ONNX
    assert alice_client.get(f"/models/{model.pk}/reference/").getvalue() == ONNX
    assert alice_client.delete(f"/api/models/{model.pk}/reference").json()["has_reference"] is False
    missing = alice_client.get(f"/api/models/{model.pk}/reference")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "reference_not_found"


def test_a_new_one_replaces_the_old_and_its_file(
    alice_client, alice, make_model, models_folder, django_capture_on_commit_callbacks
):
    model = make_model(owner=alice)
    upload(alice_client, model)
    first = NefModel.objects.get(pk=model.pk).reference_file.name
    with django_capture_on_commit_callbacks(execute=True):
        upload(alice_client, model, data=b"second" * 10)
    current = NefModel.objects.get(pk=model.pk)
    assert current.reference_size_bytes == 60 and current.reference_file.name != first
    assert not (models_folder / first).exists()


@pytest.mark.parametrize(("name", "data"), [("net.txt", ONNX), ("net.onnx", b"")])
def test_what_is_not_an_onnx_is_refused(alice_client, alice, make_model, name, data):
    model = make_model(owner=alice)
    response = upload(alice_client, model, data=data, name=name)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert not NefModel.objects.get(pk=model.pk).has_reference


def test_too_large_is_a_413(alice_client, alice, make_model, settings):
    settings.MODELS_MAX_REFERENCE_BYTES = 100
    response = upload(alice_client, make_model(owner=alice))
    assert response.status_code == 413


def test_others_and_anonymous_cannot(bob_client, alice, make_model):
    model = make_model(owner=alice)
    assert upload(bob_client, model).status_code == 404
    assert bob_client.get(f"/api/models/{model.pk}/reference").status_code == 404
    assert upload(Client(), model).status_code == 401
    assert Client().get(f"/models/{model.pk}/reference/").status_code == 302


def test_the_page_form_keeps_it(alice_client, alice, make_model):
    model = make_model(owner=alice)
    response = alice_client.post(
        f"/models/{model.pk}/reference/", {"file": SimpleUploadedFile("n.onnx", ONNX)}
    )
    assert response.status_code == 302
    assert NefModel.objects.get(pk=model.pk).has_reference
    page = alice_client.get(f"/models/{model.pk}/").content.decode()
    assert "Forget the original ONNX" in page


def test_forgetting_it_from_the_page_asks_first(alice_client, bob_client, alice, make_model):
    model = make_model(owner=alice)
    upload(alice_client, model)
    forget_url = f"/models/{model.pk}/reference/forget/"
    page = alice_client.get(f"/models/{model.pk}/").content.decode()
    assert f'href="{forget_url}"' in page and 'name="forget"' not in page

    asked = alice_client.get(forget_url).content.decode()
    assert f"Forget the original ONNX of {model.name}?" in asked and 'method="post"' in asked
    assert "Runs that already finished keep their comparison" in asked
    assert NefModel.objects.get(pk=model.pk).has_reference
    assert bob_client.get(forget_url).status_code == 404
    assert bob_client.post(forget_url).status_code == 404

    done = alice_client.post(forget_url)
    assert done.headers["Location"] == f"/models/{model.pk}/"
    assert not NefModel.objects.get(pk=model.pk).has_reference
    # Nothing left to forget: back to the model's page.
    assert alice_client.get(forget_url).headers["Location"] == f"/models/{model.pk}/"


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"file": SimpleUploadedFile("net.nef", ONNX)}, "Choose the .onnx file the model was"),
        ({"file": SimpleUploadedFile("net.onnx", b"")}, "The file is empty."),
        ({}, "Choose the .onnx file."),
    ],
)
def test_the_page_says_why_a_file_is_refused(alice_client, alice, make_model, files, reason):
    model = make_model(owner=alice)
    response = alice_client.post(f"/models/{model.pk}/reference/", files, follow=True)
    page = response.content.decode()
    assert reason in page
    assert "Some of the values you sent are not valid." not in page
    assert not NefModel.objects.get(pk=model.pk).has_reference
