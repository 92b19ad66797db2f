"""Forms of the customer pages."""

from typing import Any

from django import forms

# The class the filter form's htmx trigger listens on (``change from:.filter-input``).
FILTER_INPUT_CLASS = "filter-input"


class CustomerFilterForm(forms.Form):
    """The form django-filter builds for ``CustomerFilterSet``.

    Every field but the search box carries ``FILTER_INPUT_CLASS``: a change there fetches new
    results at once. The search box has its own trigger (typing, with a pause), so leaving it —
    say, to click a column header — does not send a second, competing request.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "q":
                field.widget.attrs["class"] = FILTER_INPUT_CLASS
