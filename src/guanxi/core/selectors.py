from typing import Any

from guanxi.core.models import StaffProfile
from guanxi.engagement.models import Case, Interaction
from guanxi.parties.models import Customer
from guanxi.sales.models import Order, Product


def home_counts() -> dict[str, int]:
    """How much the store holds; shown on the home page."""
    return {
        "customers": Customer.objects.count(),
        "products": Product.objects.count(),
        "orders": Order.objects.count(),
        "interactions": Interaction.objects.count(),
        "open_cases": Case.objects.open().count(),
    }


def staff_language(*, user: Any) -> str | None:
    """The interface language ``user`` chose last, or None if they never chose one."""
    return StaffProfile.objects.filter(user=user).values_list("language", flat=True).first()
