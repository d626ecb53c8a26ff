"""The sentences a rollout shows, written when read, in the reader's language.

The rows keep codes and figures (``pause_code`` and ``pause_details``, a device's
``reason_code``, ``rollback_code``) and only what no code says: the agent's own error
message, a pin's reason, a check's words; a smoke run's verdict is read from the run,
and a refused smoke run keeps the refusal's code (``SMOKE_REFUSALS``).
Pages and the API both use these.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from deployments import failures, rollout_smoke
from deployments.rollout_choices import PhaseState, RolloutState
from deployments.rollout_models import Rollout, RolloutPhase, RolloutTarget
from deployments.run_choices import RunInputState
from visiona.durations import format_duration


def pause_message(rollout: Rollout) -> str:
    details = rollout.pause_details or {}
    if rollout.pause_code == "phase_failed":
        return _(
            "Phase %(phase)s: %(failed)s of %(count)s devices failed, more than the "
            "%(percent)s%% allowed. Retry the failed devices, resume anyway, or roll back."
        ) % {
            "phase": details.get("phase"),
            "failed": details.get("failed"),
            "count": details.get("count"),
            "percent": details.get("max_failure_percent"),
        }
    if rollout.pause_code == "phase_unconfirmed":
        return _(
            "Phase %(phase)s: no device installed the model and came back connected before "
            "the deadline (%(offline)s offline). Resume to go on anyway, or roll back."
        ) % {"phase": details.get("phase"), "offline": details.get("offline")}
    if rollout.pause_code == "by_user":
        return _("Paused by you: no further phase starts until you resume.")
    return ""


def target_reason(target: RolloutTarget, *, model_chips: list[str]) -> str:
    """Why the device is skipped, failed, offline or waiting; empty when nothing to say."""
    code, detail = target.reason_code, target.reason
    if code == "chip_mismatch":
        return _("Built for %(chips)s; this device has a %(chip)s.") % {
            "chips": ", ".join(model_chips),
            "chip": target.device.chip,
        }
    if code == "pinned":
        if detail:
            return _("Pinned: %(reason)s") % {"reason": detail}
        return _("Pinned: it keeps the model it has.")
    if code == "group_pinned":
        # rollout_pins wrote the group's name and the pin's reason on two lines.
        group, _newline, why = detail.partition("\n")
        if why:
            return _("Pinned with the group %(group)s: %(reason)s") % {
                "group": group,
                "reason": why,
            }
        return _("Pinned with the group %(group)s: it keeps the model it has.") % {"group": group}
    fixed = {
        "smoke_run": _("Installed; its smoke run is under way."),
        "smoke_comparing": _("Its smoke run is being compared with the original ONNX."),
        "smoke_inputs_gone": _("The smoke run's inputs are gone."),
        "smoke_run_gone": _("Its smoke run is gone."),
        "smoke_no_agreement": _("Its smoke run could not be compared with the original ONNX."),
        "unpaired": _("Unpaired before its phase began."),
        "offline": _(
            "Had not taken the model when its phase's deadline passed (offline, or not "
            "answering): it gets it when it next asks."
        ),
        "already_installed": _("It already had this model."),
        "cancelled": _("Its deployment was cancelled."),
        "deployment_gone": _("Its deployment no longer exists."),
    }
    if code in fixed:
        return fixed[code]
    if code == "smoke_run_refused":
        return smoke_refusal(detail)
    smoke = _smoke_reason(target)
    if smoke:
        return smoke
    if code == "smoke_expectation":  # its run is gone: the figures the worker kept
        return _("Its smoke run missed what was expected: %(missed)s.") % {"missed": detail}
    if code == "not_connected":
        if target.state == "failed":
            return _("Installed, but it did not come back connected before the deadline.")
        return _("Installed; waiting for the device to come back connected.")
    if code.startswith("smoke_") or code == "check_failed":
        # A check's own sentence, written by the worker (a row older than its code's).
        return f"{detail} ({code})" if detail else code
    return _deployment_failure(code, detail)


def _deployment_failure(code: str, detail: str) -> str:
    """A failed deployment (its agent's code and words): the sentence and advice the
    deploy pages show for a known code, else a general one naming the code; then the
    agent's own words, quoted (English, as it wrote them)."""
    if code in failures.KNOWN_CODES:
        failure = failures.failure_of_code(code)
        sentence = _sentences(failure.summary, failure.next_step)
    elif code:
        sentence = _(
            "The device reported a failure visionA does not know (%(code)s). Retry it; if "
            "it fails again, read the agent's log on the device."
        ) % {"code": code}
    else:
        sentence = ""
    if detail:
        said = _("The device reported: “%(detail)s”") % {"detail": detail}
        return _sentences(sentence, said) if sentence else said
    return sentence


def _sentences(first: str, second: str) -> str:
    """Two sentences, one after the other as the reader's language writes them (a
    space in English, none in Chinese)."""
    return pgettext("two sentences in a row", "%(first)s %(second)s") % {
        "first": first,
        "second": second,
    }


def _smoke_reason(target: RolloutTarget) -> str:
    """A failed smoke run's sentence, from the run itself: the worker that judged it
    wrote ``reason`` in its own language (kept for the admin and rows older than this)."""
    run = target.smoke_run if target.smoke_run_id else None
    if run is None:
        return ""
    code = target.reason_code
    if code == "smoke_run_failed":
        # The agent's own words when it gave some; else the run's state, translated.
        reason = run.error_message or str(run.get_state_display())
        return _("Its smoke run failed: %(reason)s") % {"reason": reason}
    if code == "smoke_inputs_failed":
        refused = run.inputs.filter(state=RunInputState.FAILED).count()
        return _("Its smoke run: the device refused %(count)d of %(total)d inputs.") % {
            "count": refused,
            "total": run.inputs_count,
        }
    if code == "smoke_expectation":
        expect = target.rollout.smoke_expect
        missed = [c for c in rollout_smoke.expectation_checks(expect, run) if not c["passed"]]
        if missed:
            return _("Its smoke run missed what was expected: %(missed)s.") % {
                "missed": rollout_smoke.missed_text(missed)
            }
    if code == "smoke_agreement":
        cosine = (run.agreement or {}).get("cosine")
        least = target.rollout.smoke_min_cosine
        if cosine is not None and least is not None:
            return _("Its smoke run's lowest cosine %(cosine).4f is under %(least).4f.") % {
                "cosine": cosine,
                "least": least,
            }
    return ""


SMOKE_REFUSALS = {
    "model_not_installed": lambda: _("the model is not installed on the device."),
    "chip_mismatch": lambda: _("the model is not built for the device's chip."),
    "device_not_found": lambda: _("the device is no longer yours (unpaired?)."),
    "model_not_found": lambda: _("the model is no longer in My models."),
    "payload_too_large": lambda: _("its inputs are larger than a run now allows."),
    "validation_failed": lambda: _("its inputs are not accepted for a run any more."),
}


def smoke_refusal(code: str) -> str:
    """Why visionA would not start a device's smoke run. The worker stored the refusal's
    code (``reason``); rows written before that hold its sentence, shown as it is."""
    refusal = SMOKE_REFUSALS.get(code)
    if refusal is not None:
        return _("Its smoke run could not start: %(reason)s") % {"reason": refusal()}
    if " " in code:  # an older row: the sentence the worker wrote
        return _("Its smoke run could not start: %(reason)s") % {"reason": code}
    return _("Its smoke run could not start (%(code)s).") % {"code": code}


ROLLBACK_REASONS = {
    "not_started": lambda: _("Its phase had not begun: nothing was sent to it."),
    "cancelled": lambda: _("Its deployment was cancelled before it installed."),
    "not_installed": lambda: _("The model was not installed: it still has what it had."),
    "installed_before": lambda: _("It had this model before the rollout: left as it is."),
    "replaced_since": lambda: _(
        "Another model was installed on it since: roll it back from its own page."
    ),
    "nothing_to_roll_back": lambda: _("It had no model before this one."),
    "rollback_in_progress": lambda: _("A rollback of it was already under way."),
}


def nothing_rolled_back() -> str:
    return _(
        "The rollout is stopped, and no device was rolled back: none had a model this "
        "rollout could undo. Each keeps what it has; the reason is given for each device."
    )


def rollback_summary(rollout: Rollout, counts) -> str:
    """What rolling the rollout back did, once it did (``counts``: rollout_selectors'):
    how many devices were sent back, and how many keep what they have, for a state
    that alone ("Rolled back") would say every device went back."""
    if rollout.state not in (RolloutState.ROLLING_BACK, RolloutState.ROLLED_BACK):
        return ""
    sent, kept = counts.rollback.get("sent", 0), counts.rollback.get("skipped", 0)
    if not sent:
        return nothing_rolled_back()
    went = ngettext(
        "%(count)d device was sent back to the model it had before.",
        "%(count)d devices were sent back to the models they had before.",
        sent,
    ) % {"count": sent}
    if not kept:
        return went
    stayed = ngettext(
        "%(count)d device keeps what it has; the reason is given next to it.",
        "%(count)d devices keep what they have; the reason is given for each.",
        kept,
    ) % {"count": kept}
    return _sentences(went, stayed)


def rollback_reason(target: RolloutTarget) -> str:
    """Why no rollback was sent to the device (empty when one was, or none asked)."""
    reason = ROLLBACK_REASONS.get(target.rollback_code)
    return reason() if reason else target.rollback_code


def deadline_messages() -> dict[str, str]:
    """What is left of a running phase's wait for offline devices (a %-format with
    ``duration``), and what it says once it is over; rollout-progress.js counts it down
    with the same sentences."""
    return {
        "left": _("%(duration)s left"),
        "passed": _("passed: offline devices no longer hold it up"),
    }


def deadline_left(phase: RolloutPhase, *, now: datetime) -> str:
    """What is left, "12 min 30 s left", while the phase waits; empty when not running."""
    if phase.state != PhaseState.RUNNING or phase.deadline_at is None:
        return ""
    seconds = (phase.deadline_at - now).total_seconds()
    messages = deadline_messages()
    if seconds <= 0:
        return messages["passed"]
    return messages["left"] % {"duration": format_duration(seconds)}
