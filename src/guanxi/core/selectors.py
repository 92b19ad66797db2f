from typing import Any

from django.db.models import QuerySet

from guanxi.core.models import ApiToken, StaffProfile
from guanxi.core.services import TOKEN_PREFIX, token_hash
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


def api_token_for_key(key: str) -> ApiToken | None:
    """The usable (not revoked, not expired) token whose key is ``key``, with its user."""
    if not key.startswith(f"{TOKEN_PREFIX}_") or len(key) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
    if token is None or not token.usable() or not token.user.is_active:
        return None
    return token


def api_tokens_of(*, user: Any) -> QuerySet[ApiToken]:
    """``user``'s own tokens, newest first (revoked ones included, marked)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
