"""Conversion and My models: the upstream services, their sandbox stand-ins, streamed
uploads and the models repository's storage limits."""

from django.core.exceptions import ImproperlyConfigured

from visiona.env import env_bool, env_int, env_str
from visiona.settings.auth import MC_ISSUER
from visiona.settings.core import DATA_DIR

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
# Django's two handlers; the second makes that folder again if it went away meanwhile.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "visiona.upload_tmp.TemporaryFileHandler",
]
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
