"""Create the local sample account for development (`make run`)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

SAMPLE_USERNAME = "demo"
SAMPLE_PASSWORD = "demo"


class Command(BaseCommand):
    help = "Create the sample account demo/demo (development only; refuses when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("ensure_sample_user only runs with DEBUG on")
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=SAMPLE_USERNAME,
            defaults={
                "email": "demo@example.com",
                "first_name": "Demo",
                "oidc_sub": "sample-demo",
                "is_staff": True,
                "is_superuser": True,
            },
        )
        if created:
            user.set_password(SAMPLE_PASSWORD)
            user.save(update_fields=["password"])
        self.stdout.write(
            f"Sample account: {SAMPLE_USERNAME} / {SAMPLE_PASSWORD} "
            f"({'created' if created else 'already there'})"
        )
