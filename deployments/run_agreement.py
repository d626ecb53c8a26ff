"""The agreement of a run's outputs with the model's original ONNX, computed by the
background worker (``deployments.run_tasks``), never in a request thread.

The reference model is copied from storage to a temporary file for onnxruntime; then
input by input: the stored input is preprocessed as the device's contract says (the
run's options), run through the float model, and compared with the device's stored
outputs (``visiona_client.run_figures``). One input's tensors are held at a time.
"""

from __future__ import annotations

import logging
import shutil
import tempfile

from visiona_client.inference_contract import ContractError, InferOptions
from visiona_client.run_figures import AgreementTotals, compare
from visiona_client.tensors import TensorSpec, inputs_from_body, read_npz

from deployments import run_files
from deployments.run_choices import ReferenceState, RunInputState
from deployments.run_models import Run
from models_repo.storage import open_stored_file

logger = logging.getLogger(__name__)


class ReferenceFailed(Exception):
    """The original model cannot be run: say why on the run's page."""


def compute(run_id: str) -> Run:
    run = Run.objects.select_related("model").get(pk=run_id)
    Run.objects.filter(pk=run.pk).update(reference_state=ReferenceState.COMPUTING)
    try:
        summary = _compare_inputs(run)
    except ReferenceFailed as exc:
        return _done(run, ReferenceState.FAILED, error=str(exc))
    except Exception as exc:  # the worker records any failure on the run, never loses it
        logger.exception("agreement failed", extra={"run_id": run_id})
        return _done(run, ReferenceState.FAILED, error=f"{exc.__class__.__name__}")
    return _done(run, ReferenceState.DONE, summary=summary)


def _done(run: Run, state: str, *, summary=None, error: str = "") -> Run:
    run.reference_state, run.reference_error, run.agreement = state, error[:500], summary
    run.save(update_fields=["reference_state", "reference_error", "agreement", "updated_at"])
    return run


def _session(model):
    import onnxruntime

    if not model.has_reference:
        raise ReferenceFailed("the model keeps no original ONNX")
    with tempfile.NamedTemporaryFile(suffix=".onnx") as copy:
        with open_stored_file(model.reference_file.name) as stored:
            shutil.copyfileobj(stored, copy, 1024 * 1024)
        copy.flush()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        try:
            return onnxruntime.InferenceSession(
                copy.name, options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's own error types
            first = (str(exc).strip().splitlines() or ["?"])[0][:300]
            raise ReferenceFailed(f"onnxruntime cannot load the original ONNX: {first}") from None


def _compare_inputs(run: Run) -> dict | None:
    session = _session(run.model)
    specs = [TensorSpec.from_runtime(node) for node in session.get_inputs()]
    names = [node.name for node in session.get_outputs()]
    options = InferOptions(run.repeat, run.channel_order, run.scale)
    totals = AgreementTotals()
    for item in run.inputs.filter(state=RunInputState.DONE).order_by("index").iterator():
        try:
            feed = inputs_from_body(run_files.read(item.file), item.content_type, specs, options)
        except ContractError as exc:
            item.agreement = {"error": exc.message}
            item.save(update_fields=["agreement"])
            continue
        reference = dict(zip(names, session.run(names, feed), strict=True))
        device = read_npz(run_files.read(item.output_file))
        figures = {}
        for name, expected in reference.items():
            try:
                figures[name] = compare(expected, device[name])
            except KeyError:
                figures[name] = {"error": "the device gave no such output"}
                continue
            except ValueError as exc:
                figures[name] = {"error": str(exc)}
                continue
            totals.add(name, figures[name])
        item.agreement = figures
        item.save(update_fields=["agreement"])
    return totals.summary()
