"""An uploaded NEF's chip comes from its header when the header names one (the
ticks must agree), and a file the user already has is not stored twice: the page
and the API say so next to the field, with a link to the model that has it."""

from __future__ import annotations

import io

import pytest
from visiona_client.nef import chip_in_nef

from models_repo.models import NefModel
from sandbox import nef as sandbox_nef
from tests.kneron_nef_bytes import kneron_nef

from .conftest import nef_bytes, stored_files

pytestmark = pytest.mark.django_db


def sandbox_nef_for(platform: str) -> bytes:
    return sandbox_nef.build(platform=platform, job_id=f"job-{platform}", model_sha256="0" * 64)


@pytest.mark.parametrize("platform", ["520", "720", "530", "630", "730"])
def test_the_sandbox_converters_header_names_its_chip(platform):
    assert chip_in_nef(io.BytesIO(sandbox_nef_for(platform))) == f"KL{platform}"


@pytest.mark.parametrize(
    "start",
    [nef_bytes(4096), b"", b"VISIONA-SANDBOX-NEF\nnot json\n", b'VISIONA-SANDBOX-NEF\n{"a": 1}\n'],
)
def test_a_header_that_names_no_chip_reads_as_none(start):
    assert chip_in_nef(io.BytesIO(start)) is None


def test_the_page_refuses_a_chip_the_header_contradicts(alice_client, nef_file, models_folder):
    response = alice_client.post(
        "/models/upload/",
        {"file": nef_file("det.nef", sandbox_nef_for("720")), "chips": ["KL520"]},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This file is compiled for the KL720 (its header says so)" in page
    # Next to the chips: the error follows their fieldset.
    assert page.index("compiled for the KL720") > page.index('class="chip-choices"')
    assert not NefModel.objects.exists() and stored_files(models_folder) == []


def test_the_api_refuses_it_with_a_400_on_chips(alice_api, nef_file):
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file("det.nef", sandbox_nef_for("720")), "chips": ["KL720", "KL630"]},
        format="multipart",
    )
    assert response.status_code == 400
    [field] = response.json()["error"]["details"]["fields"]
    assert field["field"] == "chips" and "tick KL720 alone" in field["message"]


def test_the_headers_chip_alone_is_accepted(alice_api, nef_file):
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file("det.nef", sandbox_nef_for("720")), "chips": ["KL720"]},
        format="multipart",
    )
    assert response.status_code == 201 and response.json()["chips"] == ["KL720"]


def test_a_header_without_a_chip_keeps_the_ticks(alice_api, nef_file):
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file("any.nef", nef_bytes(5000)), "chips": ["KL520", "KL630"]},
        format="multipart",
    )
    assert response.status_code == 201 and response.json()["chips"] == ["KL520", "KL630"]


def test_the_same_file_twice_links_the_first(alice_client, alice_api, nef_file, models_folder):
    data = nef_bytes(20_000, seed=3)
    first = alice_api.post(
        "/api/models/", {"file": nef_file("a.nef", data), "chips": ["KL720"]}, format="multipart"
    ).json()
    again = alice_api.post(
        "/api/models/",
        {"file": nef_file("b.nef", data), "chips": ["KL720"], "name": "other"},
        format="multipart",
    )
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "model_already_stored"
    assert error["details"]["model_id"] == first["id"]
    assert error["details"]["model_url"] == f"/models/{first['id']}/"
    assert error["details"]["fields"][0]["field"] == "file"
    assert "as “a”" in error["message"]
    assert NefModel.objects.count() == 1 and len(stored_files(models_folder)) == 1

    page = alice_client.post(
        "/models/upload/", {"file": nef_file("c.nef", data), "chips": ["KL720"]}
    )
    assert page.status_code == 400
    assert f'<a href="/models/{first["id"]}/">Open it</a>' in page.content.decode()
    assert NefModel.objects.count() == 1 and len(stored_files(models_folder)) == 1


def test_another_users_copy_is_no_duplicate(alice_api, bob, make_model, nef_file):
    data = nef_bytes(8_000, seed=11)
    make_model(bob, "bobs")  # bob's own, other bytes
    response = alice_api.post(
        "/api/models/", {"file": nef_file("a.nef", data), "chips": ["KL720"]}, format="multipart"
    )
    assert response.status_code == 201
    NefModel.objects.filter(pk=response.json()["id"]).update(owner=bob)
    again = alice_api.post(
        "/api/models/", {"file": nef_file("a.nef", data), "chips": ["KL720"]}, format="multipart"
    )
    assert again.status_code == 201


# --- A NEF compiled by Kneron's toolchain (its FlatBuffers NEFHeader.target) --------


def test_a_kneron_nefs_chip_is_read_and_recorded_as_read(alice_api, alice_client, nef_file):
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file("det.nef", kneron_nef(target=2)), "chips": ["KL720"]},
        format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["chips"] == ["KL720"] and body["chip_source"] == "header"
    assert body["chip_source_display"] == "Read from the NEF's header"
    page = alice_client.get(f"/models/{body['id']}/").content.decode()
    assert "Read from the NEF&#x27;s header" in page


def test_a_kneron_nef_for_another_chip_is_refused_on_the_page_and_the_api(
    alice_api, alice_client, nef_file, models_folder
):
    data = kneron_nef(target=4)  # KL730, schema 2.2.1
    response = alice_api.post(
        "/api/models/", {"file": nef_file("a.nef", data), "chips": ["KL720"]}, format="multipart"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    [field] = error["details"]["fields"]
    assert field["field"] == "chips" and "compiled for the KL730" in field["message"]
    page = alice_client.post(
        "/models/upload/", {"file": nef_file("a.nef", data), "chips": ["KL720"]}
    )
    assert page.status_code == 400
    text = page.content.decode()
    assert text.index("compiled for the KL730") > text.index('class="chip-choices"')
    assert not NefModel.objects.exists() and stored_files(models_folder) == []


def test_the_refusal_is_in_chinese_too(alice_api, nef_file):
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file("a.nef", kneron_nef(target=4)), "chips": ["KL720"]},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="zh-hant",
    )
    [field] = response.json()["error"]["details"]["fields"]
    assert "KL730" in field["message"] and "compiled" not in field["message"]


def test_a_chip_visiona_does_not_support_is_refused_on_the_file(alice_api, nef_file):
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file("a.nef", kneron_nef(target=6)), "chips": ["KL720"]},  # KL540
        format="multipart",
    )
    assert response.status_code == 400
    [field] = response.json()["error"]["details"]["fields"]
    assert field["field"] == "file" and "KL540" in field["message"]


def test_a_file_whose_chip_cannot_be_read_is_the_users_word(alice_api, alice_client, nef_file):
    response = alice_api.post(
        "/api/models/",
        {"file": nef_file("any.nef", kneron_nef(target=2, schema=(2, 3, 0))), "chips": ["KL520"]},
        format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["chip_source"] == "user"
    assert body["chip_source_display"] == "As you chose them, not checked against the file"
    page = alice_client.get(f"/models/{body['id']}/", HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert "As you chose them" not in page.content.decode()


def test_a_read_chip_cannot_be_edited_away_but_an_unread_one_can(alice_api, nef_file):
    read = alice_api.post(
        "/api/models/",
        {"file": nef_file("a.nef", kneron_nef(target=2)), "chips": ["KL720"]},
        format="multipart",
    ).json()
    refused = alice_api.patch(f"/api/models/{read['id']}", {"chips": ["KL520"]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["fields"][0]["field"] == "chips"
    renamed = alice_api.patch(
        f"/api/models/{read['id']}", {"name": "kept", "chips": ["KL720"]}, format="json"
    )
    assert renamed.status_code == 200 and renamed.json()["chip_source"] == "header"

    converted = alice_api.post(
        "/api/models/",
        {"file": nef_file("b.nef", nef_bytes(3000, seed=5)), "chips": ["KL520"]},
        format="multipart",
    ).json()
    NefModel.objects.filter(pk=converted["id"]).update(chip_source="conversion")
    edited = alice_api.patch(f"/api/models/{converted['id']}", {"chips": ["KL630"]}, format="json")
    assert edited.status_code == 200
    assert edited.json()["chips"] == ["KL630"] and edited.json()["chip_source"] == "user"
