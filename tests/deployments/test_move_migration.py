"""Moving deployments from devices to their own app (devices 0004, deployments 0001 and
0002) changes Django's state only: rows made under the old state are all there after,
in the same tables, and again when the move is unapplied; the content types (with
their permissions) follow the models. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("devices", "0003_deployments")]
AFTER = [("devices", "0004_deployments_move_out"), ("deployments", "0002_content_types")]
TABLES = {"devices_deployment", "devices_deploymentevent"}
MOVED = ("deployment", "deploymentevent")


def _migrate(targets):
    """Migrate these apps to these migrations, every other app to its latest."""
    executor = MigrationExecutor(connection)
    named = {app for app, _name in targets} | {"deployments"}
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in named]
    executor.migrate([*targets, *others])
    executor.loader.build_graph()
    return executor.loader.project_state([*targets, *others]).apps


def _old_rows(apps) -> dict:
    """Two deployments (one finished) with their events, and the old content types."""
    User = apps.get_model("visiona", "User")
    Device = apps.get_model("devices", "Device")
    NefModel = apps.get_model("models_repo", "NefModel")
    Deployment = apps.get_model("devices", "Deployment")
    Event = apps.get_model("devices", "DeploymentEvent")
    owner = User.objects.create(username="alice")
    device = Device.objects.create(owner=owner, serial="SN-1", name="bench", chip="KL720")
    model = NefModel.objects.create(
        owner=owner, name="yolo", source="uploaded", file="x.nef", size_bytes=5, sha256="a" * 64
    )
    at = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    common = {"device": device, "model": model, "created_by": owner, "size_bytes": 5}
    pending = Deployment.objects.create(sha256="a" * 64, **common)
    installed = Deployment.objects.create(
        sha256="b" * 64, state="installed", bytes_done=5, finished_at=at, **common
    )
    Event.objects.create(deployment=pending, state="pending", at=at)
    Event.objects.create(deployment=installed, state="installed", at=at, bytes_done=5)
    return {
        "pending": pending.pk,
        "installed": installed.pk,
        "content_types": _old_content_types(apps),
    }


def _old_content_types(apps) -> dict[str, int]:
    # A database made before the move has the types under devices, and none under
    # deployments: made here afresh, whatever this test database was given at its start.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    ContentType.objects.filter(model__in=MOVED).delete()
    ids = {}
    for model in MOVED:
        content_type = ContentType.objects.create(app_label="devices", model=model)
        Permission.objects.create(
            content_type=content_type, codename=f"change_{model}", name=f"Can change {model}"
        )
        ids[model] = content_type.pk
    return ids


def _check_rows(apps, app_label: str, made: dict) -> None:
    Deployment = apps.get_model(app_label, "Deployment")
    assert Deployment._meta.db_table == "devices_deployment"
    pending = Deployment.objects.get(pk=made["pending"])
    installed = Deployment.objects.get(pk=made["installed"])
    assert (pending.state, pending.sha256, pending.finished_at) == ("pending", "a" * 64, None)
    assert (installed.state, installed.bytes_done) == ("installed", 5)
    assert pending.device.serial == installed.device.serial == "SN-1"
    assert [event.state for event in pending.events.all()] == ["pending"]
    assert [event.state for event in installed.events.all()] == ["installed"]
    assert Deployment.objects.count() == 2


def _content_types(apps) -> dict[str, tuple[str, list[str]]]:
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.clear_cache()
    return {
        content_type.model: (
            content_type.app_label,
            list(content_type.permission_set.values_list("codename", flat=True)),
        )
        for content_type in ContentType.objects.filter(model__in=MOVED)
    }


def test_rows_stay_in_their_tables_and_the_content_types_follow():
    try:
        made = _old_rows(_migrate(BEFORE))

        apps = _migrate(AFTER)
        assert set(connection.introspection.table_names()) >= TABLES
        _check_rows(apps, "deployments", made)
        types = _content_types(apps)
        assert types == {
            "deployment": ("deployments", ["change_deployment"]),
            "deploymentevent": ("deployments", ["change_deploymentevent"]),
        }
        ContentType = apps.get_model("contenttypes", "ContentType")
        assert {
            content_type.model: content_type.pk
            for content_type in ContentType.objects.filter(model__in=MOVED)
        } == made["content_types"]

        apps = _migrate(BEFORE)
        _check_rows(apps, "devices", made)
        assert {app for app, _permissions in _content_types(apps).values()} == {"devices"}
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_the_move_writes_nothing_to_the_database():
    """The state-only operations hold no SQL: no table is renamed, copied or locked."""
    executor = MigrationExecutor(connection)
    plan = [
        (executor.loader.graph.nodes[key], False)
        for key in [("devices", "0004_deployments_move_out"), ("deployments", "0001_initial")]
    ]
    statements = executor.loader.collect_sql(plan)
    assert statements  # the operations' descriptions, as sqlmigrate shows them
    assert [line for line in statements if not line.startswith("--")] == []
