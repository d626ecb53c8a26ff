"""The upload's progress is in view the moment it starts, on a laptop and a phone, on the
convert page and on My models' upload (the same script: percent, bytes, speed, time
left, Cancel)."""

from __future__ import annotations

import os
import re

import pytest

from conversion.models import ConversionJob
from models_repo.models import NefModel
from tests import onnx_models
from tests.e2e.signed_in import in_viewport, slow_uplink
from tests.models_repo.conftest import nef_bytes

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

MIB = 1024 * 1024
SCREENS = {"laptop": (1280, 800), "phone": (390, 844)}
PROGRESS = re.compile(r"\d+% · .+ of [\d.]+ MB · .+/s · .+ left")


@pytest.fixture
def big_file(tmp_path):
    def make(name: str, size: int = 6 * MIB) -> str:
        path = tmp_path / name
        if path.suffix == ".onnx":  # the upload proxy refuses a file that is not ONNX
            path.write_bytes(onnx_models.weights_model(size, os.urandom(size)))
        else:  # a NEF ends with its CRC-32, which My models checks
            path.write_bytes(nef_bytes(size))
        return str(path)

    return make


@pytest.mark.parametrize("screen", SCREENS)
def test_the_convert_pages_progress_is_in_view_at_once(
    open_tab, live_server, sandbox, alice, big_file, screen
):
    tab = open_tab(viewport=SCREENS[screen])
    tab.goto(f"{live_server.url}/convert/")
    slow_uplink(tab, MIB)
    tab.set_input_files("#id_model", big_file("big.onnx"))
    tab.locator("#convert-submit").scroll_into_view_if_needed()
    tab.click("#convert-submit")
    tab.locator("#upload-progress").wait_for(state="visible")
    assert in_viewport(tab, "#upload-progress"), screen
    tab.locator("#upload-status", has_text=" left").wait_for()
    assert in_viewport(tab, "#upload-cancel")
    tab.shot(f"uploading-{screen}", full_page=False)
    tab.click("#upload-cancel")
    tab.locator("#form-error").wait_for(state="visible")
    assert ConversionJob.objects.count() == 0


@pytest.mark.parametrize("screen", SCREENS)
def test_my_models_upload_shows_progress_and_cancels(
    open_tab, live_server, sandbox, alice, big_file, screen
):
    tab = open_tab(viewport=SCREENS[screen])
    tab.goto(f"{live_server.url}/models/upload/")
    slow_uplink(tab, MIB)
    tab.set_input_files("#id_file", big_file("detector.nef"))
    tab.check("input[name=chips][value=KL720]")
    tab.click("#upload-submit")
    tab.locator("#upload-progress").wait_for(state="visible")
    assert in_viewport(tab, "#upload-progress"), screen
    status = tab.locator("#upload-status", has_text=" left")
    status.wait_for()
    assert PROGRESS.search(status.inner_text()), status.inner_text()
    assert 0 < int(tab.get_attribute("#upload-bar", "value") or 0) < 100
    tab.shot(f"uploading-{screen}", full_page=False)
    tab.click("#upload-cancel")
    tab.locator("#form-error", has_text="cancelled").wait_for()
    assert tab.locator("#upload-progress").is_hidden()
    assert tab.is_enabled("#upload-submit")
    tab.wait_for_timeout(500)
    assert NefModel.objects.count() == 0


def test_my_models_upload_opens_the_new_model(open_tab, live_server, sandbox, alice, big_file):
    tab = open_tab()
    tab.goto(f"{live_server.url}/models/upload/")
    tab.set_input_files("#id_file", big_file("face-finder.nef", 300_000))
    tab.check("input[name=chips][value=KL630]")
    tab.fill("#id_description", "Finds faces")
    tab.click("#upload-submit")
    tab.wait_for_url(re.compile(r"/models/\d+/$"))
    model = NefModel.objects.get(owner=alice)
    assert (model.name, model.chips, model.description) == ("face-finder", ["KL630"], "Finds faces")
    assert tab.url.endswith(f"/models/{model.pk}/")


def test_my_models_upload_shows_the_services_refusal_by_its_field(
    open_tab, live_server, sandbox, alice, big_file, make_named_model
):
    make_named_model(alice, "taken")
    tab = open_tab()
    tab.goto(f"{live_server.url}/models/upload/")
    tab.click("#upload-submit")  # nothing chosen: refused before sending anything
    tab.locator("#js-error-file").wait_for()
    assert tab.get_attribute("#id_file", "aria-invalid") == "true"
    assert tab.locator("#js-error-chips").is_visible()
    tab.set_input_files("#id_file", big_file("model.nef", 1000))
    tab.check("input[name=chips][value=KL720]")
    tab.fill("#id_name", "taken")
    tab.click("#upload-submit")
    error = tab.locator("#js-error-name")
    error.wait_for()
    assert "already have a model with this name" in error.inner_text()
    tab.shot("name-taken")
    assert NefModel.objects.filter(owner=alice).count() == 1


@pytest.fixture
def make_named_model():
    from models_repo.choices import ModelSource
    from models_repo.services import model_create_from_stream

    def make(owner, name):
        return model_create_from_stream(
            owner=owner,
            name=name,
            chips=["KL720"],
            source=ModelSource.UPLOADED,
            filename=f"{name}.nef",
            chunks=[b"nef" * 100],
        )

    return make
