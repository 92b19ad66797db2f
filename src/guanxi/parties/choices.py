from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerType(models.TextChoices):
    CONSUMER = "consumer", _("consumer")
    BUSINESS = "business", _("business")
    CHANNEL = "channel", _("channel partner")
    INTERNAL = "internal", _("internal customer")


# Contacts are people at an organisation; consumers and internal customers are the person.
CONTACT_CUSTOMER_TYPES = (CustomerType.BUSINESS, CustomerType.CHANNEL)

PERSONAL_DATA_FIELDS = ("phone", "email", "wechat_id", "address")
