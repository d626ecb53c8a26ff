"""Build the agent's wheel (client/) into CLIENT_DOWNLOADS_DIR, for /downloads/."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from devices.client_package import ClientBuildError, build_wheel


class Command(BaseCommand):
    help = "Build the visiona-client wheel that visionA serves at /downloads/ (offline)."

    def handle(self, *args, **options) -> None:
        try:
            wheel = build_wheel()
        except ClientBuildError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Built {wheel}")
