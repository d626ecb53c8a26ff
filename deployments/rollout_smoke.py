"""The health gate's smoke run: each device runs the new model before its phase passes.

A rollout made with ``smoke_run`` (an earlier completed run of the same model: its inputs
and its options) starts, on each device that installed the model and came back
connected, a run of the model on those inputs (docs/runs.md). The device passes once
that run completed with every input answered, and, with ``smoke_expect``, once its
figures meet those expectations (the runs' own, "cosine>=0.99,top1>=0.98": the agreement
ones wait for the background worker's comparison with the model's original ONNX). The
older ``smoke_min_cosine`` alone asks the lowest cosine to reach it. A run that fails, an
input the device refused, or a figure short of its expectation fails the device, with
the reason. The engine looks again every
``rollout_checks.CHECK_INTERVAL`` while a run is under way, until the phase's deadline.

Registered in ``DeploymentsConfig.ready()`` (``rollout_checks.register_phase_check``):
rollouts made without a smoke run pass it at once. A rollout made with one keeps its gate
(``smoke_gate``) when that run is deleted: its devices then fail with
``smoke_inputs_gone``, never pass unchecked. A rollout under way whose gate compares
with the original ONNX is named on the page that asks before forgetting that ONNX
(``reference_needs``, registered with ``models_repo.registry``): without it, its
remaining smoke runs fail.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from visiona_client.inference_contract import InferOptions
from visiona_client.run_figures import FIGURES, Expectation, gate_figures, parse_expectations

from deployments import rollout_checks, run_files, run_services
from deployments.rollout_checks import FAILED, PASSED, WAITING, Verdict
from deployments.rollout_choices import RolloutState
from deployments.rollout_models import SMOKE_EXPECT_MAX_CHARS, Rollout, RolloutTarget
from deployments.run_choices import ReferenceState, RunInputState, RunState
from deployments.run_models import Run
from models_repo.models import NefModel
from models_repo.registry import ReferenceNeed, register_reference_needs
from visiona.errors import AppError, ValidationFailed

logger = logging.getLogger(__name__)

ORDER = 50  # after ``connected``: a device that did not come back cannot run anything


def smoke_run_check(*, targets: list[RolloutTarget], now: datetime) -> dict[int, Verdict]:
    verdicts: dict[int, Verdict] = {}
    for target in targets:
        rollout = target.rollout
        if not rollout.smoke_gate:
            verdicts[target.pk] = Verdict(PASSED)
            continue
        if target.smoke_run_id is None:
            verdicts[target.pk] = _start(rollout, target)
            continue
        verdicts[target.pk] = _judge(rollout, target.smoke_run)
    return verdicts


def _start(rollout: Rollout, target: RolloutTarget) -> Verdict:
    """A run of the rollout's model on the device, on the smoke run's inputs."""
    template = rollout.smoke_run
    if template is None:  # the run chosen for its inputs was deleted meanwhile
        return Verdict(FAILED, "smoke_inputs_gone", _("The smoke run's inputs are gone."))
    inputs = [
        run_services.NewInput(
            name=item.name,
            content_type=item.content_type,
            size_bytes=item.size_bytes,
            chunks=run_files.chunks(item.file),
        )
        for item in template.inputs.order_by("index")
    ]
    options = InferOptions(
        repeat=template.repeat, channel_order=template.channel_order, scale=template.scale
    )
    try:
        run = run_services.run_create(
            user=rollout.owner,
            model_id=rollout.model_id,
            device_id=str(target.device_id),
            inputs=inputs,
            options=options,
        )
    except AppError as error:
        # The refusal's code, not its message: this is the worker, in its own language;
        # rollout_texts.py writes the sentence in the reader's when it is shown.
        return Verdict(FAILED, "smoke_run_refused", error.code)
    target.smoke_run = run
    target.save(update_fields=["smoke_run", "updated_at"])
    logger.info("rollout smoke run", extra={"rollout_id": str(rollout.pk), "run_id": str(run.pk)})
    return _under_way()


def _under_way() -> Verdict:
    return Verdict(WAITING, "smoke_run", _("Installed; its smoke run is under way."))


def _judge(rollout: Rollout, run: Run | None) -> Verdict:
    if run is None:  # the device's own run, not the one whose inputs it ran
        return Verdict(FAILED, "smoke_run_gone", _("Its smoke run is gone."))
    if run.state in (RunState.PENDING, RunState.RUNNING):
        return _under_way()
    if run.state != RunState.COMPLETED:
        reason = run.error_message or run.get_state_display()
        message = _("Its smoke run failed: %(reason)s") % {"reason": reason}
        return Verdict(FAILED, "smoke_run_failed", message)
    refused = run.inputs.filter(state=RunInputState.FAILED).count()
    if refused:
        message = _("Its smoke run: the device refused %(count)d of %(total)d inputs.")
        return Verdict(
            FAILED, "smoke_inputs_failed", message % {"count": refused, "total": run.inputs_count}
        )
    if rollout.smoke_expect:
        return _expected(rollout, run)
    if rollout.smoke_min_cosine is None:
        return Verdict(PASSED)
    return _agreement(rollout, run)


def _comparing(run: Run) -> Verdict | None:
    """Waiting for, or failed without, the comparison with the original ONNX."""
    if run.reference_state in (ReferenceState.PENDING, ReferenceState.COMPUTING):
        return Verdict(
            WAITING,
            "smoke_comparing",
            _("Its smoke run is being compared with the original ONNX."),
        )
    if run.reference_state != ReferenceState.DONE or not run.agreement:
        return Verdict(
            FAILED,
            "smoke_no_agreement",
            _("Its smoke run could not be compared with the original ONNX."),
        )
    return None


def _expected(rollout: Rollout, run: Run) -> Verdict:
    if needs_reference(rollout.smoke_expect):
        unknown = _comparing(run)
        if unknown is not None:
            return unknown
    missed = [
        check for check in expectation_checks(rollout.smoke_expect, run) if not check["passed"]
    ]
    if missed:
        # The sentence is written when shown (rollout_texts), from the run's figures.
        return Verdict(FAILED, "smoke_expectation", missed_text(missed))
    return Verdict(PASSED)


# The runs' expectations (visiona_client.run_figures), which the smoke run meets or not.
LATENCY_FIGURES = ("p50_ms", "p90_ms", "throughput")


def clean_expectations(text: str, *, least: float | None = None) -> str:
    """``text`` checked and written back in one form ("cosine>=0.99,top1>=0.98"), with
    the older least cosine added as "cosine>=X" when both are given; empty for none.
    ValidationFailed (field ``smoke_expect``) when it is not expectations."""
    if not text.strip():
        return ""
    try:
        expectations = parse_expectations(text)
    except ValueError:
        message = _(
            "Write each expectation as FIGURE>=NUMBER (or <=, >, <), separated by commas; "
            "the figures: %(figures)s."
        ) % {"figures": ", ".join(FIGURES)}
        raise ValidationFailed.for_fields([{"field": "smoke_expect", "message": message}]) from None
    if least is not None:
        expectations.append(Expectation("cosine", ">=", least))
    written = ",".join(str(expectation) for expectation in expectations)
    if len(written) > SMOKE_EXPECT_MAX_CHARS:
        message = _("At most %(count)d characters.") % {"count": SMOKE_EXPECT_MAX_CHARS}
        raise ValidationFailed.for_fields([{"field": "smoke_expect", "message": message}])
    return written


def needs_reference(expect: str) -> bool:
    """Whether these expectations need the comparison with the original ONNX."""
    return bool(expect) and any(
        expectation.figure not in LATENCY_FIGURES for expectation in parse_expectations(expect)
    )


def expectation_checks(expect: str, run: Run) -> list[dict]:
    """Each expectation with the run's figure and whether it met it (a figure not
    measured fails, as for ``visiona run --expect``)."""
    figures = gate_figures(run.agreement, run.latency)
    return [expectation.check(figures) for expectation in parse_expectations(expect)]


def missed_text(missed: list[dict]) -> str:
    """The missed ones with the run's figures, "cosine>=0.99: 0.9812, top1>=0.98: —"."""
    return ", ".join(f"{check['expectation']}: {_figure(check['value'])}" for check in missed)


def _figure(value) -> str:
    return "—" if value is None else f"{value:.4g}"


def _agreement(rollout: Rollout, run: Run) -> Verdict:
    if run.reference_state in (ReferenceState.PENDING, ReferenceState.COMPUTING):
        return Verdict(
            WAITING,
            "smoke_comparing",
            _("Its smoke run is being compared with the original ONNX."),
        )
    cosine = (run.agreement or {}).get("cosine")
    if run.reference_state != ReferenceState.DONE or cosine is None:
        return Verdict(
            FAILED,
            "smoke_no_agreement",
            _("Its smoke run could not be compared with the original ONNX."),
        )
    if cosine < rollout.smoke_min_cosine:
        message = _("Its smoke run's lowest cosine %(cosine).4f is under %(least).4f.")
        return Verdict(
            FAILED,
            "smoke_agreement",
            message % {"cosine": cosine, "least": rollout.smoke_min_cosine},
        )
    return Verdict(PASSED)


def compares_with_reference(rollout: Rollout) -> bool:
    """Whether the rollout's devices pass only once their smoke run is compared with the
    model's original ONNX (as ``_judge`` asks)."""
    if not rollout.smoke_gate:
        return False
    if rollout.smoke_expect:
        return needs_reference(rollout.smoke_expect)
    return rollout.smoke_min_cosine is not None


def reference_needs(*, model: NefModel) -> list[ReferenceNeed]:
    """The model's rollouts, running or paused, whose smoke runs are compared with its
    original ONNX: without it, their remaining smoke runs fail (``smoke_no_agreement``)."""
    rollouts = Rollout.objects.filter(
        model=model, state__in=(RolloutState.RUNNING, RolloutState.PAUSED), smoke_gate=True
    ).order_by("created_at")
    needs = []
    for rollout in rollouts:
        if not compares_with_reference(rollout):
            continue
        if rollout.state == RolloutState.PAUSED:
            text = _(
                "The paused rollout to %(group)s compares each device's smoke run with this "
                "ONNX: without it, its remaining smoke runs will fail once it resumes, and "
                "their devices with them."
            )
        else:
            text = _(
                "The rollout to %(group)s, under way, compares each device's smoke run with "
                "this ONNX: without it, its remaining smoke runs will fail, and their "
                "devices with them."
            )
        needs.append(
            ReferenceNeed(
                text=text % {"group": rollout.group_name},
                link_text=_("Open the rollout"),
                url=reverse("devices-rollout", args=[rollout.pk]),
            )
        )
    return needs


def register() -> None:
    rollout_checks.register_phase_check("smoke_run", smoke_run_check, order=ORDER)
    register_reference_needs("rollouts", reference_needs)
