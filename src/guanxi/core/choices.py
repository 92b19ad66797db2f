from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The five roles; each is a Django group created by a migration."""

    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    SALES = "sales", _("Sales")
    SERVICE = "service", _("Service")
    ANALYST = "analyst", _("Analyst")
