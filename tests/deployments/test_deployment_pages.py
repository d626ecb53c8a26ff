"""Deployment pages: deploy from the model page, follow the progress, the device page's part."""

from __future__ import annotations

import re
import uuid
from datetime import UTC

import pytest

from deployments import services
from deployments.models import Deployment
from devices import services as device_services
from devices.choices import Chip

pytestmark = pytest.mark.django_db


def page(client, path, language="en"):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_model_page_links_to_deploy(alice_client, alice_kl720):
    html = page(alice_client, f"/models/{alice_kl720.pk}/")
    assert f'href="/devices/deploy/{alice_kl720.pk}/"' in html
    assert "Deploy to devices" in html


@pytest.mark.parametrize(
    ("language", "title", "reason"),
    [
        ("en", "Deploy to devices", "Built for KL720; this device has a KL520."),
        ("zh-hant", "部署到裝置", "此模型適用於 KL720；這台裝置是 KL520。"),  # noqa: RUF001
    ],
)
def test_the_deploy_page_lists_devices_and_disables_the_incompatible(
    alice_client, alice_kl720, alice_devices, language, title, reason
):
    (good,) = alice_devices(1)
    (wrong,) = alice_devices(1, chip=Chip.KL520)
    html = page(alice_client, f"/devices/deploy/{alice_kl720.pk}/", language)
    assert title in html
    assert reason in html
    good_box = re.search(rf'<input[^>]*value="{good.device.pk}"[^>]*>', html).group(0)
    wrong_box = re.search(rf'<input[^>]*value="{wrong.device.pk}"[^>]*>', html).group(0)
    assert "disabled" not in good_box
    assert "disabled" in wrong_box
    assert f'aria-describedby="reason-{wrong.device.pk}"' in wrong_box
    assert good.device.name in html and "KL520" in html


def test_deploying_creates_and_shows_the_progress(alice_client, alice_kl720, alice_devices):
    devices = alice_devices(2)
    response = alice_client.post(
        f"/devices/deploy/{alice_kl720.pk}/",
        {"device_ids": [str(d.device.pk) for d in devices]},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/devices/deploy/{alice_kl720.pk}/progress/"
    html = response.content.decode()
    # Not a green "sent" above what may still fail: the devices are offline (no tunnel).
    assert "2 devices are offline: the model waits for them" in html
    assert "message-success" not in html
    assert Deployment.objects.count() == 2
    for deployment in Deployment.objects.all():
        assert f'data-deployment-id="{deployment.pk}"' in html
    assert 'aria-live="polite"' in html
    assert 'id="deployment-progress-data"' in html
    assert "js/deployments-progress.js" in html
    assert "<script>" not in html  # no inline script (CSP)


def test_an_unpaired_device_leaves_the_progress_page(
    alice_client, alice, alice_kl720, alice_devices
):
    kept, gone = (result.device for result in alice_devices(2))
    services.deployments_create(user=alice, model_id=alice_kl720.pk, device_ids=[kept.pk, gone.pk])
    device_services.device_unpair(device=gone)

    html = page(alice_client, f"/devices/deploy/{alice_kl720.pk}/progress/")
    assert f'href="/devices/{kept.pk}/"' in html
    assert str(gone.pk) not in html  # no row, no link to its page (a 404 now)
    assert Deployment.objects.filter(device=gone).exists()  # its history stays


def test_deploy_refusals_are_readable_and_create_nothing(alice_client, alice_kl720, alice_devices):
    (wrong,) = alice_devices(1, chip=Chip.KL520)
    alice_devices(1)  # one that fits: the page offers Deploy
    nothing = alice_client.post(f"/devices/deploy/{alice_kl720.pk}/", {})
    assert nothing.status_code == 400
    assert "Choose at least one device." in nothing.content.decode()
    mismatch = alice_client.post(
        f"/devices/deploy/{alice_kl720.pk}/", {"device_ids": [str(wrong.device.pk)]}
    )
    assert mismatch.status_code == 400
    assert "not built for the chip" in mismatch.content.decode()
    unknown = alice_client.post(
        f"/devices/deploy/{alice_kl720.pk}/", {"device_ids": ["junk", str(uuid.uuid4())]}
    )
    assert unknown.status_code == 400
    assert not Deployment.objects.exists()


def test_another_users_model_pages_are_404(bob_client, alice_kl720):
    for path in (
        f"/devices/deploy/{alice_kl720.pk}/",
        f"/devices/deploy/{alice_kl720.pk}/progress/",
    ):
        assert bob_client.get(path).status_code == 404
    assert bob_client.post(f"/devices/deploy/{alice_kl720.pk}/", {}).status_code == 404


@pytest.fixture
def deployment(alice, alice_kl720, alice_device):
    return services.deployments_create(
        user=alice, model_id=alice_kl720.pk, device_ids=[alice_device.device.pk]
    )[0].deployment


@pytest.mark.parametrize(
    ("language", "heading", "offline"),
    [
        ("en", "Models on the device", "The device is not connected: its models cannot be read"),
        ("zh-hant", "裝置上的模型", "裝置未連線：目前無法讀取其模型"),  # noqa: RUF001
    ],
)
def test_the_device_page_shows_history_and_a_clear_offline_state(
    alice_client, alice_device, deployment, language, heading, offline
):
    html = page(alice_client, f"/devices/{alice_device.device.pk}/", language)
    assert heading in html
    assert offline in html
    assert "detector" in html
    assert f'action="/devices/deployments/{deployment.pk}/cancel/"' in html


def test_cancel_from_a_page_goes_back_and_says_so(alice_client, alice_device, deployment):
    back = f"/devices/{alice_device.device.pk}/"
    response = alice_client.post(
        f"/devices/deployments/{deployment.pk}/cancel/", {"next": back}, follow=True
    )
    assert response.redirect_chain[-1][0] == back
    assert "The deployment is cancelled." in response.content.decode()
    deployment.refresh_from_db()
    assert deployment.state == "cancelled"
    again = alice_client.post(
        f"/devices/deployments/{deployment.pk}/cancel/", {"next": "https://evil.example/"}
    )
    assert again["Location"] == back  # an outside address is not followed


def test_another_user_cannot_cancel(bob_client, deployment):
    assert bob_client.post(f"/devices/deployments/{deployment.pk}/cancel/").status_code == 404
    deployment.refresh_from_db()
    assert deployment.state == "pending"


def test_deployment_times_are_local_time_elements(
    alice_client, alice_kl720, alice_device, deployment
):
    # As on every list: <time data-local>, so a page in the session's zone reloads in the
    # browser's when they differ (visiona/templatetags/local_time.py).
    iso = deployment.created_at.astimezone(UTC).isoformat(timespec="seconds")
    history = page(alice_client, f"/devices/{alice_device.device.pk}/")
    assert f'<time datetime="{iso}"' in history
    deploy = page(alice_client, f"/devices/deploy/{alice_kl720.pk}/")
    assert "Last deployment of this model" in deploy
    assert "data-local" in deploy.split("Last deployment of this model")[1][:400]


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "None of your devices can take this model: it is built for KL720, and your"),
        ("zh-hant", "您的裝置都無法使用這個模型"),
    ],
)
def test_when_no_device_fits_the_page_says_so_and_deploy_is_off(
    alice_client, alice_kl720, alice_devices, language, said
):
    alice_devices(2, chip=Chip.KL520)
    html = page(alice_client, f"/devices/deploy/{alice_kl720.pk}/", language)
    assert said in html
    button = re.search(r'<button type="submit" class="button button-primary"[^>]*>', html).group(0)
    assert "disabled" in button and 'aria-describedby="none-fits"' in button
    pressed = alice_client.post(f"/devices/deploy/{alice_kl720.pk}/", {}).content.decode()
    assert "None of your devices can take this model" in pressed
    assert "Choose at least one device." not in pressed
    assert not Deployment.objects.exists()


def test_deploy_stays_on_when_one_device_fits(alice_client, alice_kl720, alice_devices):
    alice_devices(1, chip=Chip.KL520)
    alice_devices(1)
    html = page(alice_client, f"/devices/deploy/{alice_kl720.pk}/")
    assert "None of your devices" not in html
    assert "disabled" not in re.search(
        r'<button type="submit" class="button button-primary"[^>]*>', html
    ).group(0)
