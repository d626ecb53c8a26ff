import logging

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = _("Sandbox upstreams")

    def ready(self) -> None:
        from sandbox import checks  # importing registers the system check

        # gunicorn runs no system checks, so a production start-up says it here too.
        if settings.VISIONA_SANDBOX and not settings.DEBUG:
            logger.warning(checks.SANDBOX_IN_PRODUCTION)
