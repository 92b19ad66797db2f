"""The form a rater fills in: one 1–5 choice per questionnaire item, each labelled by its anchor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.assessments.choices import SCORES, RaterRole
from guanxi.assessments.models import Questionnaire, QuestionnaireItem


class AssessmentForm(forms.Form):
    """Rater role, date and notes, plus a field ``item_<id>`` per item of ``questionnaire``."""

    rater_role = forms.ChoiceField(label=_("You answer as"), choices=RaterRole.choices)
    rater_name = forms.CharField(
        label=_("Name of the person at the customer"),
        required=False,
        max_length=200,
        help_text=_("Only for the customer's own answers, which have no staff rater."),
    )
    answered_on = forms.DateField(
        label=_("Answered on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea({"rows": 3}))

    def __init__(self, *args: Any, questionnaire: Questionnaire, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("answered_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.questionnaire = questionnaire
        self.items: list[QuestionnaireItem] = list(questionnaire.items.order_by("position"))
        for item in self.items:
            self.fields[self.item_field(item)] = forms.TypedChoiceField(
                label=f"{item.position}. {item.text}",
                choices=[(score, f"{score} — {item.anchor(score)}") for score in SCORES],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": _("Pick the description closest to how things are.")},
            )

    @staticmethod
    def item_field(item: QuestionnaireItem) -> str:
        return f"item_{item.pk}"

    def rater_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("rater_role", "rater_name", "answered_on", "notes")]

    def item_rows(self) -> list[tuple[QuestionnaireItem, forms.BoundField]]:
        """(item, bound field) in questionnaire order, for the template to group by dimension."""
        return [(item, self[self.item_field(item)]) for item in self.items]

    def clean_answered_on(self) -> dt.date:
        answered_on = self.cleaned_data["answered_on"]
        if answered_on > timezone.localdate():
            raise forms.ValidationError(_("The answer date is in the future."))
        return answered_on

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("rater_role") == RaterRole.CUSTOMER and not cleaned.get("rater_name"):
            self.add_error("rater_name", _("Say who at the customer answered."))
        return cleaned

    def answers(self) -> dict[int, int]:
        """Item id → score, for ``assessment_record``."""
        return {item.pk: self.cleaned_data[self.item_field(item)] for item in self.items}
