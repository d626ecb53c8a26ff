"""Rollouts remember that they have a smoke gate (``smoke_gate``).

The gate was read from ``smoke_run`` alone, which is SET_NULL: deleting the run chosen
for its inputs turned a gated rollout into an ungated one. Existing rollouts with their
smoke run get the flag; one whose run is already gone cannot be told from one that never
had a gate.
"""

from django.db import migrations, models


def gate_rollouts_with_a_smoke_run(apps, schema_editor):
    Rollout = apps.get_model("deployments", "Rollout")
    Rollout.objects.filter(smoke_run__isnull=False).update(smoke_gate=True)


class Migration(migrations.Migration):
    dependencies = [
        ("deployments", "0008_rollout_smoke_expect"),
    ]

    operations = [
        migrations.AddField(
            model_name="rollout",
            name="smoke_gate",
            field=models.BooleanField(default=False, verbose_name="smoke gate"),
        ),
        migrations.RunPython(gate_rollouts_with_a_smoke_run, migrations.RunPython.noop),
    ]
