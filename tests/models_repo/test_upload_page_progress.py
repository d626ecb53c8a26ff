"""My models' upload page carries the convert page's progress box and its one script."""

import json
import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_upload_page_has_the_shared_progress_box_and_script(alice_client, settings):
    settings.MODELS_MAX_UPLOAD_BYTES = 500 * 1024 * 1024
    content = alice_client.get("/models/upload/").content.decode()
    for element in (
        'id="upload-progress"',
        'id="upload-bar"',
        'id="upload-status"',
        'id="upload-cancel"',
    ):
        assert element in content
    scripts = re.findall(r'<script src="/static/js/([\w.-]+)"', content)
    assert scripts[-3:] == ["text.js", "upload-progress.js", "models-upload.js"]
    data = json.loads(
        re.search(
            r'<script id="model-upload-data" type="application/json">(.*?)</script>', content
        ).group(1)
    )
    assert data["apiUrl"] == "/api/models/"
    assert data["maxBytes"] == 500 * 1024 * 1024
    assert set(data["upload"]) >= {"uploading", "progress", "processing", "cancelled", "duration"}


def test_the_convert_page_uses_the_same_box_and_script(alice_client, settings):
    settings.CONVERTER_BASE_URL = "http://converter.invalid"
    settings.FAA_BASE_URL = "http://faa.invalid"
    content = alice_client.get("/convert/").content.decode()
    assert content.count('id="upload-progress"') == 1
    assert "/static/js/upload-progress.js" in content


def test_convert_js_no_longer_carries_its_own_copy():
    from pathlib import Path

    from django.conf import settings

    convert = (Path(settings.BASE_DIR) / "static" / "js" / "convert.js").read_text()
    assert "upload.addEventListener" not in convert  # the progress code lives in one place
    assert "visionaUpload.send" in convert
