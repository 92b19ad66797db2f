from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderChannel(models.TextChoices):
    ONLINE = "online", _("online")
    OFFLINE = "offline", _("offline")


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("placed")
    SHIPPED = "shipped", _("shipped")
    DELIVERED = "delivered", _("delivered")
    CANCELLED = "cancelled", _("cancelled")
    RETURNED = "returned", _("returned")


# Orders that count as purchases in the analytics (cancelled and returned ones do not).
PURCHASE_STATUSES = (OrderStatus.PLACED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
