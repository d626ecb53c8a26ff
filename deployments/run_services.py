"""Writes about runs (docs/runs.md): made by the user, moved along by the agent.

A run is made with its inputs stored, in one transaction, then the device's agent is
nudged through the tunnel (``POST /_visiona/runs/sync``) after the commit; the agent
reports each input's outputs and the run's state. No web thread waits for a device.
When a run completes and its model keeps its original ONNX, the background worker
computes the agreement (``deployments.run_tasks``).
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from visiona_client.inference_contract import (
    INPUT_HEAD_BYTES,
    INPUT_TYPES,
    MAX_OUTPUT_BYTES,
    InferOptions,
    starts_as,
    type_for_filename,
)
from visiona_client.run_figures import latency_summary

from deployments import push, run_files
from deployments.choices import DeploymentState
from deployments.errors import (
    ModelNotInstalled,
    NoReference,
    RunCancelled,
    RunChipMismatch,
    RunFinished,
    RunInputMissing,
    RunNotCompleted,
    RunNotFound,
)
from deployments.models import Deployment
from deployments.run_choices import ReferenceState, RunInputState, RunState
from deployments.run_models import Run, RunInput
from devices import selectors as device_selectors
from devices.errors import DeviceNotFound
from devices.models import Device
from models_repo.selectors import model_get_for_user
from models_repo.storage import FileTooLarge
from visiona.errors import PayloadTooLarge, ValidationFailed
from visiona.file_names import shorten_file_name
from visiona.models import User
from visiona.sizes import size_limit

logger = logging.getLogger(__name__)

RUNS_PUSH_PATH = "_visiona/runs/sync"
REPORTABLE = ("running", "completed", "failed")


@dataclass(frozen=True)
class NewInput:
    """An input as it arrives: its file name, media type and its bytes in chunks."""

    name: str
    content_type: str
    size_bytes: int
    chunks: Iterable[bytes]


def run_create(
    *, user: User, model_id: int, device_id: str, inputs: list[NewInput], options: InferOptions
) -> Run:
    """Store the inputs, make the run, nudge the device once it is committed."""
    model = model_get_for_user(user=user, model_id=model_id)
    try:
        device = device_selectors.device_get_for_user(user=user, device_id=device_id)
    except Exception:  # a malformed id is as unknown as another user's device
        raise DeviceNotFound() from None
    if device.chip not in model.chips:
        message = _(
            "“%(model)s” is built for %(chips)s; %(device)s has a %(chip)s. Nothing was run."
        ) % {
            "model": model.name,
            "chips": ", ".join(model.chips),
            "device": device.name,
            "chip": device.chip,
        }
        raise RunChipMismatch(
            message,
            details={
                "chips": list(model.chips),
                "devices": [{"id": str(device.pk), "name": device.name, "chip": device.chip}],
            },
        )
    if not Deployment.objects.filter(
        device=device, model=model, state=DeploymentState.INSTALLED, sha256=model.sha256
    ).exists():
        raise ModelNotInstalled()
    _check_inputs(inputs)
    inputs = [_with_content_checked(item) for item in inputs]
    run_id = uuid.uuid4()
    stored: list[RunInput] = []
    try:
        for index, given in enumerate(inputs):
            stored.append(_store_input(run_id, index, given))
        with transaction.atomic():
            run = Run.objects.create(
                id=run_id,
                owner=user,
                device=device,
                model=model,
                sha256=model.sha256,
                repeat=options.repeat,
                channel_order=options.channel_order,
                scale=options.scale,
                inputs_count=len(stored),
                inputs_bytes=sum(row.size_bytes for row in stored),
            )
            for row in stored:
                row.run = run
            RunInput.objects.bulk_create(stored)
    except BaseException:
        run_files.delete(row.file for row in stored)
        raise
    transaction.on_commit(lambda: push.push([str(device.pk)], path=RUNS_PUSH_PATH))
    logger.info("run created", extra={"run_id": str(run.pk), "inputs": len(stored)})
    return run


def _check_inputs(inputs: list[NewInput]) -> None:
    limit, total_limit = settings.RUNS_MAX_INPUT_BYTES, settings.RUNS_MAX_TOTAL_BYTES
    if not inputs:
        raise ValidationFailed.for_fields(
            [{"field": "inputs", "message": _("Choose at least one input.")}]
        )
    if len(inputs) > settings.RUNS_MAX_INPUTS:
        message = _("At most %(count)d inputs per run.") % {"count": settings.RUNS_MAX_INPUTS}
        raise ValidationFailed.for_fields([{"field": "inputs", "message": message}])
    for item in inputs:
        if item.content_type not in INPUT_TYPES:
            message = _("%(name)s is not an image (PNG, JPEG, BMP), a .npy or a .npz.") % {
                "name": item.name
            }
            raise ValidationFailed.for_fields([{"field": "inputs", "message": message}])
        if item.size_bytes == 0:
            message = _("%(name)s is empty.") % {"name": item.name}
            raise ValidationFailed.for_fields([{"field": "inputs", "message": message}])
        if item.size_bytes > limit:
            raise input_too_large(item.name)
    if sum(item.size_bytes for item in inputs) > total_limit:
        raise inputs_too_large()


def input_too_large(name: str) -> PayloadTooLarge:
    """One input over ``RUNS_MAX_INPUT_BYTES``, named (the page shows the message)."""
    limit = settings.RUNS_MAX_INPUT_BYTES
    message = _("%(name)s is larger than %(limit)s.") % {"name": name, "limit": size_limit(limit)}
    return PayloadTooLarge(message, details={"limit_bytes": limit, "input": name})


def inputs_too_large() -> PayloadTooLarge:
    """All the inputs together over ``RUNS_MAX_TOTAL_BYTES``."""
    limit = settings.RUNS_MAX_TOTAL_BYTES
    message = _("The inputs come to more than %(limit)s in all.") % {"limit": size_limit(limit)}
    return PayloadTooLarge(message, details={"limit_bytes": limit})


def _with_content_checked(item: NewInput) -> NewInput:
    """The input, whole, once its first bytes show it is what its name says (an image,
    a .npy, a .npz): otherwise the device would refuse it only once the run is under
    way. Refused before anything is stored."""
    chunks = iter(item.chunks)
    taken: list[bytes] = []
    while sum(map(len, taken)) < INPUT_HEAD_BYTES and (chunk := next(chunks, None)) is not None:
        taken.append(chunk)
    if not starts_as(item.content_type, b"".join(taken)[:INPUT_HEAD_BYTES]):
        message = _("%(name)s is not an image (PNG, JPEG, BMP), a .npy or a .npz.") % {
            "name": item.name
        }
        raise ValidationFailed.for_fields([{"field": "inputs", "message": message}])
    return replace(item, chunks=itertools.chain(taken, chunks))


def input_type_of(name: str, declared: str | None) -> str:
    """The media type to record: the file name's (the browser's guess may be generic)."""
    return type_for_filename(name) or (declared or "").split(";")[0].strip().lower()


def _store_input(run_id: uuid.UUID, index: int, item: NewInput) -> RunInput:
    try:
        name, size, sha256 = run_files.store(
            run_files.input_name(str(run_id), index),
            item.chunks,
            max_bytes=settings.RUNS_MAX_INPUT_BYTES,
        )
    except FileTooLarge:  # longer than it said
        raise input_too_large(item.name) from None
    return RunInput(
        index=index,
        name=shorten_file_name(item.name, max_chars=255),
        content_type=item.content_type,
        size_bytes=size,
        sha256=sha256,
        file=name,
    )


def run_cancel(*, user: User, run_id: uuid.UUID | str) -> Run:
    with transaction.atomic():
        run = _locked(Run.objects.filter(owner=user), run_id)
        if run.is_final:
            raise RunFinished()
        _finish(run, RunState.CANCELLED)
    return run


def run_agreement_request(*, user: User, run_id: uuid.UUID | str) -> Run:
    """Compute (again) the agreement of a completed run with the model's original ONNX."""
    with transaction.atomic():
        run = _locked(Run.objects.filter(owner=user), run_id)
        if run.state != RunState.COMPLETED:
            raise RunNotCompleted()
        if not run.model.has_reference:
            raise NoReference()
        _queue_agreement(run)
    return run


# The agent's reports -------------------------------------------------------------


def run_report(
    *, device: Device, run_id: uuid.UUID | str, state: str, error_code: str = "", message: str = ""
) -> Run:
    with transaction.atomic():
        run = _locked(Run.objects.filter(device=device), run_id)
        _refuse_if_over(run)
        if state == RunState.RUNNING:
            if run.state == RunState.PENDING:
                run.state, run.started_at = RunState.RUNNING, timezone.now()
                run.save(update_fields=["state", "started_at", "updated_at"])
        elif state == RunState.COMPLETED:
            _complete(run)
        else:
            _finish(run, RunState.FAILED, error_code=error_code, message=message)
    return run


def run_record_result(
    *,
    device: Device,
    run_id: uuid.UUID | str,
    index: int,
    chunks: Iterable[bytes],
    timings_ms: list[float],
    runtime: str,
) -> RunInput:
    """One input's outputs (an .npz, streamed to storage) and its timings."""
    with transaction.atomic():
        run = _locked(Run.objects.filter(device=device), run_id)
        _refuse_if_over(run)
        item = _input(run, index)
        try:
            name, size, _sha = run_files.store(
                run_files.output_name(str(run.pk), index), chunks, max_bytes=MAX_OUTPUT_BYTES
            )
        except FileTooLarge:
            raise PayloadTooLarge(details={"limit_bytes": MAX_OUTPUT_BYTES}) from None
        old = item.output_file
        item.state, item.output_file, item.output_size_bytes = RunInputState.DONE, name, size
        item.timings_ms, item.error_code, item.error_message = timings_ms, "", ""
        item.save()
        _count_done(run, runtime=runtime)
    if old and old != name:
        run_files.delete([old])
    return item


def run_record_input_error(
    *, device: Device, run_id: uuid.UUID | str, index: int, code: str, message: str
) -> RunInput:
    with transaction.atomic():
        run = _locked(Run.objects.filter(device=device), run_id)
        _refuse_if_over(run)
        item = _input(run, index)
        item.state, item.error_code, item.error_message = RunInputState.FAILED, code, message[:500]
        item.save(update_fields=["state", "error_code", "error_message"])
        _count_done(run, runtime=run.runtime)
    return item


def runs_cancel_for_device(*, device: Device) -> int:
    """Cancel a device's unfinished runs (it is being unpaired): inside the unpair's
    transaction, no push (its tunnel is closing)."""
    unfinished = list(
        Run.objects.select_for_update().filter(device=device, state__in=RunState.unfinished())
    )
    for run in unfinished:
        _finish(run, RunState.CANCELLED)
    return len(unfinished)


def _count_done(run: Run, *, runtime: str) -> None:
    run.inputs_done = run.inputs.exclude(state=RunInputState.PENDING).count()
    if run.state == RunState.PENDING:
        run.state, run.started_at = RunState.RUNNING, timezone.now()
    run.runtime = runtime[:100] or run.runtime
    run.save(update_fields=["inputs_done", "state", "started_at", "runtime", "updated_at"])


def _complete(run: Run) -> None:
    timings = [
        timing
        for item in run.inputs.filter(state=RunInputState.DONE).only("timings_ms")
        for timing in item.timings_ms or []
    ]
    run.latency = latency_summary(timings)
    _finish(run, RunState.COMPLETED)
    if run.model.has_reference and run.inputs.filter(state=RunInputState.DONE).exists():
        _queue_agreement(run)


def _queue_agreement(run: Run) -> None:
    from deployments.run_tasks import run_compute_agreement

    run.reference_state, run.reference_error = ReferenceState.PENDING, ""
    run.save(update_fields=["reference_state", "reference_error", "updated_at"])
    run_id = str(run.pk)
    transaction.on_commit(lambda: run_compute_agreement.enqueue(run_id))


def _finish(run: Run, state: str, *, error_code: str = "", message: str = "") -> None:
    run.state, run.finished_at = state, timezone.now()
    run.error_code, run.error_message = error_code[:64], message[:500]
    run.save()


def _refuse_if_over(run: Run) -> None:
    if run.state == RunState.CANCELLED:
        raise RunCancelled()
    if run.is_final:
        raise RunFinished()


def _locked(queryset, run_id) -> Run:
    try:
        run = queryset.select_for_update(of=("self",)).filter(pk=run_id).first()
    except (ValueError, TypeError, ValidationError):  # a malformed id: as unknown as another's
        run = None
    if run is None:
        raise RunNotFound()
    return run


def _input(run: Run, index: int) -> RunInput:
    item = run.inputs.filter(index=index).first()
    if item is None:
        raise RunInputMissing()
    return item
