"""Customers of the four types, the people at business and channel customers, and tags."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel
from guanxi.parties.choices import CustomerType


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(TimeStampedModel):
    """Any person or organisation the company serves (客户).

    ``phone``, ``email``, ``wechat_id`` and ``address`` are personal data: they are masked for roles
    without access and every view of them is audited (see ``docs/security.md`` once the API lands).
    """

    external_id = models.CharField(
        _("external id"),
        max_length=64,
        unique=True,
        help_text=_("The customer's id in the system it came from; imports match on it."),
    )
    name = models.CharField(_("name"), max_length=200)
    customer_type = models.CharField(
        _("customer type"), max_length=16, choices=CustomerType.choices, db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
        verbose_name=_("account owner"),
        help_text=_("Empty means the customer is in the unassigned pool."),
    )
    region = models.CharField(_("region"), max_length=64, blank=True, db_index=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat_id = models.CharField(_("WeChat id"), max_length=64, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    marketing_consent = models.BooleanField(
        _("marketing consent"),
        default=False,
        help_text=_("Whether the customer agreed to be contacted with offers and campaigns."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer_type__in=CustomerType.values),
                name="customer_type_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(external_id=""), name="customer_external_id_not_blank"
            ),
            models.CheckConstraint(condition=~models.Q(name=""), name="customer_name_not_blank"),
        ]
        indexes = [
            models.Index(fields=["owner", "customer_type"], name="customer_owner_type"),
            models.Index(Lower("email"), name="customer_email_lower"),
            models.Index(fields=["phone"], name="customer_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


class Contact(TimeStampedModel):
    """A person at a business or channel customer (联系人)."""

    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=200)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat_id = models.CharField(_("WeChat id"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact people")
        ordering = ["customer_id", "-is_primary", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(external_id=""), name="contact_external_id_not_blank"
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_primary=True),
                name="contact_one_primary_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return self.name
