"""What the converter accepts (docs/upstreams.md), stated here and nowhere else.

The convert page checks these before uploading, the upload proxy refuses what
exceeds them, the sandbox's stand-in converter enforces them, and the largest
upload visionA takes follows from them (unless CONVERSION_MAX_UPLOAD_BYTES is set).
"""

from django.conf import settings
from visiona_client.inference_contract import JPEG_START, PNG_START

MIB = 1024 * 1024

MAX_MODEL_BYTES = 500 * MIB
MAX_IMAGE_BYTES = 10 * MIB
MAX_IMAGES = 100
# Room for the form's text fields and every part's headers.
FORM_OVERHEAD_BYTES = 16 * MIB
# The largest form the converter can accept whole: the model, every image, the rest.
MAX_UPLOAD_BYTES = MAX_MODEL_BYTES + MAX_IMAGES * MAX_IMAGE_BYTES + FORM_OVERHEAD_BYTES
MODEL_EXTENSIONS = (".onnx",)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
# What a JPEG's and a PNG's first bytes are: a file named .png that is not one would be
# calibrated on as noise, so its content is checked as well as its name.
IMAGE_SIGNATURES = (JPEG_START, PNG_START)

# User model ids start above the range Kneron reserves for its own models.
MIN_USER_MODEL_ID = 32768
MAX_MODEL_ID = 65535
DEFAULT_MODEL_ID = 32769
VERSION_PATTERN = r"^[0-9A-Fa-f]{4}$"
# Converter job ids are UUIDs; any plain token of sane length is accepted in URLs.
JOB_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
DEFAULT_VERSION = "0001"


def max_upload_bytes() -> int:
    """The largest body ``/api/conversion/init`` reads: the setting, or what the
    converter can accept (``MAX_UPLOAD_BYTES``) when it is 0 (the default)."""
    return settings.CONVERSION_MAX_UPLOAD_BYTES or MAX_UPLOAD_BYTES


# A model committed with Git LFS but not pulled is a small text file starting so.
LFS_POINTER_PREFIX = "version https://git-lfs.github.com/spec/v1"
