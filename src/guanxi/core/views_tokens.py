"""The "API tokens" page: a signed-in user creates, sees and revokes their own API tokens.

The key of a new token is shown on the response to the POST that created it and never again.
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core.errors import GuanxiError
from guanxi.core.models import TokenScope
from guanxi.core.requests import client_ip
from guanxi.core.selectors import api_tokens_of
from guanxi.core.services import api_token_create, api_token_revoke


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. 'ERP order sync'."),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Scope"), choices=TokenScope.choices, initial=TokenScope.READ
    )
    days = forms.IntegerField(
        label=gettext_lazy("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=gettext_lazy("Leave empty for a token that does not expire."),
    )


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    key = None
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            days = form.cleaned_data["days"]
            try:
                _token, key = api_token_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    scope=form.cleaned_data["scope"],
                    expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
                    ip_address=client_ip(request),
                )
            except GuanxiError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                form = TokenForm()
    else:
        form = TokenForm()
    context = {"form": form, "key": key, "tokens": api_tokens_of(user=request.user)}
    return render(request, "core/tokens.html", context)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = api_tokens_of(user=request.user).filter(pk=pk).first()
    if token is None:
        raise Http404(_("No such token of yours."))
    try:
        api_token_revoke(token=token, actor=request.user, ip_address=client_ip(request))
    except GuanxiError as exc:
        messages.warning(request, exc.message)
    else:
        messages.success(request, _("Token %(name)s is revoked.") % {"name": token.name})
    return redirect("token_list")
