"""Sign-in, sign-out, the language switch and the API tokens page; inside ``i18n_patterns``."""

from django.urls import path

from guanxi.core import views, views_tokens

urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("language/", views.language_switch, name="language_switch"),
    path("account/api-tokens/", views_tokens.token_list, name="token_list"),
    path("account/api-tokens/<int:pk>/revoke/", views_tokens.token_revoke, name="token_revoke"),
]
