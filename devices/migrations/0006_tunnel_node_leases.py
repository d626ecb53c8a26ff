"""The registry's entries live under their relay node's lease; heartbeats apart.

Registry rows are a live cache of connected tunnels: they are emptied here and
the relay nodes write them again when their agents reconnect.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F


def forget_registrations(apps, schema_editor):
    apps.get_model("devices", "TunnelRegistration").objects.all().delete()


def heartbeats_from_last_seen(apps, schema_editor):
    # Until now every sign of life was a heartbeat.
    apps.get_model("devices", "Device").objects.update(last_heartbeat_at=F("last_seen_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0005_relay_slot"),
    ]

    operations = [
        migrations.CreateModel(
            name="TunnelNode",
            fields=[
                (
                    "node_id",
                    models.CharField(
                        max_length=32, primary_key=True, serialize=False, verbose_name="relay node id"
                    ),
                ),
                ("node_url", models.CharField(max_length=200, verbose_name="relay node")),
                ("renewed_at", models.DateTimeField(verbose_name="renewed at")),
                ("expires_at", models.DateTimeField(db_index=True, verbose_name="expires at")),
            ],
            options={
                "verbose_name": "tunnel relay node",
                "verbose_name_plural": "tunnel relay nodes",
            },
        ),
        migrations.RunPython(forget_registrations, migrations.RunPython.noop),
        migrations.RemoveField(model_name="tunnelregistration", name="expires_at"),
        migrations.RemoveField(model_name="tunnelregistration", name="refreshed_at"),
        migrations.RemoveField(model_name="tunnelregistration", name="node_url"),
        migrations.AddField(
            model_name="tunnelregistration",
            name="node",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="devices.tunnelnode",
                verbose_name="relay node",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="device",
            name="last_heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last heartbeat"),
        ),
        migrations.RunPython(heartbeats_from_last_seen, migrations.RunPython.noop),
    ]
