"""The repository no longer points at conversion: the job -> model link is
conversion's own (``ConversionJob.saved_model``, carried over by conversion 0002,
which runs before this one)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("models_repo", "0003_provenance"),
    ]

    operations = [
        migrations.RemoveField(model_name="nefmodel", name="source_job"),
    ]
