"""Page forms. They collect input; the rules (extension, size, unique names)
live in services.py so the pages and the API refuse the same things alike."""

from django import forms
from django.utils.translation import gettext_lazy as _

from models_repo import services
from models_repo.choices import ModelSource
from models_repo.selectors import DEFAULT_SORT, model_sort_choices
from visiona.chips import Chip
from visiona.errors import AppError

NAME_HELP = _("Unique among your models. Leave empty to use the file name.")


class ModelFilterForm(forms.Form):
    """The list's filters, read from the query string; a bad value is ignored."""

    search = forms.CharField(label=_("Name contains"), required=False, max_length=200)
    chip = forms.ChoiceField(
        label=_("Chip"), required=False, choices=[("", _("All chips")), *Chip.choices]
    )
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("All sources")), *ModelSource.choices]
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=model_sort_choices)

    def filters(self) -> dict[str, str]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "search": data.get("search") or "",
            "chip": data.get("chip") or "",
            "source": data.get("source") or "",
            "sort": data.get("sort") or DEFAULT_SORT,
        }


class _ChipsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs) -> None:
        super().__init__(
            label=_("Chips it runs on"),
            choices=Chip.choices,
            error_messages={"required": _("Choose at least one chip the model runs on.")},
            **kwargs,
        )


class ModelUploadForm(forms.Form):
    file = forms.FileField(
        label=_("NEF file"),
        # The service explains an empty file in the same words as the API.
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ".nef"}),
        error_messages={"required": _("Choose a .nef file to upload.")},
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False, help_text=NAME_HELP)
    chips = _ChipsField()
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_file(self):
        # Checked here as well as in the service, so a wrong file is reported
        # together with the other fields' problems, in the service's words.
        upload = self.cleaned_data["file"]
        try:
            services.model_upload_check_file(upload=upload)
        except AppError as exc:
            raise forms.ValidationError(exc.details["fields"][0]["message"]) from None
        return upload


class ModelEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    chips = _ChipsField()
