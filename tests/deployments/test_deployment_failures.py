"""A failed deployment explained: a sentence for every error code the agent reports
(what happened, what to do), in both languages, on the progress page, the device page
and in the API; Retry where deploying again can help, as a new deployment through the
same service; and the device page's table keeps a long hash inside its card."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.utils import translation

from deployments import failures, services
from deployments.models import Deployment
from devices import tunnel_registry

pytestmark = pytest.mark.django_db

LONG = "sha256 " + "ab" * 32 + " is not the model's " + "cd" * 32
CODES = ["checksum_mismatch", "crc_mismatch", "download_failed", "install_failed"]
CODES += ["chip_mismatch", "too_large"]


@pytest.fixture
def failed(alice, alice_kl720, alice_device):
    def fail(code: str, message: str = LONG) -> Deployment:
        deployment = services.deployments_create(
            user=alice, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
        )[0].deployment
        return services.deployment_report(
            device=alice_device.device,
            deployment_id=deployment.pk,
            state="failed",
            error_code=code,
            error_message=message,
        )

    return fail


def page(client, path: str, language: str = "en") -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_every_code_the_agent_reports_is_explained_in_both_languages():
    assert set(failures.KNOWN_CODES) == set(CODES)
    for code in CODES:
        deployment = Deployment(state="failed", error_code=code)
        english = failures.failure_of(deployment)
        with translation.override("zh-hant"):
            chinese = failures.failure_of(deployment)
        assert english.summary and english.next_step, code
        assert chinese.summary != english.summary and chinese.next_step != english.next_step
    assert failures.failure_of(Deployment(state="installed")) is None
    unknown = failures.failure_of(Deployment(state="failed", error_code="gremlins"))
    assert "gremlins" in unknown.summary and unknown.retry


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_the_pages_explain_a_failure_and_offer_retry(
    alice_client, alice_kl720, alice_device, failed, language
):
    deployment = failed("checksum_mismatch")
    explained = failures.failure_of(deployment)
    with translation.override(language):
        explained = failures.failure_of(deployment)
    for path in (
        f"/devices/deploy/{alice_kl720.pk}/progress/",
        f"/devices/{alice_device.device.pk}/",
    ):
        html = page(alice_client, path, language)
        assert explained.summary in html and explained.next_step in html, path
        assert f'action="/devices/deployments/{deployment.pk}/retry/"' in html, path
        assert '<code class="checksum" lang="en"' in html  # the device's words, as a detail


def test_no_retry_where_it_cannot_help(alice_client, alice_kl720, failed):
    deployment = failed("crc_mismatch")
    html = page(alice_client, f"/devices/deploy/{alice_kl720.pk}/progress/")
    assert "Deploying it again will not help" in html
    retry = f'action="/devices/deployments/{deployment.pk}/retry/" class="retry-form"'
    assert f'{retry} data-role="retry" hidden' in html
    response = alice_client.post(f"/devices/deployments/{deployment.pk}/retry/")
    assert response.status_code == 302
    assert Deployment.objects.count() == 1


def test_retry_makes_a_new_deployment_and_goes_back(alice_client, alice_kl720, failed):
    deployment = failed("download_failed")
    back = f"/devices/deploy/{alice_kl720.pk}/progress/"
    response = alice_client.post(
        f"/devices/deployments/{deployment.pk}/retry/", {"next": back}, follow=True
    )
    assert response.redirect_chain[-1][0] == back
    again = Deployment.objects.exclude(pk=deployment.pk).get()
    assert (again.state, again.model_id, again.device_id) == (
        "pending",
        deployment.model_id,
        deployment.device_id,
    )
    assert "1 device is offline: the model waits for it" in response.content.decode()


def test_retry_to_a_connected_device_says_sent(alice_client, alice_kl720, alice_device, failed):
    deployment = failed("too_large", "9 bytes do not fit")
    device_id, connection = str(alice_device.device.pk), uuid.uuid4().hex
    tunnel_registry.register(
        device_id=device_id, node_url="http://127.0.0.1:9", connection_id=connection
    )
    try:
        response = alice_client.post(f"/devices/deployments/{deployment.pk}/retry/", follow=True)
    finally:
        tunnel_registry.unregister(device_id=device_id, connection_id=connection)
    assert "Sent to 1 device: follow it below." in response.content.decode()


def test_another_user_cannot_retry(bob_client, failed):
    deployment = failed("download_failed")
    assert bob_client.post(f"/devices/deployments/{deployment.pk}/retry/").status_code == 404
    assert Deployment.objects.count() == 1


def test_the_api_explains_it_too(alice_client, failed):
    deployment = failed("install_failed", "disk full")
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    body = alice_client.get(f"/api/deployments/{deployment.pk}").json()
    assert body["failure"]["code"] == "install_failed" and body["failure"]["retry"] is True
    assert "磁碟" in body["failure"]["summary"]
    assert body["error_message"] == "disk full"  # the device's own words, unchanged


def test_a_pending_deployment_to_an_offline_device_says_it_waits(
    alice_client, alice_kl720, alice, alice_device
):
    services.deployments_create(
        user=alice, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
    )
    html = page(alice_client, f"/devices/deploy/{alice_kl720.pk}/progress/")
    assert 'data-role="waiting">The device is offline: the model waits for it' in html
