"""The int8 model the sandbox's stand-in NEF carries: onnxruntime's static quantization
of the uploaded model, calibrated on the uploaded reference images.

So the demo device gives real numbers: what int8 quantization does to the user's own
model (not what Kneron's toolchain does: that is the real converter's). Made once per
job, at its first promote, under the job's lock, and kept beside the job's record
(``quantized.onnx`` and ``quantized.json``). A model the sandbox cannot quantize (not
ONNX onnxruntime loads, too large, an error in the quantizer) gets a NEF without a
model and the reason, which the demo device then gives when asked to run it.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from sandbox import store

logger = logging.getLogger(__name__)

_CALIBRATION_IMAGES_MAX = 32
_RANDOM_SAMPLES = 8
_FREE_SPATIAL_DIM = 224  # a free height or width is calibrated at this size
METHOD = "onnxruntime static quantization: QDQ, int8 weights and activations, MinMax"


@dataclass(frozen=True)
class Quantized:
    model: bytes | None
    quantization: dict
    missing: str = ""


def quantized_model(record: dict) -> Quantized:
    """The job's quantized model, made at the first call and kept."""
    job_id = record["job_id"]
    with store.job_lock(job_id):
        model_path, info_path = (
            store.job_path(job_id, "quantized.onnx"),
            store.job_path(job_id, "quantized.json"),
        )
        if info_path.exists():
            info = json.loads(info_path.read_text())
            model = model_path.read_bytes() if info.get("missing") is None else None
            return Quantized(model, info.get("quantization") or {}, info.get("missing") or "")
        result = _quantize(record)
        if result.model is not None:
            model_path.write_bytes(result.model)
        store.write_json(
            info_path,
            {"quantization": result.quantization, "missing": result.missing or None},
        )
        return result


def _quantize(record: dict) -> Quantized:
    source = store.job_file(record["job_id"], record["model_file"])
    limit = settings.SANDBOX_QUANTIZE_MAX_BYTES
    if source.stat().st_size > limit:
        return Quantized(None, {}, f"the model is over the sandbox quantizer's {limit} bytes")
    try:
        import onnxruntime
        from onnxruntime.quantization import (
            CalibrationMethod,
            QuantFormat,
            QuantType,
            quantize_static,
        )
    except ImportError:
        return Quantized(None, {}, "onnxruntime is not installed on the sandbox")
    try:
        session = onnxruntime.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for any bad model
        return Quantized(None, {}, f"onnxruntime cannot load the model: {_first_line(exc)}")
    reader, calibration = _calibration(record, session)
    with tempfile.TemporaryDirectory(prefix="visiona-quantize-") as folder:
        output = Path(folder) / "int8.onnx"
        try:
            quantize_static(
                str(_pre_processed(source, Path(folder) / "pre.onnx")),
                str(output),
                reader,
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax,
            )
            model = output.read_bytes()
            onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
        except Exception as exc:  # the quantizer fails in many ways on odd models
            logger.info("sandbox: job %s not quantized: %s", record["job_id"], exc)
            return Quantized(None, {}, f"the quantizer failed: {_first_line(exc)}")
    info = {
        "method": METHOD,
        "calibration": calibration,
        "onnxruntime": onnxruntime.__version__,
    }
    return Quantized(model, info)


def _pre_processed(source: Path, target: Path) -> Path:
    """The model with its shapes inferred (what the quantizer asks for), or as it was."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    try:
        quant_pre_process(str(source), str(target), skip_symbolic_shape=True)
    except Exception as exc:  # an optional step: the quantizer works without it
        logger.info("sandbox: no shape pre-processing for %s: %s", source.name, exc)
        return source
    return target


def _calibration(record: dict, session) -> tuple[object, str]:
    """A data reader over the job's images (the contract's default preprocessing), or
    over random tensors when none fits; and how it was calibrated, said in words."""
    import numpy as np
    from onnxruntime.quantization import CalibrationDataReader
    from visiona_client.inference_contract import ContractError, InferOptions
    from visiona_client.tensors import TensorSpec, image_to_tensor

    specs = [TensorSpec.from_runtime(node) for node in session.get_inputs()]
    feeds: list[dict] = []
    if len(specs) == 1:
        images = [p for p in store.job_files(record["job_id"]) if p.name != record["model_file"]]
        for path in images[:_CALIBRATION_IMAGES_MAX]:
            try:
                tensor = image_to_tensor(path.read_bytes(), specs[0], InferOptions())
            except ContractError:
                continue
            feeds.append({specs[0].name: tensor})
    if feeds:
        described = f"{len(feeds)} uploaded image(s), default preprocessing"
    else:
        generator = np.random.default_rng(int(record["job_id"].replace("-", "")[:8], 16))
        feeds = [
            {spec.name: _random(generator, spec) for spec in specs} for _ in range(_RANDOM_SAMPLES)
        ]
        described = f"{_RANDOM_SAMPLES} random tensors in [0, 1) (no image fits the model)"

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = iter(feeds)

        def get_next(self):
            return next(self._feeds, None)

    return Reader(), described


def _random(generator, spec):
    import numpy as np

    shape = [
        dim if dim is not None else (_FREE_SPATIAL_DIM if index >= 2 else 1)
        for index, dim in enumerate(spec.shape)
    ]
    return generator.random(shape, dtype=np.float32).astype(spec.dtype)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:300]
