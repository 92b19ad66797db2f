"""Sign-in, sign-out and the language switch; included inside ``i18n_patterns``."""

from django.urls import path

from guanxi.core import views

urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("language/", views.language_switch, name="language_switch"),
]
