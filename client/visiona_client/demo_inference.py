"""The demo device's inference: it really computes, with onnxruntime on the CPU.

It runs the model a sandbox stand-in NEF carries (``visiona_client.sandbox_nef``: the
sandbox's int8 quantization of the user's model) and measures each repetition itself,
so its latency is real but labelled ``demo, CPU``: not the chip's. A real Kneron NEF
is refused (``model_not_runnable``): only a Kneron chip runs those.

One inference at a time (a chip runs one model at a time, and timings measured side by
side would measure each other), on one CPU thread, after one warm-up run that is not
counted. Sessions are kept per installed file and made again when it changes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visiona_client.inference_contract import (
    DEMO_RUNTIME,
    INFERENCE_FAILED,
    MODEL_NOT_FOUND,
    MODEL_NOT_RUNNABLE,
    RUNTIME_MISSING,
    ContractError,
    InferOptions,
    is_model_stem,
)
from visiona_client.models_folder import MODEL_SUFFIX, ModelsFolder
from visiona_client.sandbox_nef import carried_model, is_sandbox_nef, parse

_MAGIC_BYTES = 64


@dataclass(frozen=True)
class InferenceResult:
    npz: bytes
    timings_ms: list[float]
    model_sha256: str
    runtime: str = DEMO_RUNTIME


@dataclass
class _Loaded:
    stamp: tuple[int, int]
    sha256: str
    session: Any
    quantization: dict[str, Any]


class DemoRuntime:
    def __init__(self, models: ModelsFolder | None) -> None:
        self.models = models
        self._loaded: dict[str, _Loaded] = {}
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    def describe(self, stem: str) -> dict[str, Any]:
        loaded = self._load(stem)  # first: it answers runtime_missing without numpy
        from visiona_client.tensors import TensorSpec

        return {
            "name": stem,
            "runnable": True,
            "runtime": DEMO_RUNTIME,
            "sha256": loaded.sha256,
            "inputs": [TensorSpec.from_runtime(n).describe() for n in loaded.session.get_inputs()],
            "outputs": [
                TensorSpec.from_runtime(n).describe() for n in loaded.session.get_outputs()
            ],
            "quantization": loaded.quantization,
        }

    def infer(
        self, stem: str, body: bytes, media_type: str, options: InferOptions
    ) -> InferenceResult:
        loaded = self._load(stem)  # first: it answers runtime_missing without numpy
        from visiona_client.tensors import TensorSpec, inputs_from_body, outputs_to_npz

        session = loaded.session
        specs = [TensorSpec.from_runtime(node) for node in session.get_inputs()]
        feed = inputs_from_body(body, media_type, specs, options)
        names = [node.name for node in session.get_outputs()]
        timings = []
        with self._run_lock:
            try:
                outputs = session.run(names, feed)  # the warm-up, not counted
                for _ in range(options.repeat):
                    started = time.perf_counter()
                    session.run(names, feed)
                    timings.append((time.perf_counter() - started) * 1000.0)
            except Exception as exc:  # onnxruntime's own error types
                raise ContractError(
                    500, INFERENCE_FAILED, f"onnxruntime failed: {_first_line(exc)}"
                ) from None
        return InferenceResult(
            npz=outputs_to_npz(dict(zip(names, outputs))),
            timings_ms=timings,
            model_sha256=loaded.sha256,
        )

    def _load(self, stem: str) -> _Loaded:
        path = self._path(stem)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise ContractError(
                404, MODEL_NOT_FOUND, f"no model {stem!r} is installed on this device"
            ) from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._load_lock:
            loaded = self._loaded.get(stem)
            if loaded is None or loaded.stamp != stamp:
                loaded = self._loaded[stem] = self._open(path, stamp)
        return loaded

    def _path(self, stem: str) -> Path:
        if self.models is None or not is_model_stem(stem):
            raise ContractError(
                404, MODEL_NOT_FOUND, f"no model {stem!r} is installed on this device"
            )
        return self.models.root / f"{stem}{MODEL_SUFFIX}"

    def _open(self, path: Path, stamp: tuple[int, int]) -> _Loaded:
        missing = missing_runtime()
        if missing:
            raise ContractError(501, RUNTIME_MISSING, missing)
        import onnxruntime

        data = path.read_bytes()
        if not is_sandbox_nef(data[:_MAGIC_BYTES]):
            raise ContractError(
                422,
                MODEL_NOT_RUNNABLE,
                "this is a real Kneron NEF: only a Kneron chip runs it. The demo device "
                "runs the sandbox converter's stand-in NEFs only.",
            )
        try:
            header, model = parse(data), carried_model(data)
        except ValueError as exc:
            raise ContractError(422, MODEL_NOT_RUNNABLE, f"the stand-in NEF: {exc}") from None
        if model is None:
            reason = header.get("model_missing") or "it carries no model"
            raise ContractError(
                422, MODEL_NOT_RUNNABLE, f"the sandbox's NEF carries no model to run: {reason}"
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            session = onnxruntime.InferenceSession(
                model, options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ContractError(
                422, MODEL_NOT_RUNNABLE, f"onnxruntime cannot load it: {_first_line(exc)}"
            ) from None
        quantization = (header.get("model") or {}).get("quantization") or {}
        return _Loaded(stamp, hashlib.sha256(data).hexdigest(), session, quantization)


def missing_runtime() -> str:
    """Why the demo cannot run models here (the ``demo`` extra is not installed), or "".
    numpy and Pillow as well as onnxruntime: the inputs are decoded with them."""
    try:
        import numpy  # noqa: F401
        import onnxruntime  # noqa: F401
        import PIL  # noqa: F401
    except ImportError as exc:
        return (
            f"the demo device runs models with onnxruntime, numpy and Pillow ({exc.name} is "
            "not installed): install the client with its demo extra, "
            "pip install 'visiona-client[demo] @ <the wheel's URL on visionA>'"
        )
    return ""


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:300]
