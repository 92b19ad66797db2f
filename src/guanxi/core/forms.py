"""The sign-in forms: Django's, with the lock-out of ``guanxi.core.signin`` in front."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import ngettext

from guanxi.core.requests import client_ip
from guanxi.core.signin import (
    minutes_left,
    sign_in_locked_until,
    sign_in_refusal_record,
    sign_in_success_record,
)


class LockoutMixin:
    """Refuse a locked username before its password is checked; record successful sign-ins.

    Failed sign-ins are recorded by ``signin.sign_in_failed_receiver`` when Django's
    ``authenticate()`` fails, so they are not recorded here.
    """

    def clean(self):
        username = self.cleaned_data.get("username")
        ip_address = client_ip(self.request)
        if username:
            until = sign_in_locked_until(username=username)
            if until is not None:
                sign_in_refusal_record(username=username, locked_until=until, ip_address=ip_address)
                minutes = minutes_left(until)
                raise forms.ValidationError(
                    ngettext(
                        "Too many failed sign-ins for this account; try again in %(minutes)d "
                        "minute.",
                        "Too many failed sign-ins for this account; try again in %(minutes)d "
                        "minutes.",
                        minutes,
                    )
                    % {"minutes": minutes},
                    code="locked",
                )
        cleaned = super().clean()
        user = self.get_user()
        if user is not None:
            sign_in_success_record(user=user, ip_address=ip_address)
        return cleaned


class SignInForm(LockoutMixin, AuthenticationForm):
    """The form of the sign-in page."""


class AdminSignInForm(LockoutMixin, AdminAuthenticationForm):
    """The admin's sign-in form: the same lock-out, so the admin is no way around it."""
