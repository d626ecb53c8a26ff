"""The forms of the groups and rollouts pages. The rules are the services'; these only
read the fields and name them for the page."""

from __future__ import annotations

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from deployments.group_models import GROUP_NAME_MAX_CHARS, PIN_REASON_MAX_CHARS
from deployments.rollout_models import (
    DEFAULT_MAX_FAILURE_PERCENT,
    DEFAULT_PHASES,
    DEFAULT_WAIT_SECONDS,
    SMOKE_EXPECT_MAX_CHARS,
)


class GroupNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=GROUP_NAME_MAX_CHARS, strip=True)


class PinForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (shown where rollouts leave it out)"),
        max_length=PIN_REASON_MAX_CHARS,
        required=False,
        strip=True,
    )


class RolloutForm(forms.Form):
    group = forms.ChoiceField(label=_("Group"))
    model = forms.ChoiceField(label=_("Model"))
    phases = forms.CharField(
        label=_("Phases"),
        initial=", ".join(DEFAULT_PHASES),
        max_length=120,
        help_text=_(
            "Separated by commas: a number of devices (1), a share of them (20%), and the "
            "rest. The last phase always takes the rest."
        ),
    )
    max_failure_percent = forms.IntegerField(
        label=_("Allowed failures per phase (%)"),
        min_value=0,
        max_value=100,
        initial=DEFAULT_MAX_FAILURE_PERCENT,
        help_text=_("A phase with more failed devices than this share pauses the rollout."),
    )
    wait_minutes = forms.IntegerField(
        label=_("Wait for offline devices (minutes)"),
        min_value=1,
        max_value=7 * 24 * 60,
        initial=DEFAULT_WAIT_SECONDS // 60,
        help_text=_(
            "After this, a phase goes on without the devices that have not taken the model; "
            "they get it when they connect."
        ),
    )

    smoke_run = forms.ChoiceField(
        label=_("Smoke run on each device (optional)"),
        required=False,
        help_text=_(
            "Each device runs the model on the inputs of this earlier run of it, with its "
            "options, before its phase passes."
        ),
    )
    smoke_min_cosine = forms.FloatField(
        label=_("Least cosine with the original ONNX (optional)"),
        required=False,
        min_value=0.0,
        max_value=1.0,
        help_text=_("With a smoke run, for a model that keeps its original ONNX, e.g. 0.99."),
    )
    smoke_expect = forms.CharField(
        label=_("Expectations of each smoke run (optional)"),
        required=False,
        max_length=SMOKE_EXPECT_MAX_CHARS,
        strip=True,
        help_text=_(
            "As for a run: e.g. cosine>=0.99, top1>=0.98, p90_ms<=20. The agreement figures "
            "need a model that keeps its original ONNX; the least cosine above is cosine>=."
        ),
    )

    def __init__(self, *args, groups=(), models=(), runs=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        group, model, smoke = self.fields["group"], self.fields["model"], self.fields["smoke_run"]
        assert isinstance(group, forms.ChoiceField) and isinstance(model, forms.ChoiceField)
        assert isinstance(smoke, forms.ChoiceField)
        group.choices = [(str(g.pk), g.name) for g in groups]
        model.choices = [("", _("Choose a model"))] + [
            (str(m.pk), f"{m.name} ({', '.join(m.chips)})") for m in models
        ]
        smoke.choices = [("", _("(none)"))] + [(str(r.pk), smoke_run_label(r)) for r in runs]

    def phase_list(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data["phases"].split(",") if part.strip()]


def smoke_run_label(run) -> str:
    """A run as a smoke-run choice, told apart from the model's other runs by when it
    ran and on how many inputs: "detector · desk-1 · 7 Dec 2026, 19:20 · 10 inputs"."""
    moment = timezone.localtime(run.finished_at or run.created_at)
    inputs = ngettext("%(count)d input", "%(count)d inputs", run.inputs_count) % {
        "count": run.inputs_count
    }
    when = formats.date_format(moment, "DATETIME_FORMAT")
    return f"{run.model.name} · {run.device.name} · {when} · {inputs}"
