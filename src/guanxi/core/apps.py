from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "guanxi.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from guanxi.core.signin import sign_in_failed_receiver

        # Every failed password check counts towards the sign-in lock-out.
        user_login_failed.connect(sign_in_failed_receiver, dispatch_uid="guanxi.sign_in_failed")
