"""Deleting a model in use: the confirmation says which devices, runs and rollouts use
it; afterwards the pages that name it show its name, marked deleted, and no link to
its page (a 404 now)."""

from __future__ import annotations

import pytest

from tests.deployments.rollout_support import create as create_rollout
from tests.deployments.run_support import installed_model
from tests.deployments.test_run_api import create as create_run

pytestmark = pytest.mark.django_db


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


@pytest.fixture
def in_use(alice, alice_client, alice_device, fleet):
    """Alice's model, installed on her device, run once there, and rolled out to a group."""
    model, _built, _nef = installed_model(alice, alice_device.device, name="sorter")
    run = create_run(alice_client, model, alice_device.device).json()
    group, _devices = fleet(2)
    rollout = create_rollout(alice, model, group)
    return model, alice_device.device, run["id"], rollout


def test_the_confirmation_names_what_uses_the_model(alice_client, in_use):
    model, device, _run_id, rollout = in_use
    html = page(alice_client, f"/models/{model.pk}/delete/")
    uses = html.split('id="model-uses"')[1].split("</form>")[0]
    assert "This model is in use." in uses
    assert "On 1 device" in uses
    assert f'href="/devices/{device.pk}/">{device.name}</a>' in uses and "Installed" in uses
    assert "In 1 rollout" in uses
    assert f'href="/devices/rollouts/{rollout.pk}/">{rollout.group_name}</a>' in uses
    # Under way: the user is told it goes on, and how to stop it.
    assert "pause it or roll it back first" in uses
    assert "Used by 1 run" in uses and f'href="/runs/?model={model.pk}"' in uses


def test_an_unused_model_has_nothing_to_warn_about(alice, alice_client, make_model):
    model = make_model(alice, "idle")
    html = page(alice_client, f"/models/{model.pk}/delete/")
    assert 'id="model-uses"' not in html
    assert "marked as deleted" not in html


def test_in_chinese_too(alice_client, in_use):
    model = in_use[0]
    alice_client.cookies["django_language"] = "zh-hant"
    html = page(alice_client, f"/models/{model.pk}/delete/")
    assert "此模型正在使用中。" in html and "This model is in use." not in html


def test_after_the_delete_pages_name_it_without_a_link(alice_client, in_use):
    model, device, run_id, rollout = in_use
    response = alice_client.post(f"/models/{model.pk}/delete/")
    assert response.status_code == 302
    assert alice_client.get(f"/models/{model.pk}/").status_code == 404
    for path in (
        f"/runs/{run_id}/",
        f"/devices/rollouts/{rollout.pk}/",
        f"/devices/{device.pk}/",
        f"/runs/?model={model.pk}",
    ):
        html = page(alice_client, path)
        assert f'href="/models/{model.pk}/"' not in html, path
        assert "sorter" in html and "(deleted)" in html, path


def test_a_live_model_is_still_a_link(alice_client, in_use):
    model, _device, run_id, rollout = in_use
    for path in (f"/runs/{run_id}/", f"/devices/rollouts/{rollout.pk}/"):
        html = page(alice_client, path)
        assert f'href="/models/{model.pk}/"' in html and "(deleted)" not in html
