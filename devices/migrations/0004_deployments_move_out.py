"""Deployments moved to their own app (deployments/): Django forgets them here.

State only: the tables stay where they are, and deployments' 0001_initial takes
them over under the same names. No dependency on deployments, so devices still
points at no app above it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0003_deployments"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="deploymentevent", name="deployment"),
                migrations.DeleteModel(name="Deployment"),
                migrations.DeleteModel(name="DeploymentEvent"),
            ],
            database_operations=[],
        ),
    ]
