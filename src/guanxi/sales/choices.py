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


# Status changes an order can make once placed; cancelled and returned are final.
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    OrderStatus.PLACED: (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED),
    OrderStatus.SHIPPED: (OrderStatus.DELIVERED, OrderStatus.RETURNED),
    OrderStatus.DELIVERED: (OrderStatus.RETURNED,),
    OrderStatus.CANCELLED: (),
    OrderStatus.RETURNED: (),
}
