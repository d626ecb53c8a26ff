"""The sandbox's "compiled model": plainly a fake, with a checksum to verify, carrying
an int8-quantized ONNX version of the uploaded model that the demo device runs.

The layout is ``visiona_client.sandbox_nef`` (one definition for the sandbox, which
writes it, and the demo device, which reads it); the quantization is
``sandbox.quantize``.
"""

from __future__ import annotations

from visiona_client.sandbox_nef import build, carried_model, magic, parse

__all__ = ["build", "carried_model", "magic", "parse"]
