"""The home page, the health check, sign-in and sign-out, and the language switch.

The interface language is remembered per user (``StaffProfile.language``): switching stores it, and
signing in brings the user back to it — the URL prefix (``/zh-hans/…``) is what selects the
language, so both redirect to the same page under the chosen language's prefix.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.db import connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import translate_url
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from guanxi.core.forms import SignInForm
from guanxi.core.selectors import home_counts, staff_language
from guanxi.core.services import staff_language_set


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"counts": home_counts()})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def _url_in_language(url: str, language: str) -> str:
    """``url`` under ``language``'s prefix (unchanged if it is not one of our pages).

    ``translate_url`` resolves the path under the active language, and with an unprefixed default
    language a ``/zh-hans/…`` path only resolves while Chinese is active — so resolve it under the
    language its own prefix names.
    """
    own = translation.get_language_from_path(urlsplit(url).path) or settings.LANGUAGE_CODE
    with translation.override(own):
        return translate_url(url, language)


def _remember_in_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class SignInView(LoginView):
    """Django's sign-in, then on to the page asked for in the user's own language.

    Too many failed sign-ins lock the username for a while (``guanxi.core.signin``).
    """

    template_name = "registration/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        language = staff_language(user=user)
        if language not in dict(settings.LANGUAGES):
            # Never chose one (or it is no longer offered): keep the one they signed in with.
            language = translation.get_language()
            staff_language_set(user=user, language=language)
        response = HttpResponseRedirect(_url_in_language(response.url, language))
        _remember_in_cookie(response, language)
        return response


class SignOutView(LogoutView):
    next_page = "login"

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        # The session is gone; the message travels in the messages cookie.
        messages.info(request, _("You have signed out."))
        return response


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch the interface language, remember it for a signed-in user, and stay on the page."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        offered = ", ".join(code for code, _name in settings.LANGUAGES)
        return HttpResponseBadRequest(
            _("Unknown language “%(language)s”; choose one of: %(offered)s.")
            % {"language": language, "offered": offered}
        )
    next_url = request.POST.get("next", "")
    own = translation.get_language_from_path(urlsplit(next_url).path) or settings.LANGUAGE_CODE
    with translation.override(own):
        response = set_language(request)
    if request.user.is_authenticated:
        staff_language_set(user=request.user, language=language)
    return response
