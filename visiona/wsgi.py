"""WSGI entry point: ``gunicorn visiona.wsgi -k gthread``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "visiona.settings")

application = get_wsgi_application()
