"""Deployments, moved from devices (devices/migrations/0004_deployments_move_out.py).

State only: the tables devices/migrations/0003_deployments.py made keep their names
(``db_table``) and their rows; nothing is written to the database here.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('devices', '0004_deployments_move_out'),
        ('models_repo', '0002_storage_and_checks'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Deployment',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('state', models.CharField(choices=[('pending', 'Waiting for the device'), ('downloading', 'Downloading'), ('verifying', 'Verifying'), ('installed', 'Installed'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='pending', max_length=16, verbose_name='state')),
                        ('sha256', models.CharField(max_length=64, verbose_name='SHA-256')),
                        ('size_bytes', models.BigIntegerField(verbose_name='size (bytes)')),
                        ('bytes_done', models.BigIntegerField(default=0, verbose_name='bytes done')),
                        ('bytes_total', models.BigIntegerField(blank=True, null=True, verbose_name='bytes total')),
                        ('error_code', models.CharField(blank=True, max_length=64, verbose_name='error code')),
                        ('error_message', models.CharField(blank=True, max_length=500, verbose_name='error message')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                        ('device', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deployments', to='devices.device', verbose_name='device')),
                        ('model', models.ForeignKey(on_delete=django.db.models.deletion.RESTRICT, related_name='+', to='models_repo.nefmodel', verbose_name='model')),
                    ],
                    options={
                        'verbose_name': 'deployment',
                        'verbose_name_plural': 'deployments',
                        'db_table': 'devices_deployment',
                        'ordering': ['-created_at', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='DeploymentEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('state', models.CharField(choices=[('pending', 'Waiting for the device'), ('downloading', 'Downloading'), ('verifying', 'Verifying'), ('installed', 'Installed'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], max_length=16, verbose_name='state')),
                        ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                        ('bytes_done', models.BigIntegerField(default=0, verbose_name='bytes done')),
                        ('error_code', models.CharField(blank=True, max_length=64, verbose_name='error code')),
                        ('error_message', models.CharField(blank=True, max_length=500, verbose_name='error message')),
                        ('deployment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='deployments.deployment', verbose_name='deployment')),
                    ],
                    options={
                        'verbose_name': 'deployment event',
                        'verbose_name_plural': 'deployment events',
                        'db_table': 'devices_deploymentevent',
                        'ordering': ['at', 'pk'],
                    },
                ),
                migrations.AddIndex(
                    model_name='deployment',
                    index=models.Index(fields=['device', 'state', 'created_at'], name='devices_deploy_work'),
                ),
                migrations.AddIndex(
                    model_name='deployment',
                    index=models.Index(fields=['device', '-created_at'], name='devices_deploy_device_new'),
                ),
                migrations.AddConstraint(
                    model_name='deployment',
                    constraint=models.UniqueConstraint(condition=models.Q(('state__in', ('pending', 'downloading', 'verifying'))), fields=('device', 'model'), name='devices_one_unfinished_deployment'),
                ),
                migrations.AddConstraint(
                    model_name='deployment',
                    constraint=models.CheckConstraint(condition=models.Q(('bytes_done__gte', 0), ('size_bytes__gte', 0)), name='devices_deployment_bytes_not_negative'),
                ),
                migrations.AddConstraint(
                    model_name='deployment',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('finished_at__isnull', True), ('state__in', ('pending', 'downloading', 'verifying'))), models.Q(models.Q(('state__in', ('pending', 'downloading', 'verifying')), _negated=True), ('finished_at__isnull', False)), _connector='OR'), name='devices_deployment_finished_matches_state'),
                ),
            ],
            database_operations=[],
        ),
    ]
