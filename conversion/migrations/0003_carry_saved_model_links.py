"""Carries every existing job -> model link over from the repository's old
``NefModel.source_job`` to ``ConversionJob.saved_model`` (and gives those models
a label, the job's file name), before models_repo 0004 drops that column.
Reversible: going back copies the links the other way.

A migration of its own, apart from the AddField: on PostgreSQL, rows written here
leave deferred constraint checks pending, and no table they touch may be altered
in the same transaction (which unapplying one migration with both would do).
"""

from django.db import migrations


def carry_links_over(apps, schema_editor):
    ConversionJob = apps.get_model("conversion", "ConversionJob")
    NefModel = apps.get_model("models_repo", "NefModel")
    saved = NefModel.objects.filter(source_job__isnull=False).values_list("pk", "source_job_id")
    for model_pk, job_id in saved:
        job = ConversionJob.objects.filter(job_id=job_id).first()
        if job is None:
            continue
        ConversionJob.objects.filter(pk=job.pk).update(saved_model_id=model_pk)
        NefModel.objects.filter(pk=model_pk, source_label="").update(
            source_label=job.filename or job.job_id
        )


def carry_links_back(apps, schema_editor):
    ConversionJob = apps.get_model("conversion", "ConversionJob")
    NefModel = apps.get_model("models_repo", "NefModel")
    linked = ConversionJob.objects.filter(saved_model__isnull=False)
    for job_id, model_pk in linked.values_list("job_id", "saved_model_id"):
        NefModel.objects.filter(pk=model_pk).update(source_job_id=job_id)


class Migration(migrations.Migration):

    dependencies = [
        ("conversion", "0002_conversionjob_saved_model"),
        ("models_repo", "0003_provenance"),
    ]
    # It reads NefModel.source_job, which models_repo 0004 removes.
    run_before = [
        ("models_repo", "0004_remove_nefmodel_source_job"),
    ]

    operations = [
        migrations.RunPython(carry_links_over, carry_links_back),
    ]
