"""The project's ground: paths, the data folder, secrets, hosts, the apps and the
middleware, templates, the database, the cache and sessions."""

import os
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from visiona.client_address import parse_networks
from visiona.env import database_from_url, env_bool, env_int, env_list, env_str

# The repository (the package is visiona/settings/).
BASE_DIR = Path(__file__).resolve().parent.parent.parent


def _data_dir() -> Path:
    """The folder for the SQLite file, stored models and the sandbox's files.

    Empty means ``var`` in the project folder; a relative path is taken from the
    project folder too, not from wherever the process started, so ``./var``, an
    empty value and no value name one place (in the image: /app/var, its user's).
    """
    path = Path(env_str("VISIONA_DATA_DIR") or "var")
    path = (path if path.is_absolute() else BASE_DIR / path).resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        # A probe of its own: gunicorn's workers (or any processes) start side by side,
        # and with one shared name one process's unlink took the file from under
        # another's, which then refused to start.
        with tempfile.TemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise ImproperlyConfigured(
            f"VISIONA_DATA_DIR {path} must be a folder this user (uid {os.getuid()}) "
            f"can write: {exc.strerror}"
        ) from None
    return path


DATA_DIR = _data_dir()

DEBUG = env_bool("DEBUG", False)
VISIONA_ENVIRONMENT = env_str("VISIONA_ENVIRONMENT", "development" if DEBUG else "production")


def _development_secret(file_name: str) -> str:
    """Development only: one secret generated into the data folder and kept there,
    so sessions (and the relay's shared secret) survive a restart without anyone
    committing a value."""
    secret_file = DATA_DIR / file_name
    if not secret_file.exists():
        secret_file.write_text(get_random_secret_key())
        secret_file.chmod(0o600)
    return secret_file.read_text().strip()


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if not DEBUG and (len(key) < 50 or key.startswith("django-insecure")):
            raise ImproperlyConfigured("SECRET_KEY must be a random value of 50+ characters")
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    return _development_secret("dev_secret_key")


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
# The container's health probe calls http://127.0.0.1:PORT/healthz from inside.
ALLOWED_HOSTS += [host for host in ("127.0.0.1", "localhost") if host not in ALLOWED_HOSTS]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Proxies (addresses or networks) whose X-Forwarded-For is believed: the TLS proxy in
# front. Empty: REMOTE_ADDR is the client (visiona/client_address.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
parse_networks(TRUSTED_PROXIES)  # a malformed entry stops the app here, not at a request

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mozilla_django_oidc",
    "csp",
    # Counts failed sign-ins and locks out an account or a client (visiona/auth/lockout.py);
    # its admin section named and translated by visiona/apps_third_party.py.
    "visiona.apps_third_party.SignInLockoutConfig",
    "visiona",
    "conversion",
    "models_repo",
    "devices",
    # Deployments of models to devices (above devices and models_repo).
    "deployments",
    # Personal API tokens (Authorization: Bearer vap_... on /api/), beside visiona.
    "tokens",
    # The tunnel relay process (manage.py run_relay); it serves no URLs of the web app.
    "relay",
    # Development stand-ins of the upstreams; its URLs exist only with VISIONA_SANDBOX.
    "sandbox",
    # The background worker: Django's tasks framework (backport) and its database backend,
    # whose `manage.py db_worker` runs what request threads must not wait for. Its admin
    # section is named and translated by visiona/apps_third_party.py.
    "django_tasks",
    "visiona.apps_third_party.BackgroundTasksConfig",
]

MIDDLEWARE = [
    # Outermost: an answer handed to nginx (X-Accel-Redirect) passes on every header
    # the stack below gave it (visiona.middleware.HandoffResponse).
    "visiona.middleware.HandoffMiddleware",
    "visiona.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer, error pages included.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # /healthz answers here, independent of sessions and the user lookup.
    "visiona.health.HealthzMiddleware",
    "visiona.sessions.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Django's, except an /api/ path is never redirected to add its slash.
    "visiona.middleware.CommonMiddleware",
    # Before the CSRF check, which reads a page form's body: the cap and floor rate of
    # streamed uploads (visiona/uploads.py).
    "visiona.uploads.StreamedUploadMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "visiona.sessions.SessionLifetimeMiddleware",
    # The browser's time zone, remembered on the session (visiona/time_zone.py).
    "visiona.time_zone.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A streamed answer's first block taken here: its failure is the envelope, never
    # gunicorn's bare 500 (visiona/middleware.py).
    "visiona.middleware.StreamStartMiddleware",
    "visiona.middleware.AppErrorMiddleware",
    # Last, as axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "visiona.urls"
WSGI_APPLICATION = "visiona.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The site's own, then each app's (registered in its AppConfig.ready()).
                "visiona.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": database_from_url(
            DATABASE_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            connect_timeout=env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1),
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "visiona.sqlite3",
            # Writers wait for the lock instead of failing at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ---------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # One Redis database may serve several deployments (or a test run) apart.
            "KEY_PREFIX": env_str("REDIS_KEY_PREFIX", "visiona") or "visiona",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                # Fail closed: a Redis outage is an error, never a silent miss.
                "IGNORE_EXCEPTIONS": False,
            },
        }
    }
    # Sessions live in Redis so any worker or instance serves any user.
    SESSION_ENGINE = "visiona.sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 2 * 3600, minimum=60)
SESSION_ABSOLUTE_LIFETIME = env_int("SESSION_ABSOLUTE_LIFETIME", 12 * 3600, minimum=60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
SESSION_COOKIE_NAME = "visiona_session"
SESSION_COOKIE_HTTPONLY = True
# Lax: the OIDC callback is a cross-site top-level GET that must carry the cookie.
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# A refused form gets the site's page (the csrf_failed envelope under /api/).
CSRF_FAILURE_VIEW = "visiona.views.csrf_failure"
