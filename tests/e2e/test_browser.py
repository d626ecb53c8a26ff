"""The conversion pages in a real browser (Playwright driving Debian's Chromium),
against the live server with the sandbox as the upstreams.

Screenshots of each step land in test-artifacts/browser/ (not committed).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conversion.models import ConversionJob
from models_repo.models import NefModel
from sandbox import nef
from tests import onnx_models

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

MIB = 1024 * 1024


@pytest.fixture
def files(tmp_path):
    model = tmp_path / "tiny-yolo.onnx"
    model.write_bytes(onnx_models.weights_model(200_000, os.urandom(200_000)))
    images = []
    for i in range(3):
        image = tmp_path / f"ref{i}.jpg"
        image.write_bytes(b"\xff\xd8\xff" + os.urandom(50_000))
        images.append(str(image))
    return {"model": str(model), "images": images, "folder": tmp_path}


def test_a_conversion_from_upload_to_my_models(page, files, sandbox, alice):
    sandbox.SANDBOX_STAGE_SECONDS = 1
    page.check("input[name=chip][value=KL630]")
    page.set_input_files("#id_model", files["model"])
    page.set_input_files("#id_ref_images", files["images"])
    page.shot("form-filled")
    page.click("#convert-submit")
    page.wait_for_selector("#upload-progress:not([hidden])", state="attached")
    page.shot("uploading")

    page.wait_for_url(re.compile(r"/convert/[0-9a-f-]{36}/$"))
    page.shot("job-running")
    page.wait_for_selector("#job-completed", timeout=30_000)
    page.shot("job-completed")
    assert page.locator(".step-done").count() == 3
    job = ConversionJob.objects.get(owner=alice)
    assert job.chip == "KL630"

    assert page.input_value("#id_name") == "tiny-yolo"
    page.fill("#id_name", "Tiny YOLO")
    assert "save it to My models to keep it" in page.inner_text("#expiry-note")
    page.click("#save-button")
    page.wait_for_selector("#saved-model-link")
    page.shot("saved")
    model = NefModel.objects.get(owner=alice)
    # The way on: the saved model and Deploy; no more "save it to keep it".
    assert page.get_attribute("#saved-model-deploy", "href") == f"/devices/deploy/{model.pk}/"
    assert "yours stays in My models" in page.inner_text("#expiry-note")
    assert page.locator("#save-button").is_hidden() and page.locator("#id_name").is_hidden()
    assert (model.name, model.source_reference) == ("Tiny YOLO", job.job_id)
    job.refresh_from_db()
    assert job.saved_model == model

    with page.expect_download() as download_info:
        page.click("#download-nef")
    path = download_info.value.path()
    header = nef.parse(Path(path).read_bytes())
    assert (header["job_id"], header["platform"]) == (job.job_id, "630")

    page.reload()  # as the server renders it once saved
    assert page.get_attribute("#saved-model-deploy", "href") == f"/devices/deploy/{model.pk}/"
    assert "yours stays in My models" in page.inner_text("#expiry-note")
    page.click("#saved-model-link")
    page.wait_for_url(re.compile(rf"/models/{model.pk}/$"))
    page.shot("model-page")


def test_a_failing_conversion_shows_the_converters_message(page, files):
    failing = files["folder"] / "net-fail-bie.onnx"
    failing.write_bytes(onnx_models.weights_model(1000, os.urandom(1000)))
    page.set_input_files("#id_model", str(failing))
    page.set_input_files("#id_ref_images", files["images"])
    page.click("#convert-submit")
    page.wait_for_selector("#job-failed", timeout=30_000)
    page.shot("failed")
    text = page.inner_text("#job-failed")
    assert "quantization_failed" in text
    assert "reference images" in text  # what to try next


def test_the_page_refuses_a_too_large_image_before_uploading(page, files):
    huge = files["folder"] / "huge.jpg"
    huge.write_bytes(b"\xff\xd8\xff" + b"\0" * (10 * MIB))
    page.set_input_files("#id_model", files["model"])
    page.set_input_files("#id_ref_images", [*files["images"], str(huge)])
    page.click("#convert-submit")
    error = page.locator("#ref_images-error")
    error.wait_for(state="visible")
    page.shot("image-too-large")
    assert "huge.jpg" in error.inner_text()
    assert page.get_attribute("#id_ref_images", "aria-invalid") == "true"
    assert page.locator("#upload-progress").is_hidden()
    assert ConversionJob.objects.count() == 0


def test_every_refused_image_is_named_and_the_summary_says_what_it_counts(page, files):
    huge = files["folder"] / "huge.jpg"
    huge.write_bytes(b"\xff\xd8\xff" + b"\0" * (10 * MIB))
    notes = files["folder"] / "notes.txt"
    notes.write_text("not an image")
    page.set_input_files("#id_ref_images", [str(huge), *files["images"], str(notes)])
    error = page.locator("#ref_images-error")
    error.wait_for(state="visible")
    page.shot("images-refused")
    # One line each: all of them can be fixed at once.
    assert error.inner_text().splitlines() == [
        "huge.jpg is larger than 10 MB.",
        "notes.txt is not a JPEG or PNG image.",
    ]
    assert re.fullmatch(r"5 images, [\d.]+\sMB in all", page.inner_text("#ref_images-summary"))
    page.set_input_files("#id_ref_images", files["images"][:1])
    assert re.fullmatch(r"1 image, [\d.]+\sKB in all", page.inner_text("#ref_images-summary"))
    assert error.is_hidden()


def test_the_page_refuses_a_git_lfs_pointer(page, files):
    pointer = files["folder"] / "pointer.onnx"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n")
    page.set_input_files("#id_model", str(pointer))
    page.click("#convert-submit")
    page.locator("#model-error").wait_for(state="visible")
    assert "Git LFS" in page.inner_text("#model-error")
    assert ConversionJob.objects.count() == 0


def test_cancel_aborts_an_upload_in_flight(page, files):
    from sandbox import store

    big = files["folder"] / "big.onnx"
    big.write_bytes(onnx_models.weights_model(8 * MIB, os.urandom(8 * MIB)))
    # A slow uplink (1 MiB/s), so the upload is still going when Cancel is pressed.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": MIB},
    )
    page.set_input_files("#id_model", str(big))
    page.click("#convert-submit")
    status = page.locator("#upload-status")
    # Wait for the time-left part: a speed just under 1 MiB/s prints as KB/s.
    # (A locator, not wait_for_function: its string predicate is eval, which the CSP blocks.)
    page.locator("#upload-status", has_text=" left").wait_for()
    progress = status.inner_text()
    # percent · sent of total · speed/s · time left
    assert re.search(r"\d+% · .+ of 8\.0 MB · .+/s · .+ left", progress), progress
    page.shot("upload-in-progress")
    page.click("#upload-cancel")
    page.locator("#form-error").wait_for(state="visible")
    page.shot("upload-cancelled")
    assert "cancelled" in page.inner_text("#form-error")
    assert page.locator("#upload-progress").is_hidden()
    assert page.is_enabled("#convert-submit")
    page.wait_for_timeout(1000)
    assert ConversionJob.objects.count() == 0
    assert list(store.all_jobs()) == []


def test_the_convert_form_works_from_the_keyboard(page, files):
    page.focus("input[name=chip][value=KL720]")
    page.keyboard.press("ArrowRight")  # radio groups move with the arrow keys
    assert page.is_checked("input[name=chip][value=KL530]")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused == "id_model"
    labels = page.eval_on_selector_all(
        "#convert-form input:not([type=hidden]):not([type=radio])",
        "els => els.map(e => !!(e.labels && e.labels.length))",
    )
    assert labels and all(labels)


def test_a_file_named_png_that_is_no_image_is_refused_before_uploading(page, files):
    notes = files["folder"] / "notes.png"
    notes.write_text("my notes, saved under the wrong name")
    page.set_input_files("#id_model", files["model"])
    page.set_input_files("#id_ref_images", [*files["images"], str(notes)])
    error = page.locator("#ref_images-error")
    error.wait_for(state="visible")
    assert error.inner_text().splitlines() == ["notes.png is not a JPEG or PNG image."]
    page.click("#convert-submit")
    # The submit clears the marks and checks the files again (reading them is async):
    # wait for the field to be marked once more, not for a moment after the click.
    page.wait_for_selector("#id_ref_images[aria-invalid=true]")
    assert error.inner_text().splitlines() == ["notes.png is not a JPEG or PNG image."]
    assert page.locator("#upload-progress").is_hidden()
    assert ConversionJob.objects.count() == 0
