"""The toolchain's limits the pre-flight checks against, stated in one place.

Opsets: Kneron's toolchain converts ONNX opsets 8 to 18 (the default domain).

NEF size caps: neither Kneron's operator table nor the converter's documentation
states one. The only published cap is the converter's 500 MB limit on the ONNX file.
The figures below are visionA's own working caps for a compiled model per chip,
not Kneron's: conservative estimates, to be replaced when Kneron publishes its caps.
The NEF size is estimated as one byte per weight (8-bit quantization).
"""

from __future__ import annotations

MIB = 1024 * 1024

MIN_OPSET = 8
MAX_OPSET = 18
DEFAULT_DOMAINS = frozenset({"", "ai.onnx"})

# Estimated NEF bytes (one per weight) per chip: warn from NEAR_CAP_RATIO of it.
NEF_CAP_BYTES = {
    "520": 32 * MIB,
    "720": 64 * MIB,
    "530": 64 * MIB,
    "630": 128 * MIB,
    "730": 256 * MIB,
}
NEAR_CAP_RATIO = 0.8
