"""What the converter accepts (../shared/spec/upstreams.md), in one place.

The convert page checks these before uploading; the converter enforces them.
"""

MIB = 1024 * 1024

MAX_MODEL_BYTES = 500 * MIB
MAX_IMAGE_BYTES = 10 * MIB
MAX_IMAGES = 100
MODEL_EXTENSIONS = (".onnx",)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
IMAGE_TYPES = ("image/jpeg", "image/png")

# User model ids start above the range Kneron reserves for its own models.
MIN_USER_MODEL_ID = 32768
MAX_MODEL_ID = 65535
DEFAULT_MODEL_ID = 32769
VERSION_PATTERN = r"^[0-9A-Fa-f]{4}$"
# Converter job ids are UUIDs; any plain token of sane length is accepted in URLs.
JOB_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
DEFAULT_VERSION = "0001"

# A model committed with Git LFS but not pulled is a small text file starting so.
LFS_POINTER_PREFIX = "version https://git-lfs.github.com/spec/v1"
