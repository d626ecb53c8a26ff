"""Conversion owns its link to the saved model: ``ConversionJob.saved_model``
(0003 carries the existing links over from the repository)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("conversion", "0001_initial"),
        ("models_repo", "0003_provenance"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversionjob",
            name="saved_model",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="models_repo.nefmodel",
                verbose_name="saved as",
            ),
        ),
    ]
