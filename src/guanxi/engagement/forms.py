"""Forms for the engagement pages: logging an interaction, opening and working a case, and the
case queue's filters. They validate input; the views hand the cleaned data to
``guanxi.engagement.services``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import BLANK_CHOICE_DASH, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.errors import GuanxiError
from guanxi.engagement.choices import (
    CASE_TRANSITIONS,
    CaseKind,
    CaseStatus,
    Direction,
    InteractionChannel,
    Purpose,
    Satisfaction,
    ServicePhase,
    Severity,
)
from guanxi.engagement.models import Case
from guanxi.parties.choices import CONTACT_CUSTOMER_TYPES
from guanxi.parties.models import Customer

# A clock a few minutes fast on the user's machine is not an interaction from the future.
CLOCK_SLACK = dt.timedelta(minutes=5)
NOT_CLASSIFIED = [("", _("not classified"))]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class ServiceErrorsMixin:
    """Puts an error raised by a service on the field it names (or on the form as a whole)."""

    def add_service_error(self, exc: GuanxiError | ValidationError) -> None:
        form: forms.Form = self  # type: ignore[assignment]
        if isinstance(exc, GuanxiError):
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message)
            return
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)


class InteractionLogForm(ServiceErrorsMixin, forms.Form):
    """Log a contact with one customer (the 360 page's quick action)."""

    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=DateTimeLocalInput(),
        help_text=_("Leave empty for now."),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=InteractionChannel.choices)
    direction = forms.ChoiceField(
        label=_("Who started it"), choices=Direction.choices, initial=Direction.OUTBOUND
    )
    service_phase = forms.ChoiceField(
        label=_("Service phase"), choices=ServicePhase.choices, initial=ServicePhase.AFTER_SALE
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=Purpose.choices,
        initial=Purpose.FOLLOW_UP,
        help_text=_("An open task with this purpose is completed by a contact the company makes."),
    )
    contact = forms.ModelChoiceField(
        label=_("Contact person"), queryset=None, required=False, empty_label=_("none")
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, customer: Customer, contacts: QuerySet, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "log_%s")  # the 360 page holds three forms
        super().__init__(*args, **kwargs)
        self.customer = customer
        if customer.customer_type in CONTACT_CUSTOMER_TYPES:
            self.fields["contact"].queryset = contacts
        else:  # consumers and internal customers are the person themselves
            del self.fields["contact"]

    def clean_occurred_at(self) -> dt.datetime:
        when = self.cleaned_data.get("occurred_at") or timezone.now()
        if when > timezone.now() + CLOCK_SLACK:
            raise ValidationError(
                _("An interaction cannot be logged in the future; give the time it happened.")
            )
        return when


class CaseOpenForm(ServiceErrorsMixin, forms.Form):
    """Open a case (feedback, complaint or question) for one customer."""

    kind = forms.ChoiceField(label=_("Kind"), choices=CaseKind.choices, initial=CaseKind.COMPLAINT)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    category = forms.CharField(label=_("Category"), max_length=64, required=False)
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM
    )
    satisfaction = forms.ChoiceField(
        label=_("Classification"),
        choices=NOT_CLASSIFIED + Satisfaction.choices,
        required=False,
        help_text=_("How the customer feels, if they said so."),
    )
    due_at = forms.DateTimeField(
        label=_("Deadline"),
        required=False,
        widget=DateTimeLocalInput(),
        help_text=_("Leave empty for the default of the severity (critical: 24 hours)."),
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=None, required=False, empty_label=_("unassigned")
    )

    def __init__(self, *args: Any, owners: QuerySet, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "case_%s")
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners

    def clean_due_at(self) -> dt.datetime | None:
        due = self.cleaned_data.get("due_at")
        if due is not None and due <= timezone.now():
            raise ValidationError(_("The deadline must be later than now."))
        return due


class CaseFilterForm(forms.Form):
    """The case queue's filters (GET); every field is optional."""

    ACTIVE, ALL, MINE, NOBODY = "active", "all", "me", "none"

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            (ACTIVE, _("open or in progress")),
            *CaseStatus.choices,
            (ALL, _("any status")),
        ],
    )
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", _("any")), *Severity.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("any")), *CaseKind.choices]
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    satisfaction = forms.ChoiceField(
        label=_("Classification"),
        required=False,
        choices=[("", _("any")), *Satisfaction.choices, ("unclassified", _("not classified"))],
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, categories: list[str], owners: QuerySet, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("any"))] + [(c, c) for c in categories]
        self.fields["owner"].choices = [
            ("", _("anyone")),
            (self.MINE, _("me")),
            (self.NOBODY, _("unassigned")),
        ] + [(str(u.pk), u.get_full_name() or u.get_username()) for u in owners]


class CaseAssignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Assign to"), queryset=None)

    def __init__(self, *args: Any, owners: QuerySet, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "assign_%s")  # the case page holds three forms
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class CaseTransitionForm(ServiceErrorsMixin, forms.Form):
    """Move a case on: the choices are the moves its current status allows."""

    status = forms.ChoiceField(label=_("Move to"))
    resolution = forms.CharField(
        label=_("Resolution"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was done for the customer; needed to resolve the case."),
    )
    satisfaction = forms.ChoiceField(
        label=_("Classification"), required=False, choices=NOT_CLASSIFIED + Satisfaction.choices
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "move_%s")
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["status"].choices = [
            (s, CaseStatus(s).label) for s in CASE_TRANSITIONS[CaseStatus(case.status)]
        ]
        self.fields["resolution"].initial = case.resolution
        self.fields["satisfaction"].initial = case.satisfaction

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("status") == CaseStatus.RESOLVED and not (
            (data.get("resolution") or "").strip() or self.case.resolution
        ):
            self.add_error("resolution", _("Write down the resolution before resolving the case."))
        return data


class CaseClassifyForm(forms.Form):
    # A blank first choice, so an unclassified case is not classified by an unchanged select.
    satisfaction = forms.ChoiceField(
        label=_("Classification"), choices=[*BLANK_CHOICE_DASH, *Satisfaction.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "classify_%s")
        super().__init__(*args, **kwargs)
