"""Forms for tasks: adding one by hand (the 360 page's quick action), the task inbox's filters,
and handing a task to someone else. The views pass the cleaned data to
``guanxi.playbooks.services``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.engagement.choices import InteractionChannel, Purpose
from guanxi.engagement.forms import ServiceErrorsMixin
from guanxi.playbooks.choices import TaskPriority, TaskStatus

# Where a new task falls due unless the user says otherwise.
DEFAULT_DUE_IN = dt.timedelta(days=7)
# The reason filter's value for tasks made by hand (their reason key starts "manual:").
MANUAL_REASON = "manual"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class TaskAddForm(ServiceErrorsMixin, forms.Form):
    """A task written by hand for one customer."""

    title = forms.CharField(label=_("Title"), max_length=200)
    reason = forms.CharField(
        label=_("Why"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown on the task, so whoever does it knows why it matters."),
    )
    purpose = forms.ChoiceField(
        label=_("Done by a contact with the purpose"),
        choices=Purpose.choices,
        initial=Purpose.FOLLOW_UP,
        help_text=_("Logging such a contact completes the task."),
    )
    channel = forms.ChoiceField(
        label=_("Suggested channel"),
        required=False,
        choices=[("", _("any")), *InteractionChannel.choices],
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=TaskPriority.choices, initial=TaskPriority.NORMAL
    )
    due_on = forms.DateField(label=_("Due on"), widget=DateInput())
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=None, required=False, empty_label=_("unassigned")
    )

    def __init__(self, *args: Any, owners: QuerySet, default_owner: Any = None, **kwargs: Any):
        kwargs.setdefault("auto_id", "task_%s")  # the 360 page holds three forms
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].initial = getattr(default_owner, "pk", None)
        self.fields["due_on"].initial = timezone.localdate() + DEFAULT_DUE_IN

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise ValidationError(_("Give the task a title."))
        return title

    def clean_due_on(self) -> dt.date:
        due_on = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise ValidationError(_("The due date has passed; choose today or a later day."))
        return due_on


class TaskFilterForm(forms.Form):
    """The task inbox's filters (GET). Which scopes a user may pick depends on their role."""

    MINE, TEAM, POOL, ALL = "mine", "team", "pool", "all"

    scope = forms.ChoiceField(label=_("Tasks of"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=TaskStatus.choices, initial=TaskStatus.OPEN
    )
    reason = forms.ChoiceField(label=_("Reason"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(
        self,
        *args: Any,
        scopes: list[str],
        playbooks: list[tuple[str, str]],
        owners: QuerySet | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            self.MINE: _("me"),
            self.TEAM: _("my team"),
            self.POOL: _("the unassigned pool"),
            self.ALL: _("everyone"),
        }
        self.fields["scope"].choices = [(s, labels[s]) for s in scopes]
        self.fields["reason"].choices = [
            ("", _("any reason")),
            *playbooks,
            (MANUAL_REASON, _("added by hand")),
        ]
        if owners is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].choices = [("", _("anyone"))] + [
                (str(u.pk), u.get_full_name() or u.get_username()) for u in owners
            ]


class TaskAssignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Assign to"), queryset=None)

    def __init__(self, *args: Any, owners: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
