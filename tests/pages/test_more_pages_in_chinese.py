"""The pages test_every_page_in_chinese.py leaves out, in Traditional Chinese with no
English word left (the same check and allowlist): device groups, rollouts, runs, the
error pages, and Django admin's changelist and change form of every registered model."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from deployments import group_services, rollout_services
from deployments import services as deployment_services
from deployments.rollout_models import RolloutTarget
from deployments.run_models import Run
from deployments.run_tasks import run_compute_agreement
from devices import services as device_services
from models_repo.choices import ModelSource
from models_repo.services import model_create_from_stream
from tests.conversion.factories import make_job
from tests.deployments.rollout_support import report
from tests.models_repo.conftest import nef_bytes
from tests.pages.test_every_page_in_chinese import english_words
from tokens import services as token_services

pytestmark = pytest.mark.django_db


def chinese(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    return client


@pytest.fixture
def fleet(alice, settings, django_capture_on_commit_callbacks):
    """One of everything the fleet's pages and admin show, named in Chinese."""
    # Tasks wait in the database, as under the worker: admin lists them.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # Admin lists a row's owner by username: hers is in Chinese too.
    alice.username, alice.first_name, alice.last_name, alice.email = "愛麗絲", "愛麗絲", "", ""
    alice.is_staff = alice.is_superuser = True
    alice.save()
    make_job(alice, status="completed", filename="人臉偵測.onnx")
    model = model_create_from_stream(
        owner=alice,
        name="人臉偵測",
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="m.nef",
        chunks=[nef_bytes(5000)],
    )
    device = device_services.device_pair(
        code=device_services.pairing_code_create(user=alice).code,
        serial="工作台-1",
        chip="KL720",
        name="工作台",
        client_address="192.0.2.1",
    ).device
    device_services.pairing_code_create(user=alice)
    device_services.device_heartbeat(device=device, agent_status="ready")
    group = group_services.group_create(user=alice, name="實驗室", device_ids=[device.pk])
    with django_capture_on_commit_callbacks(execute=False):
        rollout = rollout_services.rollout_create(user=alice, model_id=model.pk, group_id=group.pk)
    deployment_services.deployments_create(user=alice, model_id=model.pk, device_ids=[device.pk])
    run = Run.objects.create(
        owner=alice,
        device=device,
        model=model,
        sha256=model.sha256,
        repeat=5,
        channel_order="RGB",
        scale="0-1",
        inputs_count=0,
        inputs_bytes=0,
    )
    # A device's failed install: its sentence is translated; the agent's words (a
    # hash here) are quoted after it.
    RolloutTarget.objects.filter(rollout=rollout).update(
        state="failed", reason_code="install_failed", reason="ab" * 32
    )
    group_services.device_pin(user=alice, device_id=device.pk, reason="維修中")
    group_services.group_pin(user=alice, group_id=group.pk, reason="展示中")
    token_services.token_create(owner=alice, name="筆電", scopes=["read"], expires_in_days=7)
    Group.objects.create(name="操作員")
    AccessAttempt.objects.create(username="某人", ip_address="192.0.2.9", failures_since_start=1)
    AccessLog.objects.create(username="某人", ip_address="192.0.2.9")
    AccessFailureLog.objects.create(username="某人", ip_address="192.0.2.9")
    run_compute_agreement.enqueue(str(run.pk))  # a row of the worker's queue
    assert DBTaskResult.objects.exists()
    return {"model": model, "device": device, "group": group, "rollout": rollout, "run": run}


def test_the_fleet_and_run_pages_are_in_chinese(alice_client, fleet):
    pages = {
        "groups": "/devices/groups/",
        "group": f"/devices/groups/{fleet['group'].pk}/",
        "rollouts": "/devices/rollouts/",
        "rollout-new": f"/devices/rollouts/new/?group={fleet['group'].pk}",
        "rollout": f"/devices/rollouts/{fleet['rollout'].pk}/",
        "rollout-rollback": f"/devices/rollouts/{fleet['rollout'].pk}/rollback/",
        "group-delete": f"/devices/groups/{fleet['group'].pk}/delete/",
        "devices": "/devices/",  # its device pinned, with its reason
        "runs": "/runs/",
        "run-new": f"/runs/new/{fleet['model'].pk}/",
        "run": f"/runs/{fleet['run'].pk}/",
        "tokens": "/tokens/",
    }
    leftovers = {}
    for name, path in pages.items():
        response = chinese(alice_client).get(path)
        assert response.status_code == 200, name
        if words := english_words(response.content.decode()):
            leftovers[name] = words
    assert not leftovers, "\n".join(f"{name}: {words}" for name, words in leftovers.items())


@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize(
    ("path", "status"), [("/test/forbidden", 403), ("/no-such-page/", 404), ("/test/broken", 500)]
)
def test_the_error_pages_are_in_chinese(alice, path, status):
    alice.first_name, alice.email = "愛麗絲", ""
    alice.save()
    client = chinese(Client(raise_request_exception=False))
    client.force_login(alice)
    response = client.get(path)
    assert response.status_code == status
    assert 'lang="zh-hant"' in response.content.decode()
    assert english_words(response.content.decode()) == []


# Admin shows what rows hold: the task's path and arguments, its queue's name, an
# empty JSON field, as stored (code, not words).
STORED = re.compile(
    r"(deployments\.run_tasks\.)?run_compute_agreement|\{&quot;args&quot;: .*?\}\}"
    r"|\{\"args\": .*?\}\}|>default<|>\s*null\s*<"
)
# Left as they are, each for its reason: Django's boolean icons' alt text (True /
# False) and its "hold down Control, or Command on a Mac" hint name keys; a
# third-party row's name is its model's __str__, in English, which admin shows as it
# is (axes' "Attempted Access: <time>" …, django-tasks' "DBTaskResult object (<id>)").
ADMIN_ALLOWED = {"True", "False", "Control", "Command", "Mac"}
THIRD_PARTY_ROW_NAMES = re.compile(
    r"Attempted Access: |Access Log for \S+ @ |DBTaskResult object "
    r"|Failed access: user \S+ (locked out )?on \S+ \S+ from [0-9a-f.:]+"
)


def admin_words(html: str) -> list[str]:
    html = THIRD_PARTY_ROW_NAMES.sub(" ", STORED.sub("> <", html))
    return [word for word in english_words(html) if word not in ADMIN_ALLOWED]


def admin_pages(fleet) -> dict[str, str]:
    """The index, every registered model's changelist and the change form of its first row."""
    pages = {"index": reverse("admin:index")}
    for model in admin.site._registry:
        label = f"{model._meta.app_label}_{model._meta.model_name}"
        pages[f"{label} list"] = reverse(f"admin:{label}_changelist")
        row = model.objects.first()
        assert row is not None, f"the fixture makes no {label}"
        pages[f"{label} change"] = reverse(f"admin:{label}_change", args=[row.pk])
    return pages


def test_django_admin_is_in_chinese_for_every_registered_model(alice, fleet):
    client = chinese(Client())
    client.force_login(alice)
    leftovers = {}
    for name, path in admin_pages(fleet).items():
        response = client.get(path)
        assert response.status_code == 200, name
        if words := admin_words(response.content.decode()):
            leftovers[name] = words
    assert not leftovers, "\n".join(f"{name}: {words}" for name, words in leftovers.items())


def test_the_rollback_questions_are_in_chinese(alice_client, alice):
    """A group's and a device's "Roll back": who gets what back, who keeps what, and why."""
    alice.first_name, alice.email = "愛麗絲", ""  # the header names her
    alice.save()
    devices = [
        device_services.device_pair(
            code=device_services.pairing_code_create(user=alice).code,
            serial=f"工作台-{number}",
            chip="KL720",
            name=f"工作台{number}",
            client_address="192.0.2.1",
        ).device
        for number in (1, 2)
    ]
    for name, size in (("人臉偵測一版", 5000), ("人臉偵測二版", 6000)):
        model = model_create_from_stream(
            owner=alice,
            name=name,
            chips=["KL720"],
            source=ModelSource.UPLOADED,
            filename="m.nef",
            chunks=[nef_bytes(size)],
        )
        (result,) = deployment_services.deployments_create(
            user=alice, model_id=model.pk, device_ids=[devices[0].pk]
        )
        report(devices[0], result.deployment, "installed")
    group = group_services.group_create(
        user=alice, name="實驗室", device_ids=[device.pk for device in devices]
    )
    pages = {
        "group-rollback": f"/devices/groups/{group.pk}/rollback/",
        "device-rollback": f"/devices/{devices[0].pk}/rollback/",
    }
    leftovers = {}
    for name, path in pages.items():
        response = chinese(alice_client).get(path)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert "人臉偵測一版" in html, name  # what comes back
        if words := english_words(html):
            leftovers[name] = words
    assert not leftovers, "\n".join(f"{name}: {words}" for name, words in leftovers.items())
