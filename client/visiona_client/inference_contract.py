"""The local device API's inference contract: paths, limits, headers and error codes.

One place for what the agent, the demo device, visionA and the ``visiona`` CLI agree
on (docs/agent.md, "Inference"), so a real local edge-AI server can implement it from
the documentation alone. No numpy here: importing this module costs nothing.

    GET  /api/models/<file stem>          the installed model's inputs and outputs
    POST /api/models/<file stem>/infer    one input; the outputs as .npz, timings in headers
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

MODELS_PATH = "/api/models"
INFER_SUFFIX = "/infer"

# Bodies: one input per request, never a set, so neither end holds more than one.
MAX_INPUT_BYTES = 16 * 1024 * 1024  # the relay's default body limit
MAX_IMAGE_PIXELS = 4096 * 4096  # refuses decompression bombs before decoding
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
MAX_REPEAT = 100
DEFAULT_REPEAT = 10

# What a request body may be (its Content-Type).
IMAGE_TYPES = ("image/png", "image/jpeg", "image/bmp")
NPY_TYPE = "application/x-npy"  # one tensor, for a model with one input
NPZ_TYPE = "application/x-npz"  # tensors named by the model's inputs; also the answer
INPUT_TYPES = (*IMAGE_TYPES, NPY_TYPE, NPZ_TYPE)
# How each kind of input begins: a file named like one that is none is refused before it
# is sent, not by the device once the run is under way. An image may be any of the three
# (the device decodes by content, so a PNG named .jpg is taken).
# The conversion's reference images (conversion/limits.py, the CLI's convert) take the
# first two only.
PNG_START = b"\x89PNG\r\n\x1a\n"
JPEG_START = b"\xff\xd8\xff"
_IMAGE_STARTS = (PNG_START, JPEG_START, b"BM")
_STARTS = {
    **dict.fromkeys(IMAGE_TYPES, _IMAGE_STARTS),
    NPY_TYPE: (b"\x93NUMPY",),
    NPZ_TYPE: (b"PK\x03\x04", b"PK\x05\x06"),  # a zip, or an empty one
}
INPUT_HEAD_BYTES = 8  # enough of a file's start to tell


def starts_as(media: str, head: bytes) -> bool:
    """Whether ``head`` (a file's first INPUT_HEAD_BYTES) begins as ``media`` does."""
    return head.startswith(starts_of(media))


def starts_of(media: str) -> tuple[bytes, ...]:
    """The ways a file of ``media`` may begin (none for a type no run takes)."""
    return _STARTS.get(media, ())


# The default preprocessing of an image, and what the query may change.
CHANNEL_ORDERS = ("rgb", "bgr")
SCALES = {
    "unit": "pixel / 255, in [0, 1]",
    "byte": "pixel as it is, in [0, 255]",
    "signed": "pixel / 127.5 - 1, in [-1, 1]",
}
DEFAULT_CHANNEL_ORDER = "rgb"
DEFAULT_SCALE = "unit"

# Answer headers.
TIMINGS_HEADER = "X-Inference-Timings-Ms"  # comma-separated, one per repetition
RUNTIME_HEADER = "X-Inference-Runtime"  # e.g. "demo, CPU" or "KL720 NPU"
MODEL_SHA256_HEADER = "X-Model-Sha256"  # the installed file that ran
DEMO_RUNTIME = "demo, CPU"

# Error codes (the API's envelope; status in brackets).
MODEL_NOT_FOUND = "model_not_found"  # 404: nothing installed under that name
MODEL_NOT_RUNNABLE = "model_not_runnable"  # 422: e.g. a real NEF on the demo device
UNSUPPORTED_INPUT = "unsupported_input"  # 415: not an image, .npy or .npz
INVALID_INPUT = "invalid_input"  # 400: unreadable image or tensor, wrong shape or dtype
INVALID_PARAMETER = "invalid_parameter"  # 400: repeat, channel_order, scale
INPUT_TOO_LARGE = "input_too_large"  # 413: body or image over the limits
OUTPUT_TOO_LARGE = "output_too_large"  # 507: the outputs exceed MAX_OUTPUT_BYTES
RUNTIME_MISSING = "runtime_missing"  # 501: the demo without onnxruntime installed
INFERENCE_FAILED = "inference_failed"  # 500: the runtime failed on a valid input

_STEM = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


class ContractError(Exception):
    """A request the contract refuses: ``status``, ``code`` and a readable message;
    ``parameter``: the option refused, for an invalid_parameter (a page words it)."""

    def __init__(self, status: int, code: str, message: str, *, parameter: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter


@dataclass(frozen=True)
class InferOptions:
    repeat: int = DEFAULT_REPEAT
    channel_order: str = DEFAULT_CHANNEL_ORDER
    scale: str = DEFAULT_SCALE

    def query(self) -> dict[str, str]:
        return {
            "repeat": str(self.repeat),
            "channel_order": self.channel_order,
            "scale": self.scale,
        }

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> InferOptions:
        """From a request's query (first values); ContractError on a bad one."""
        raw_repeat = query.get("repeat", str(DEFAULT_REPEAT))
        if not raw_repeat.isdigit() or not 1 <= int(raw_repeat) <= MAX_REPEAT:
            raise ContractError(
                400,
                INVALID_PARAMETER,
                f"repeat must be a whole number from 1 to {MAX_REPEAT}",
                parameter="repeat",
            )
        channel_order = query.get("channel_order", DEFAULT_CHANNEL_ORDER).lower()
        if channel_order not in CHANNEL_ORDERS:
            raise ContractError(
                400,
                INVALID_PARAMETER,
                "channel_order must be rgb or bgr",
                parameter="channel_order",
            )
        scale = query.get("scale", DEFAULT_SCALE).lower()
        if scale not in SCALES:
            raise ContractError(
                400,
                INVALID_PARAMETER,
                f"scale must be one of {', '.join(SCALES)}",
                parameter="scale",
            )
        return cls(repeat=int(raw_repeat), channel_order=channel_order, scale=scale)


def is_model_stem(value: str) -> bool:
    """A models folder's file name without ``.nef``: what the paths name a model by."""
    return bool(_STEM.match(value))


def model_path(stem: str) -> str:
    return f"{MODELS_PATH}/{quote(stem, safe='')}"


def infer_path(stem: str) -> str:
    return model_path(stem) + INFER_SUFFIX


def input_type(content_type: str) -> str:
    """The body's media type, lower case, without parameters; ContractError if not one."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "image/jpg":
        media = "image/jpeg"
    if media not in INPUT_TYPES:
        raise ContractError(
            415,
            UNSUPPORTED_INPUT,
            "send an image (PNG, JPEG, BMP), a .npy tensor or a .npz of tensors named by "
            "the model's inputs",
        )
    return media


# The file names a run takes, by extension (lower case, no dot), and what each is sent as.
INPUT_SUFFIXES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "bmp": "image/bmp",
    "npy": NPY_TYPE,
    "npz": NPZ_TYPE,
}


def type_for_filename(name: str) -> str | None:
    """The Content-Type to send a local file as, or None for a file no run takes."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return INPUT_SUFFIXES.get(suffix)


def parse_timings(value: str) -> list[float]:
    """The timings header as milliseconds; ValueError if it is not a list of them."""
    timings = [float(part) for part in value.split(",") if part.strip()]
    if not timings or any(not 0 <= timing < 3_600_000 for timing in timings):
        raise ValueError("timings must be non-negative milliseconds")
    return timings


def format_timings(timings_ms: list[float]) -> str:
    return ",".join(f"{timing:.4f}" for timing in timings_ms)
