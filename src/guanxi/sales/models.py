"""Products, orders and order lines: the transactions every analysis starts from.

Money is integer cents in the currency of ``settings.CURRENCY`` end to end; floats never hold money.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel
from guanxi.sales.choices import PURCHASE_STATUSES, OrderChannel, OrderStatus


class Product(TimeStampedModel):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True, db_index=True)
    unit_price_cents = models.BigIntegerField(_("unit price (cents)"))
    unit_cost_cents = models.BigIntegerField(_("unit cost (cents)"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=~Q(sku=""), name="product_sku_not_blank"),
            models.CheckConstraint(
                condition=Q(unit_price_cents__gte=0), name="product_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost_cents__gte=0), name="product_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class OrderQuerySet(models.QuerySet):
    def purchases(self):
        """Orders that count as purchases: not cancelled, not returned."""
        return self.filter(status__in=PURCHASE_STATUSES)


class Order(TimeStampedModel):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    customer = models.ForeignKey(
        "parties.Customer",
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("customer"),
    )
    placed_at = models.DateTimeField(_("placed at"))
    promised_delivery_on = models.DateField(_("promised delivery date"), null=True, blank=True)
    delivered_on = models.DateField(_("actual delivery date"), null=True, blank=True)
    channel = models.CharField(
        _("channel"), max_length=16, choices=OrderChannel.choices, default=OrderChannel.ONLINE
    )
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(external_id=""), name="order_external_id_not_blank"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=OrderChannel.values), name="order_channel_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status=OrderStatus.DELIVERED, delivered_on__isnull=False)
                | ~Q(status=OrderStatus.DELIVERED),
                name="order_delivered_has_date",
            ),
        ]
        indexes = [models.Index(fields=["customer", "placed_at"], name="order_customer_placed")]

    def __str__(self) -> str:
        return self.external_id


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    line_no = models.PositiveIntegerField(_("line number"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("product")
    )
    quantity = models.IntegerField(_("quantity"))
    unit_price_cents = models.BigIntegerField(_("unit price (cents)"))
    unit_cost_cents = models.BigIntegerField(_("unit cost (cents)"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="order_line_unique_no"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price_cents__gte=0), name="order_line_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost_cents__gte=0), name="order_line_cost_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.line_no}"

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_price_cents

    @property
    def profit_cents(self) -> int:
        return self.quantity * (self.unit_price_cents - self.unit_cost_cents)


LINE_AMOUNT = F("quantity") * F("unit_price_cents")
LINE_PROFIT = F("quantity") * (F("unit_price_cents") - F("unit_cost_cents"))
