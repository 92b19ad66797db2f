"""Starting a scoring run from the web."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RunStartForm(forms.Form):
    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The last day of purchases the run takes into account; empty means today."),
    )

    def clean_as_of(self) -> dt.date | None:
        as_of = self.cleaned_data.get("as_of")
        if as_of is not None and as_of > timezone.localdate():
            raise forms.ValidationError(
                _("A scoring run cannot look ahead: choose today or an earlier day."),
                code="future",
            )
        return as_of
