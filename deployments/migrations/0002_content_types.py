"""Deployments' content types follow the models to this app, with their permissions
(``change_deployment``, ...) and the admin's history of each row.

A database made before the move has them under ``devices``; a new one has none yet
(Django makes them after migrating). A ``deployments`` one already there is kept.
"""

from django.db import migrations

MOVED = ("deployment", "deploymentevent")


def _relabel(apps, schema_editor, *, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    taken = types.filter(app_label=target, model__in=MOVED).values_list("model", flat=True)
    types.filter(app_label=source, model__in=MOVED).exclude(model__in=list(taken)).update(
        app_label=target
    )
    ContentType.objects.clear_cache()


def forwards(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, source="devices", target="deployments")


def backwards(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, source="deployments", target="devices")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("deployments", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
