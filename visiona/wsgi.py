"""WSGI entry point: ``gunicorn visiona.wsgi -k gthread``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "visiona.settings")

application = get_wsgi_application()

# Temporary upload files a killed process left behind (visiona/upload_tmp.py).
from visiona.upload_tmp import sweep_abandoned  # noqa: E402  (needs the app set up)

sweep_abandoned()
