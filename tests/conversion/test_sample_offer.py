"""The convert page's "Try the sample model": offered in the sandbox only, with the
chip its NEF deploys to (the browser side: tests/e2e/test_sample_browser.py)."""

from __future__ import annotations

import json
import re

import pytest
import responses
from visiona_client import preflight

from conversion import sample
from tests.conversion.upstreams import CONVERTER

pytestmark = pytest.mark.django_db


def convert_page(client, upstream) -> tuple[str, dict]:
    upstream.add(responses.GET, f"{CONVERTER}/api/v1/jobs", json={"jobs": [], "total": 0})
    response = client.get("/convert/")
    assert response.status_code == 200
    content = response.content.decode()
    data = re.search(r'<script id="convert-data" type="application/json">(.*?)</script>', content)
    return content, json.loads(data.group(1))


def test_the_sandbox_offers_the_sample_with_its_chip(alice_client, upstream, settings):
    settings.VISIONA_SANDBOX = True
    content, data = convert_page(alice_client, upstream)
    assert 'id="sample-button"' in content
    assert data["sample"]["chip"] == "KL720"
    assert data["sample"]["model"]["name"] == "sample-classifier.onnx"
    assert len(data["sample"]["images"]) == 10
    # The chip the page picks is one the form offers, and one the sample passes.
    assert f'name="chip" value="{data["sample"]["chip"]}"' in content
    model = settings.BASE_DIR / "static" / sample.MODEL
    assert preflight.check(preflight.scan_file(model), sample.CHIP).ok


def test_it_is_not_offered_outside_the_sandbox(alice_client, upstream, settings):
    settings.VISIONA_SANDBOX = False
    content, data = convert_page(alice_client, upstream)
    assert data["sample"] is None
    assert "sample-offer" not in content and "sample-button" not in content
