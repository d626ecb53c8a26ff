"""Settings for visionA Cloud.

Every value comes from the environment (see .env.example) with a default that
is safe: a fresh checkout runs on SQLite and a local-memory cache, and with
DEBUG off the app refuses to start without a real SECRET_KEY and ALLOWED_HOSTS.
"""

import contextlib
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

import visiona
from visiona.client_address import parse_networks
from visiona.env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent


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
    # whose `manage.py db_worker` runs what request threads must not wait for.
    "django_tasks",
    "django_tasks_db",
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

# --- Authentication -------------------------------------------------------
AUTH_USER_MODEL = "visiona.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

MC_ISSUER = env_str("MC_ISSUER").rstrip("/")
OIDC_OP_ISSUER = (env_str("OIDC_OP_ISSUER") or MC_ISSUER).rstrip("/")
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID")
# Empty for a public client: the token request then carries no client_secret.
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET")
OIDC_ENABLED = bool(OIDC_OP_ISSUER and OIDC_RP_CLIENT_ID)
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
# Endpoints come from the issuer's discovery document unless set here.
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT")
OIDC_OP_END_SESSION_ENDPOINT = env_str("OIDC_OP_END_SESSION_ENDPOINT")
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # sent back as id_token_hint at sign-out
OIDC_VERIFY_KID = env_bool("OIDC_VERIFY_KID", True)
OIDC_TIMEOUT = 10
OIDC_OP_LOGOUT_URL_METHOD = "visiona.auth.oidc.provider_logout_url"
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?failed=1"

AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in of a locked-out account or client before the others run.
    "axes.backends.AxesStandaloneBackend",
    "visiona.auth.backends.MemberCenterBackend",
    "visiona.auth.backends.PasswordBackend",
]

# Sign-in lockout (django-axes): this many failures for one account (from anywhere),
# or from one client address (over any accounts), lock it out for the cool-off,
# counted from the last failure. Existing and unknown accounts are treated alike.
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGN_IN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = "visiona.auth.lockout.lockout_parameters"
# The same client address as every other limit: X-Forwarded-For only from TRUSTED_PROXIES.
AXES_CLIENT_IP_CALLABLE = "visiona.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "visiona.auth.lockout.lockout_response"
# Off: axes' reset deletes the client's counter too, so an attacker signing in to
# their own account between guesses would never be locked out. Failures expire instead.
AXES_RESET_ON_SUCCESS = False
# Attempts during a lockout neither count nor extend it: it ends when the page says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Only failures are kept (and dropped after the cool-off), not a row per sign-in forever.
AXES_DISABLE_ACCESS_LOG = True

# Seconds each process remembers a signed-in user's row, and a personal token's, instead
# of reading them on every request (visiona/auth/user_cache.py): a deactivated account or
# a revoked token stops working everywhere within this time (at once in the process that
# made the change). 0: read them on every request.
AUTH_CACHE_SECONDS = env_int("AUTH_CACHE_SECONDS", 5, minimum=0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    # A personal API token first: a request that carries one is judged by it alone (no
    # CSRF); otherwise the session. Scopes: each view declares them (visiona/api/scopes.py).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tokens.authentication.PersonalTokenAuthentication",
        "visiona.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "tokens.permissions.TokenScopeRequired",
    ],
    # DRF's own, but the JSON one also refuses JSON nested too deeply (visiona/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "visiona.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "visiona.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "visiona.api.autoschema.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "visionA Cloud API",
    "DESCRIPTION": "Convert ONNX models for Kneron chips, keep them in My models, pair devices.",
    "VERSION": visiona.__version__,
    "SERVE_INCLUDE_SCHEMA": False,
    # Like every /api/ view: signed-in users only, through the same session.
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.IsAuthenticated",
        "tokens.permissions.TokenScopeRequired",
    ],
    "SERVE_AUTHENTICATION": [
        "tokens.authentication.PersonalTokenAuthentication",
        "visiona.api.authentication.SessionAuthentication",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/",
    # Keeps the document to /api/; importing the module also registers our extensions.
    "PREPROCESSING_HOOKS": ["visiona.api.schema.only_api_paths"],
    # The errors every operation shares (sign-in, unreadable body, outage), in one place.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "visiona.api.schema.add_common_errors",
    ],
    # One name for the chip enumeration wherever a chip or a list of chips appears.
    # Named by dotted path (looked up by drf-spectacular): two "state" enums, one name each.
    "ENUM_NAME_OVERRIDES": {
        "ChipEnum": "visiona.chips.Chip",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    # Django's <int:...> matches [0-9]+; ids are bigint (a larger one is a 404).
    "PATH_CONVERTER_OVERRIDES": {
        "int": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**63 - 1}
    },
    # The docs page loads Swagger UI and Redoc from our static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Upstream services (see docs/configuration.md) ------------------------
CONVERTER_BASE_URL = env_str("CONVERTER_BASE_URL").rstrip("/")
FAA_BASE_URL = env_str("FAA_BASE_URL").rstrip("/")
MC_TENANT_ID = env_str("MC_TENANT_ID", "default")
MC_SERVICE_CLIENT_ID = env_str("MC_SERVICE_CLIENT_ID")
MC_SERVICE_CLIENT_SECRET = env_str("MC_SERVICE_CLIENT_SECRET")
_MIB = 1024 * 1024
# The largest upload /api/conversion/init reads; 0 (the default): what the converter
# can accept, from its limits in conversion/limits.py (the one place they are stated).
CONVERSION_MAX_UPLOAD_BYTES = env_int("CONVERSION_MAX_UPLOAD_BYTES", 0, minimum=0)
# The converter's published rate limit on /api/v1 for our one client id (its README:
# 300 requests per 5 minutes); its X-RateLimit-Limit answers replace the number.
CONVERTER_RATE_LIMIT = env_int("CONVERTER_RATE_LIMIT", 300, minimum=1)
CONVERTER_RATE_WINDOW_SECONDS = env_int("CONVERTER_RATE_WINDOW_SECONDS", 300, minimum=1)
# Share of that budget kept for users' own calls (uploads, promotes, cancels): background
# refreshes of watched jobs use the rest, stretching their interval when it runs short.
CONVERTER_BUDGET_RESERVE_PERCENT = min(
    env_int("CONVERTER_BUDGET_RESERVE_PERCENT", 20, minimum=0), 90
)
# Seconds between two refreshes of one watched job from the converter, when the budget allows.
CONVERSION_REFRESH_SECONDS = env_int("CONVERSION_REFRESH_SECONDS", 2, minimum=1)
# Base URL for service tokens and delegated download tokens; people sign in at MC_ISSUER.
MC_SERVICE_ISSUER = (env_str("MC_SERVICE_ISSUER") or MC_ISSUER).rstrip("/")

# --- Sandbox: stand-ins of the three upstreams (docs/sandbox.md) -----------
# Development and end-to-end tests only; a warning is logged when on with DEBUG off.
VISIONA_SANDBOX = env_bool("VISIONA_SANDBOX", False)
# Where visionA reaches the sandbox (this server by default; `make run` sets it).
VISIONA_SANDBOX_BASE_URL = env_str("VISIONA_SANDBOX_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if VISIONA_SANDBOX:
    # The stand-ins serve as upstreams unless real ones are set. OIDC sign-in
    # stays off: the sandbox has no people sign-in, local passwords do.
    CONVERTER_BASE_URL = CONVERTER_BASE_URL or f"{VISIONA_SANDBOX_BASE_URL}/sandbox/converter"
    FAA_BASE_URL = FAA_BASE_URL or f"{VISIONA_SANDBOX_BASE_URL}/sandbox/faa"
    MC_SERVICE_ISSUER = MC_SERVICE_ISSUER or f"{VISIONA_SANDBOX_BASE_URL}/sandbox/mc"
    MC_SERVICE_CLIENT_ID = MC_SERVICE_CLIENT_ID or "visiona-sandbox"
    MC_SERVICE_CLIENT_SECRET = MC_SERVICE_CLIENT_SECRET or "sandbox-secret"
SANDBOX_DIR = DATA_DIR / "sandbox"
# The client the sandbox Member Center knows; empty: whatever visionA is set to use.
SANDBOX_MC_CLIENT_ID = ""
SANDBOX_MC_CLIENT_SECRET = ""
SANDBOX_TOKEN_TTL_SECONDS = env_int("SANDBOX_TOKEN_TTL_SECONDS", 3600, minimum=1)
# Each of the stages onnx, bie and nef takes this long in the fake converter.
SANDBOX_STAGE_SECONDS = env_int("SANDBOX_STAGE_SECONDS", 4, minimum=0)
SANDBOX_MAX_CONCURRENT_UPLOADS = env_int("SANDBOX_MAX_CONCURRENT_UPLOADS", 5, minimum=0)
# The stand-in NEF carries an int8 version of models up to this size (sandbox.quantize).
SANDBOX_QUANTIZE_MAX_BYTES = env_int("SANDBOX_QUANTIZE_MAX_BYTES", 64 * 1024 * 1024, minimum=0)
# The stand-in converter enforces the real one's limits (conversion/limits.py); tests
# shrink them by setting SANDBOX_MAX_MODEL_BYTES, SANDBOX_MAX_IMAGE_BYTES, SANDBOX_MAX_IMAGES.
# The fake converter's rate limit on /api/v1, like the real one's (0: none).
SANDBOX_RATE_LIMIT = env_int("SANDBOX_RATE_LIMIT", 300, minimum=0)
SANDBOX_RATE_WINDOW_SECONDS = env_int("SANDBOX_RATE_WINDOW_SECONDS", 300, minimum=1)
# Whether the fake converter cancels jobs (DELETE /api/v1/jobs/{id}); off: 501 like today's.
SANDBOX_CANCEL_SUPPORTED = env_bool("SANDBOX_CANCEL_SUPPORTED", True)

# --- Streamed uploads (visiona/uploads.py, docs/streams.md) -----------------
# The conversion upload and My models' upload are read as they arrive, each holding a
# web thread: at most this many at once in one process (503 uploads_busy past it).
STREAMED_UPLOADS_PER_PROCESS = env_int("STREAMED_UPLOADS_PER_PROCESS", 4, minimum=1)
# A streamed body must bring this many bytes per second, on average over every window
# of this many seconds spent waiting for it, or it is cut (408 upload_too_slow).
UPLOAD_FLOOR_BYTES_PER_SECOND = env_int("UPLOAD_FLOOR_BYTES_PER_SECOND", 16 * 1024, minimum=0)
UPLOAD_FLOOR_WINDOW_SECONDS = env_int("UPLOAD_FLOOR_WINDOW_SECONDS", 30, minimum=1)

# Downloads of a deployment's file the app streams itself (no nginx sending it) at once
# per device, across instances (429 too_many_downloads past it; deployments/download_slots.py).
DEPLOYMENT_DOWNLOADS_PER_DEVICE = env_int("DEPLOYMENT_DOWNLOADS_PER_DEVICE", 2, minimum=1)

# --- Models repository ----------------------------------------------------
# Largest NEF file accepted by an upload to My models (page or API).
MODELS_MAX_UPLOAD_BYTES = env_int("MODELS_MAX_UPLOAD_BYTES", 500 * _MIB, minimum=1)
# Runs (docs/runs.md): inputs per run, bytes per input (the local device API's contract
# takes at most 16 MiB) and per run.
RUNS_MAX_INPUTS = env_int("RUNS_MAX_INPUTS", 100, minimum=1)
RUNS_MAX_INPUT_BYTES = env_int("RUNS_MAX_INPUT_BYTES", 16 * _MIB, minimum=1)
RUNS_MAX_TOTAL_BYTES = env_int("RUNS_MAX_TOTAL_BYTES", 256 * _MIB, minimum=1)
# The original ONNX kept beside a model as its reference (docs/runs.md): as large as the
# converter takes.
MODELS_MAX_REFERENCE_BYTES = env_int("MODELS_MAX_REFERENCE_BYTES", 500 * _MIB, minimum=1)
# Uploaded files past this size go to a temporary file, not memory (Django's default).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Those temporary files go to a folder of ours, not /tmp: a process killed mid-upload
# leaves its file there, and visiona/upload_tmp.py sweeps it away.
FILE_UPLOAD_TEMP_DIR = DATA_DIR / "upload-tmp"
FILE_UPLOAD_TEMP_DIR.mkdir(exist_ok=True)
# Unset: model files in DATA_DIR/models. Set: any S3-compatible bucket.
MODELS_STORAGE_S3_BUCKET = env_str("MODELS_STORAGE_S3_BUCKET")
# How many web instances serve this site (docs/production.md). Each stores the model
# files it receives, and any instance may be asked for them: with more than one, the
# files must be where every instance reads them (S3, or one shared file system).
VISIONA_WEB_INSTANCES = env_int("VISIONA_WEB_INSTANCES", 1, minimum=1)
# The operator's word that DATA_DIR/models is one file system mounted on every instance
# (NFS, one volume shared on one machine); nothing here can see that for itself.
MODELS_STORAGE_SHARED = env_bool("MODELS_STORAGE_SHARED", False)
if VISIONA_WEB_INSTANCES > 1 and not (MODELS_STORAGE_S3_BUCKET or MODELS_STORAGE_SHARED):
    raise ImproperlyConfigured(
        f"VISIONA_WEB_INSTANCES is {VISIONA_WEB_INSTANCES}, but model files are kept in "
        f"{DATA_DIR / 'models'}, a folder of this instance's own: the others could not "
        "serve them (downloads and deployments would fail with model_file_unavailable). "
        "Set MODELS_STORAGE_S3_BUCKET (and its endpoint and keys) to keep them in an "
        "S3-compatible bucket such as MinIO, or, if that folder is one file system mounted "
        "on every instance, set MODELS_STORAGE_SHARED=1."
    )

# --- Devices --------------------------------------------------------------
# A pairing code works once and only this many minutes after it is shown.
DEVICE_PAIRING_CODE_TTL_MINUTES = env_int("DEVICE_PAIRING_CODE_TTL_MINUTES", 10, minimum=1)
# Unused, unexpired codes one user may hold at once.
DEVICE_PAIRING_MAX_ACTIVE_CODES = env_int("DEVICE_PAIRING_MAX_ACTIVE_CODES", 5, minimum=1)
# Failed code exchanges allowed per client address and per code prefix in one window.
DEVICE_PAIRING_RATE_LIMIT = env_int("DEVICE_PAIRING_RATE_LIMIT", 10, minimum=1)
DEVICE_PAIRING_RATE_LIMIT_WINDOW_SECONDS = env_int(
    "DEVICE_PAIRING_RATE_LIMIT_WINDOW_SECONDS", 15 * 60, minimum=1
)
# A device without a tunnel is online while its last heartbeat is at most this old.
DEVICE_ONLINE_THRESHOLD_SECONDS = env_int("DEVICE_ONLINE_THRESHOLD_SECONDS", 90, minimum=3)
# While its tunnel is open an agent sends a heartbeat this often (or on a change of
# status): its relay says it is alive. An agent without a tunnel beats at a third of
# the threshold above.
DEVICE_TUNNEL_HEARTBEAT_SECONDS = env_int("DEVICE_TUNNEL_HEARTBEAT_SECONDS", 3600, minimum=1)
# A device token expires this many days after pairing; the agent then pairs again.
DEVICE_TOKEN_TTL_DAYS = env_int("DEVICE_TOKEN_TTL_DAYS", 365, minimum=1)
# The agent's wheel (`manage.py build_client`), served at /downloads/. Like STATIC_ROOT
# it belongs to the build (the image), so a volume on the data folder never hides it.
CLIENT_DOWNLOADS_DIR = BASE_DIR / "downloads"

# --- Tunnel relay (docs/tunnel.md) ---------------------------------------


def _relay_internal_secret() -> str:
    """The shared secret of the relay nodes' internal port (web -> relay).

    Empty with DEBUG on: one generated into the data folder, shared by `make run`'s
    web server and relay. Empty with DEBUG off: no relay is configured
    (run_relay refuses to start); set, it must be 50+ characters.
    """
    secret = env_str("RELAY_INTERNAL_SECRET")
    if secret:
        if not DEBUG and len(secret) < 50:
            raise ImproperlyConfigured(
                "RELAY_INTERNAL_SECRET must be a random value of 50+ characters"
            )
        return secret
    if not DEBUG:
        return ""
    return _development_secret("relay_secret")


RELAY_INTERNAL_SECRET = _relay_internal_secret()
# Where agents dial (the heartbeat answer tells them); TLS (wss://) in front in production.
RELAY_PUBLIC_URL = env_str("RELAY_PUBLIC_URL", "ws://127.0.0.1:3800/tunnel")
# How web instances reach this node's internal port (written into the registry);
# empty: http://<--host>:<--internal-port>. `run_relay --advertise-url` overrides it.
RELAY_NODE_INTERNAL_URL = env_str("RELAY_NODE_INTERNAL_URL").rstrip("/")
# Largest request body relayed to a device (413 payload_too_large past it).
RELAY_MAX_BODY_BYTES = env_int("RELAY_MAX_BODY_BYTES", 16 * _MIB, minimum=1)
# Seconds the relay waits for a device's answer headers (504 device_timeout past them).
RELAY_REQUEST_TIMEOUT_SECONDS = env_int("RELAY_REQUEST_TIMEOUT_SECONDS", 30, minimum=1)
# Tunnel handshakes a relay node takes per second; past it, 503 with Retry-After
# (a reconnect storm spread out). 0: no limit.
RELAY_HANDSHAKES_PER_SECOND = env_int("RELAY_HANDSHAKES_PER_SECOND", 200, minimum=0)
# A relay node writes a connected device's last_seen_at this often (and when its
# tunnel opens or closes): the database's share of liveness (docs/tunnel.md).
RELAY_LAST_SEEN_WRITE_SECONDS = env_int("RELAY_LAST_SEEN_WRITE_SECONDS", 900, minimum=10)
# Seconds without a byte from the device (or of the request body) before the relay
# ends the exchange: 504 before the answer started, a cut body after.
RELAY_IDLE_TIMEOUT_SECONDS = env_int("RELAY_IDLE_TIMEOUT_SECONDS", 30, minimum=1)
# Seconds an exchange may last in all, however it trickles.
RELAY_EXCHANGE_TIMEOUT_SECONDS = env_int("RELAY_EXCHANGE_TIMEOUT_SECONDS", 600, minimum=1)
# Concurrent relayed exchanges per user and per device, across every web instance
# (Redis, else the database): over either, 429 too_many_device_requests at once.
RELAY_MAX_EXCHANGES_PER_USER = env_int("RELAY_MAX_EXCHANGES_PER_USER", 20, minimum=1)
RELAY_MAX_EXCHANGES_PER_DEVICE = env_int("RELAY_MAX_EXCHANGES_PER_DEVICE", 10, minimum=1)
# The lease of a slot: renewed every third of it while its exchange lives; a dead
# holder's slots stop counting after it.
RELAY_SLOT_TTL_SECONDS = env_int("RELAY_SLOT_TTL_SECONDS", 10, minimum=2)

# --- Background worker (docs/architecture.md) ------------------------------
# Tasks are rows in the database, taken by `manage.py db_worker` (a process of its own:
# `make run` starts one, production runs it as the worker service). Another backend (e.g.
# django_tasks.backends.immediate.ImmediateBackend, which runs a task at once in the
# caller) only for tests and debugging.
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

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
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MODELS_STORAGE_S3_BUCKET,
            # Empty means AWS itself; set it for MinIO, Ceph, R2 and the like.
            "endpoint_url": env_str("MODELS_STORAGE_S3_ENDPOINT_URL") or None,
            "region_name": env_str("MODELS_STORAGE_S3_REGION") or None,
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
