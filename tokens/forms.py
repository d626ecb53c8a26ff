"""The tokens page's form. The rules (limits, scopes) are the service's and the API's."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from tokens import services
from visiona.api.scopes import Scope


def _expiry_choices():
    return [
        (days, ngettext_lazy("%(days)d day", "%(days)d days", days) % {"days": days})
        for days in services.EXPIRY_CHOICES_DAYS
    ]


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What it is for, e.g. “CI on the build server”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.READ],
    )
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires after"),
        choices=_expiry_choices,
        coerce=int,
        initial=services.DEFAULT_EXPIRY_DAYS,
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the token a name."))
        return name
