"""The dashboard's filters: customer type, account owner and segment — the same on every panel."""

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from guanxi.hierarchy.selectors import MIGRATION_MEASURES
from guanxi.parties.choices import CustomerType
from guanxi.scoring.choices import Measure

# The owner filter's value for the customers nobody owns.
UNASSIGNED = "none"


class DashboardFilterForm(forms.Form):
    customer_type = forms.ChoiceField(
        label=_("Customer type"),
        required=False,
        choices=[("", _("All types")), *CustomerType.choices],
    )
    owner = forms.ChoiceField(label=_("Account owner"), required=False)
    # Any text is accepted: a segment the run does not have simply matches no customer, and the
    # page says so. The choices offered are the run's segments (the view lists them).
    segment = forms.CharField(label=_("Segment"), required=False, max_length=100)

    def __init__(self, *args: Any, owners: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", _("All owners")),
            (UNASSIGNED, _("Unassigned")),
            *((str(u.pk), u.get_full_name() or u.get_username()) for u in owners),
        ]

    def scope_filters(self) -> dict[str, Any]:
        """The cleaned filters as keyword arguments of ``dashboard_scope``."""
        owner = self.cleaned_data.get("owner") or ""
        return {
            "customer_type": self.cleaned_data.get("customer_type") or "",
            "owner_id": int(owner) if owner and owner != UNASSIGNED else None,
            "unassigned": owner == UNASSIGNED,
            "segment": (self.cleaned_data.get("segment") or "").strip(),
        }

    def querystring(self) -> str:
        """The filters as a query string (for links that keep them), empty values left out."""
        query = QueryDict(mutable=True)
        for name in self.fields:
            value = self.cleaned_data.get(name) if self.is_bound and self.is_valid() else None
            if value:
                query[name] = value
        return query.urlencode()


class MigrationForm(DashboardFilterForm):
    measure = forms.ChoiceField(
        label=_("Measure"),
        required=False,
        choices=[(m, Measure(m).label) for m in MIGRATION_MEASURES],
    )

    def clean_measure(self) -> str:
        return self.cleaned_data.get("measure") or Measure.ACTUAL_LEVEL
