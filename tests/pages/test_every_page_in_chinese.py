"""Every page rendered in Traditional Chinese has no English word left, beyond a short
list: product and chip names, units, protocols, and code (commands, tokens, file
names) inside <code> or <pre>. What a user typed (names, file names) is theirs, and
is written in Chinese here so it cannot hide a stray English word."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

import pytest
from django.conf import settings

from deployments import services as deployment_services
from devices import services as device_services
from devices import tunnel_registry
from models_repo.choices import ModelSource
from models_repo.services import model_create_from_stream
from tests.conversion.factories import make_job
from tests.models_repo.conftest import nef_bytes
from tokens import services as token_services

pytestmark = pytest.mark.django_db

# Names of things, units and code a Chinese page shows as they are.
ALLOWED = {
    *("visionA", "Cloud", "Kneron", "ONNX", "NEF", "BIE", "API", "CLI", "CI", "USB"),
    *("SoC", "NPU", "MB", "KB", "GB", "TB", "UTC", "SHA", "Python", "Django"),
    *("KL520", "KL720", "KL530", "KL630", "KL730", "KL", "ID", "Bearer", "Authorization"),
    *("Member", "Center", "OpenID", "HTTP", "HTTPS", "JSON", "IP", "GET", "POST"),
    *("FAA", "ETag", "Accept"),  # Kneron's file service; HTTP headers (HTTP Accept)
    *("dongle", "Dongle", "Firmware"),
    "top",  # top-1, top-5: the metrics' names
    "p",  # p50, p90: the latency percentiles' names
    *("RGB", "BGR"),  # a run's channel order, as the device takes it
    "rest",  # the rollout phases' keyword (1, 20%, rest), typed as it is
    "cosine",  # an expectation's figure, typed as it is (cosine>=0.99, p50_ms<=20)
    "ms",  # milliseconds, a unit (p50_ms, 12 ms)
    "visiona",  # the command line's name
    "English",  # the language switch names each language in itself
}
# Attributes a user reads or hears.
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-label"}
SKIPPED = {"script", "style", "code", "pre", "kbd", "samp"}
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")  # noqa: RUF001


class VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skipping = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self.skipping += 1
        if tag == "option" and ("lang", "en") in attrs:
            self.skipping += 1  # "English", the other language's own name
            self.parts.append("English")
        self.parts += [value or "" for name, value in attrs if name in READ_ATTRIBUTES]

    def handle_endtag(self, tag):
        if tag in SKIPPED or tag == "option":
            self.skipping = max(0, self.skipping - 1)

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def english_words(html: str) -> list[str]:
    body = html.split("<body>", 1)[-1]
    parser = VisibleText()
    parser.feed(body)
    text = " ".join(parser.parts)
    # Addresses, file names, token prefixes, ids and time zone names are data.
    text = re.sub(
        r"https?://\S+|\S+\.(onnx|nef|png|whl)\b|vap_\S+|[0-9a-f-]{32,}|\b[A-Z][a-z]+/\w+",
        " ",
        text,
    )
    return sorted({word for word in WORD.findall(text) if word not in ALLOWED})


@pytest.fixture
def everything(alice, alice_client):
    alice.first_name, alice.last_name, alice.email = "愛麗絲", "", ""
    alice.save()
    done = make_job(alice, status="completed", filename="人臉偵測.onnx")
    failed = make_job(
        alice,
        status="failed",
        filename="失敗.onnx",
        error_code="quantization_failed",
        error_stage="bie",
        error_message="",
    )
    model = model_create_from_stream(
        owner=alice,
        name="人臉偵測",
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="m.nef",
        chunks=[nef_bytes(5000)],
        description="我們自己的攝影機",
    )
    device = device_services.device_pair(
        code=device_services.pairing_code_create(user=alice).code,
        serial="工作台-1",
        chip="KL720",
        name="工作台",
        client_address="192.0.2.1",
    ).device
    device_services.pairing_code_create(user=alice)
    # A failed deployment: its explanation is translated, the device's words stay code.
    deployment = deployment_services.deployments_create(
        user=alice, model_id=model.pk, device_ids=[device.pk]
    )[0].deployment
    deployment_services.deployment_report(
        device=device,
        deployment_id=deployment.pk,
        state="failed",
        error_code="checksum_mismatch",
        error_message="sha256 " + "ab" * 32 + " is not the model's " + "cd" * 32,
    )
    token = token_services.token_create(
        owner=alice, name="筆電", scopes=["read", "deploy"], expires_in_days=7
    ).token
    alice_client.post("/i18n/time-zone/", {"time_zone": "Asia/Taipei"})
    return {
        "home": "/",
        "convert": "/convert/",
        "history": "/conversions/",
        "job-completed": f"/convert/{done.job_id}/",
        "job-failed": f"/convert/{failed.job_id}/",
        "models": "/models/",
        "model-upload": "/models/upload/",
        "model": f"/models/{model.pk}/",
        "model-edit": f"/models/{model.pk}/edit/",
        "model-delete": f"/models/{model.pk}/delete/",
        "deploy": f"/devices/deploy/{model.pk}/",
        "deploy-progress": f"/devices/deploy/{model.pk}/progress/",
        "devices": "/devices/",
        "device": f"/devices/{device.pk}/",
        "device-rename": f"/devices/{device.pk}/rename/",
        "device-unpair": f"/devices/{device.pk}/unpair/",
        "pair": "/devices/pair/",
        "tokens": "/tokens/",
        "token-revoke": f"/tokens/{token.pk}/revoke/",
        "downloads": "/downloads/",
        "device-id": str(device.pk),
    }


def chinese(client, path: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    return client.get(path)


def test_every_page_is_in_chinese(alice_client, everything):
    # What identifies the user (in the user menu) is theirs, not the page's words.
    device_id = everything.pop("device-id")
    leftovers = {}
    for name, path in everything.items():
        response = chinese(alice_client, path)
        assert response.status_code == 200, name
        words = english_words(response.content.decode())
        if words:
            leftovers[name] = words
    # The device online (its tunnel open): the page then says what its agent reports.
    connection = uuid.uuid4().hex
    tunnel_registry.register(
        device_id=device_id, node_url="http://127.0.0.1:9", connection_id=connection
    )
    try:
        words = english_words(chinese(alice_client, f"/devices/{device_id}/").content.decode())
    finally:
        tunnel_registry.unregister(device_id=device_id, connection_id=connection)
    if words:
        leftovers["device-online"] = words
    assert not leftovers


def test_the_pages_of_a_new_pairing_code_and_a_new_token(alice, alice_client):
    alice.first_name, alice.email = "愛麗絲", ""
    alice.save()
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    pair = alice_client.post("/devices/pair/").content.decode()
    assert english_words(pair) == []
    token = alice_client.post(
        "/tokens/", {"name": "筆電", "scopes": ["read"], "expires_in_days": "30"}
    ).content.decode()
    assert english_words(token) == []


def test_the_sign_in_page(client):
    assert english_words(chinese(client, "/accounts/login/").content.decode()) == []


def test_the_admin_index_names_the_lockout_section_in_chinese(admin_client):
    page = chinese(admin_client, "/admin/").content.decode()
    assert ">登入鎖定</a>" in page and ">Axes<" not in page
    assert "登入嘗試" in page and "access attempts" not in page.lower()


def test_the_check_finds_english(alice_client):
    assert english_words("<body><p>已上線 (ready)</p><code>visiona login</code></body>") == [
        "ready"
    ]
