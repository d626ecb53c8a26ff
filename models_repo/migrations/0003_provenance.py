"""Provenance as the repository's own data: ``source_reference`` and ``source_label``.

A converted model's reference is its conversion job's id, copied here from the
``source_job_id`` column (which holds the job id). The label, and the link from
the job to the model, are conversion's to write (conversion 0002); the column
itself goes in 0004, after conversion has read it.
"""

from django.db import migrations, models


def copy_job_ids(apps, schema_editor):
    NefModel = apps.get_model("models_repo", "NefModel")
    for pk, job_id in NefModel.objects.filter(source_job__isnull=False).values_list(
        "pk", "source_job_id"
    ):
        NefModel.objects.filter(pk=pk).update(source_reference=job_id)


class Migration(migrations.Migration):

    dependencies = [
        ("models_repo", "0002_storage_and_checks"),
    ]

    operations = [
        migrations.AddField(
            model_name="nefmodel",
            name="source_reference",
            field=models.CharField(blank=True, max_length=128, verbose_name="source reference"),
        ),
        migrations.AddField(
            model_name="nefmodel",
            name="source_label",
            field=models.CharField(blank=True, max_length=255, verbose_name="source label"),
        ),
        migrations.RunPython(copy_job_ids, migrations.RunPython.noop, elidable=True),
    ]
