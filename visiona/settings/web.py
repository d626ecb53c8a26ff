"""What the site serves and how: languages, static and stored files, security headers,
logging."""

import contextlib
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from visiona.env import env_bool, env_int, env_origin, env_str
from visiona.settings.auth import OIDC_OP_END_SESSION_ENDPOINT, OIDC_OP_ISSUER
from visiona.settings.core import BASE_DIR, DATA_DIR, DEBUG
from visiona.settings.services import FILE_UPLOAD_MAX_MEMORY_SIZE, MODELS_STORAGE_S3_BUCKET

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hant", _("Traditional Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Times show in the browser's zone (sent once, kept on the session); this one until then.
TIME_ZONE = env_str("TIME_ZONE", "UTC")
# One date-and-time format per language (visiona/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["visiona.formats"]
USE_I18N = True
USE_TZ = True

# --- Static and stored files ----------------------------------------------
STATIC_URL = "/static/"
# Collected files belong to the build (the image), not to the data: a volume mounted
# on the data folder must not hide them. nginx serves them (and the error pages that
# `manage.py write_error_pages` writes under errors/) in production (docs/streams.md).
STATIC_ROOT = Path(env_str("VISIONA_STATIC_ROOT") or BASE_DIR / "staticfiles").resolve()
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise warns at start-up about a missing STATIC_ROOT; a checkout has none yet.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(exist_ok=True)
# The image's build collects the static files with their manifest and leaves this file
# beside them (Dockerfile). Where it is, the manifest is used whatever the environment
# says: an env file copied from .env.example cannot turn off what the image relies on.
STATIC_MANIFEST_MARKER = ".collected-by-image-build"


def static_manifest_on(static_root: Path) -> bool:
    """Hashed, compressed files from collectstatic's manifest: always in the image;
    in a checkout only when asked for (it would serve stale files after an edit)."""
    return (static_root / STATIC_MANIFEST_MARKER).is_file() or env_bool(
        "VISIONA_STATIC_MANIFEST", False
    )


_STATIC_MANIFEST = static_manifest_on(STATIC_ROOT)
# Without collectstatic (a checkout), WhiteNoise serves straight from the source folders.
WHITENOISE_USE_FINDERS = not _STATIC_MANIFEST
MEDIA_ROOT = DATA_DIR / "media"
if MODELS_STORAGE_S3_BUCKET:
    _MODELS_STORAGE = {
        "BACKEND": "visiona.s3_storage.PublicEndpointS3Storage",
        "OPTIONS": {
            "bucket_name": MODELS_STORAGE_S3_BUCKET,
            # Empty means AWS itself; set it for MinIO, Ceph, R2 and the like.
            "endpoint_url": env_str("MODELS_STORAGE_S3_ENDPOINT_URL") or None,
            # Where browsers and devices reach the bucket, when not at the address above
            # (http://minio:9000 inside, https://files.example.com outside): presigned
            # URLs are signed for it; every other request still goes to endpoint_url.
            "public_endpoint_url": env_origin("MODELS_STORAGE_S3_PUBLIC_ENDPOINT_URL") or None,
            "region_name": env_str("MODELS_STORAGE_S3_REGION") or None,
            # SigV4, as AWS requires of buckets made since June 2020 and R2 of all; left
            # unset, boto3 presigns with SigV2 in us-east-1 or with no region named.
            "signature_version": "s3v4",
            # Empty keys fall back to boto3's own chain (instance role, env, config files).
            "access_key": env_str("MODELS_STORAGE_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("MODELS_STORAGE_S3_SECRET_ACCESS_KEY") or None,
            # Keys are models/<owner>/<random>/<file>, like the local folder.
            "location": "models",
            # No ACL header: the bucket's own policy applies (and ACL-less buckets accept
            # the write). Keep the bucket private: a download is a presigned redirect
            # for that one file (models_repo/offload.py).
            "default_acl": None,
            # A download is buffered in a temporary file past this size, not in memory
            # (django-storages' default, 0, never spills to disk).
            "max_memory_size": FILE_UPLOAD_MAX_MEMORY_SIZE,
        },
    }
else:
    _MODELS_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "models"},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "models": _MODELS_STORAGE,
    "staticfiles": {
        # The image runs collectstatic and turns on hashed, compressed files;
        # a checkout serves the files as they are.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# --- Security (production) ------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The container's health probe speaks plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# Chromium applies form-action to a form's redirects too: sign-out POSTs, then goes to
# Member Center's end-session endpoint (an origin of the issuer's, or the one set).
_SIGN_OUT_ORIGINS = sorted(
    {_origin(url) for url in (OIDC_OP_ISSUER, OIDC_OP_END_SESSION_ENDPOINT)} - {""}
)
# Content-Security-Policy (django-csp): everything comes from this site; no inline
# script or style anywhere (per-page JS files, json_script data, app.css).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Swagger UI's stylesheet draws its icons as data: images.
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF, *_SIGN_OUT_ORIGINS],
    }
}

# --- Logging --------------------------------------------------------------
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'text'")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "visiona.log.RequestIdFilter"},
        "unreadable_request": {"()": "visiona.log.UnreadableRequestFilter"},
    },
    "formatters": {
        "json": {"()": "visiona.log.JsonFormatter"},
        "text": {
            "class": "visiona.log.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "unreadable_request"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django logs 4xx/5xx itself; our own lines carry the details.
        "django.request": {"level": "ERROR"},
        # Django's own default gives runserver's log no handler and no
        # propagation (Python's last resort prints it raw): ours masks secrets.
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # Axes narrates every attempt at INFO; its warnings (failures, lockouts) remain.
        "axes": {"level": "WARNING"},
    },
}
