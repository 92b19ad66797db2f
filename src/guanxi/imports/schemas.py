"""Which columns each importable entity has, what they are called (in English and Chinese) and
where they go. ``docs/import.md`` documents these tables, and a test keeps the two in step.

A column's header may be its English identifier (``customer_external_id``) or any of its aliases
(``客户编号``); case, spaces, hyphens, a trailing ``*`` and a trailing unit in brackets
(``单价（元）``) are ignored when matching headers.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.engagement.choices import (
    CaseKind,
    CaseStatus,
    Direction,
    InteractionChannel,
    Purpose,
    Satisfaction,
    ServicePhase,
    Severity,
)
from guanxi.engagement.models import Case, Interaction
from guanxi.imports.formats import ImportFileError, Kind
from guanxi.parties.choices import CustomerType
from guanxi.parties.models import Contact, Customer, Tag
from guanxi.sales.choices import OrderChannel, OrderStatus
from guanxi.sales.models import Order, OrderLine, Product


@dataclass(frozen=True)
class Reference:
    """A column naming another record by its natural key (customer external id, SKU, username)."""

    model: Callable[[], type[models.Model]]
    lookup: str
    message: Promise  # how to fix an unknown key; %(value)s is the key


@dataclass(frozen=True)
class Column:
    name: str  # English identifier: the header the exporter writes and the staging column
    kind: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    target: str | None = None  # the model field it fills, when it fills one directly
    reference: Reference | None = None
    choices: type[models.TextChoices] | None = None
    min_value: int | None = None
    max_length: int | None = None
    default: Any = None  # staged when the cell is empty or the column is missing
    order_level: bool = False  # orders: a column of the order, repeated on each of its lines


@dataclass(frozen=True)
class Rule:
    """A condition on one row's effective values (the file's, or the stored ones for columns the
    file leaves out); ``violated`` is SQL with ``{column}`` placeholders."""

    violated: str
    column: str
    message: Promise


@dataclass(frozen=True)
class EntitySchema:
    name: str
    label: Promise
    model: type[models.Model]
    key: tuple[str, ...]  # columns that identify one row of the file
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...] = ()
    derive: Callable[[dict[str, Any]], None] | None = None  # fills defaults that need other cells

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]


@dataclass
class HeaderMap:
    """Where each known column is in the file and what the user called it."""

    positions: dict[str, int]
    headers: dict[str, str]
    ignored: list[str] = field(default_factory=list)

    def present(self, name: str) -> bool:
        return name in self.positions

    def header(self, name: str) -> str:
        return self.headers.get(name, name)


def _user_model() -> type[models.Model]:
    return get_user_model()


CUSTOMER_REF = Reference(
    lambda: Customer,
    "external_id",
    gettext_lazy(
        "No customer has the external id '%(value)s'. Import the customers file first, or correct "
        "the id."
    ),
)
CONTACT_REF = Reference(
    lambda: Contact,
    "external_id",
    gettext_lazy(
        "No contact person has the external id '%(value)s'. Import the contacts file first, or "
        "leave the cell empty."
    ),
)
ORDER_REF = Reference(
    lambda: Order,
    "external_id",
    gettext_lazy(
        "No order has the external id '%(value)s'. Import the orders file first, or leave the "
        "cell empty."
    ),
)
PRODUCT_REF = Reference(
    lambda: Product,
    "sku",
    gettext_lazy(
        "No product has the SKU '%(value)s'. Import the products file first, or correct the SKU."
    ),
)
USER_REF = Reference(
    _user_model,
    "username",
    gettext_lazy(
        "No user is called '%(value)s'. Write the username of an existing user, or leave the cell "
        "empty."
    ),
)


def _from_model(model: type[models.Model], column: Column) -> Column:
    """Fill max length, choices and default from the model field the column writes."""
    updates: dict[str, Any] = {}
    if column.reference is not None:
        ref_model = column.reference.model()
        updates["max_length"] = ref_model._meta.get_field(column.reference.lookup).max_length
    if column.target is None:
        return Column(**{**column.__dict__, **updates}) if updates else column
    f = model._meta.get_field(column.target)
    if column.max_length is None and getattr(f, "max_length", None) and column.reference is None:
        updates["max_length"] = f.max_length
    if column.choices is None and f.choices and column.kind == Kind.ENUM:
        raise ValueError(f"{model.__name__}.{column.target}: give the enum's choices")
    if column.default is None and column.reference is None:
        if f.has_default():
            default = f.get_default()
            # A plain str, not the TextChoices member, so drivers see an ordinary string.
            updates["default"] = str(default) if isinstance(default, str) else default
        elif f.blank and not f.null and column.kind in (Kind.TEXT, Kind.EMAIL, Kind.ENUM):
            updates["default"] = ""
    return Column(**{**column.__dict__, **updates}) if updates else column


def _schema(
    name: str,
    label: Promise,
    model: type[models.Model],
    key: tuple[str, ...],
    columns: Sequence[Column],
    **options: Any,
) -> EntitySchema:
    return EntitySchema(
        name, label, model, key, tuple(_from_model(model, c) for c in columns), **options
    )


def _col(name: str, kind: str, *aliases: str, **options: Any) -> Column:
    return Column(name, kind, aliases, **options)


def _case_due_default(values: dict[str, Any]) -> None:
    """An empty deadline defaults from the severity, as when a case is opened by hand."""
    from guanxi.engagement.services import DEFAULT_RESOLUTION_TIME

    if values["due_at"] is None and values["opened_at"] is not None and values["severity"]:
        values["due_at"] = values["opened_at"] + DEFAULT_RESOLUTION_TIME[values["severity"]]


CUSTOMERS = _schema(
    "customers",
    gettext_lazy("customers"),
    Customer,
    ("external_id",),
    [
        _col("external_id", Kind.TEXT, "客户编号", "编号", required=True, target="external_id"),
        _col("name", Kind.TEXT, "客户名称", "名称", "姓名", required=True, target="name"),
        _col(
            "customer_type",
            Kind.ENUM,
            "客户类型",
            "类型",
            required=True,
            target="customer_type",
            choices=CustomerType,
        ),
        _col("owner", Kind.TEXT, "负责人", target="owner", reference=USER_REF),
        _col("region", Kind.TEXT, "地区", "区域", target="region"),
        _col("tags", Kind.TAGS, "标签", max_length=Tag._meta.get_field("name").max_length),
        _col("phone", Kind.TEXT, "手机", "电话", "手机号", target="phone"),
        _col("email", Kind.EMAIL, "邮箱", "电子邮件", "电子邮箱", target="email"),
        _col("wechat_id", Kind.TEXT, "微信", "微信号", target="wechat_id"),
        _col("address", Kind.TEXT, "地址", target="address"),
        _col("marketing_consent", Kind.BOOL, "营销许可", "同意营销", target="marketing_consent"),
        _col("is_active", Kind.BOOL, "有效", "是否有效", target="is_active"),
    ],
)

CONTACTS = _schema(
    "contacts",
    gettext_lazy("contact people"),
    Contact,
    ("external_id",),
    [
        _col("external_id", Kind.TEXT, "联系人编号", "编号", required=True, target="external_id"),
        _col(
            "customer_external_id",
            Kind.TEXT,
            "客户编号",
            required=True,
            target="customer",
            reference=CUSTOMER_REF,
        ),
        _col("name", Kind.TEXT, "姓名", "联系人", "联系人姓名", required=True, target="name"),
        _col("job_title", Kind.TEXT, "职务", target="job_title"),
        _col("phone", Kind.TEXT, "手机", "电话", "手机号", target="phone"),
        _col("email", Kind.EMAIL, "邮箱", "电子邮件", "电子邮箱", target="email"),
        _col("wechat_id", Kind.TEXT, "微信", "微信号", target="wechat_id"),
        _col("is_primary", Kind.BOOL, "主要联系人", target="is_primary"),
    ],
)

PRODUCTS = _schema(
    "products",
    gettext_lazy("products"),
    Product,
    ("sku",),
    [
        _col("sku", Kind.TEXT, "商品编码", "产品编号", "货号", required=True, target="sku"),
        _col("name", Kind.TEXT, "产品名称", "名称", required=True, target="name"),
        _col("category", Kind.TEXT, "类别", "品类", target="category"),
        _col("unit_price", Kind.MONEY, "单价", required=True, target="unit_price_cents"),
        _col("unit_cost", Kind.MONEY, "单位成本", "成本", required=True, target="unit_cost_cents"),
        _col("is_active", Kind.BOOL, "有效", "是否有效", target="is_active"),
    ],
)

_ORDER_LEVEL = {"order_level": True}
ORDERS = _schema(
    "orders",
    gettext_lazy("orders"),
    OrderLine,
    ("order_external_id", "line_no"),
    [
        _col(
            "order_external_id",
            Kind.TEXT,
            "订单编号",
            required=True,
            max_length=Order._meta.get_field("external_id").max_length,
            **_ORDER_LEVEL,
        ),
        _col(
            "customer_external_id",
            Kind.TEXT,
            "客户编号",
            required=True,
            reference=CUSTOMER_REF,
            **_ORDER_LEVEL,
        ),
        _col("placed_at", Kind.DATETIME, "下单时间", required=True, **_ORDER_LEVEL),
        _col("promised_delivery_on", Kind.DATE, "承诺交付日期", **_ORDER_LEVEL),
        _col("delivered_on", Kind.DATE, "实际交付日期", "交付日期", **_ORDER_LEVEL),
        _col(
            "channel",
            Kind.ENUM,
            "渠道",
            choices=OrderChannel,
            default=str(OrderChannel.ONLINE),
            **_ORDER_LEVEL,
        ),
        _col(
            "status",
            Kind.ENUM,
            "状态",
            "订单状态",
            choices=OrderStatus,
            default=str(OrderStatus.PLACED),
            **_ORDER_LEVEL,
        ),
        _col("line_no", Kind.INT, "行号", min_value=1),
        _col(
            "sku",
            Kind.TEXT,
            "商品编码",
            "产品编号",
            "货号",
            required=True,
            reference=PRODUCT_REF,
        ),
        _col("quantity", Kind.INT, "数量", required=True, min_value=1),
        _col("unit_price", Kind.MONEY, "单价"),
        _col("unit_cost", Kind.MONEY, "单位成本", "成本"),
    ],
    rules=(
        Rule(
            f"{{status}} = '{OrderStatus.DELIVERED.value}' AND {{delivered_on}} IS NULL",
            "delivered_on",
            gettext_lazy(
                "A delivered order needs its actual delivery date: fill in delivered_on, or "
                "change the status."
            ),
        ),
    ),
)

_CONTEXT_COLUMNS = [
    _col(
        "customer_external_id",
        Kind.TEXT,
        "客户编号",
        required=True,
        target="customer",
        reference=CUSTOMER_REF,
    ),
    _col("contact_external_id", Kind.TEXT, "联系人编号", target="contact", reference=CONTACT_REF),
    _col("order_external_id", Kind.TEXT, "订单编号", target="order", reference=ORDER_REF),
]

INTERACTIONS = _schema(
    "interactions",
    gettext_lazy("interactions"),
    Interaction,
    ("external_id",),
    [
        _col("external_id", Kind.TEXT, "记录编号", "编号", required=True, target="external_id"),
        *_CONTEXT_COLUMNS,
        _col("occurred_at", Kind.DATETIME, "时间", "接触时间", required=True, target="occurred_at"),
        _col(
            "channel",
            Kind.ENUM,
            "渠道",
            required=True,
            target="channel",
            choices=InteractionChannel,
        ),
        _col(
            "direction",
            Kind.ENUM,
            "发起方",
            "方向",
            required=True,
            target="direction",
            choices=Direction,
        ),
        _col(
            "service_phase",
            Kind.ENUM,
            "服务阶段",
            required=True,
            target="service_phase",
            choices=ServicePhase,
        ),
        _col("purpose", Kind.ENUM, "目的", required=True, target="purpose", choices=Purpose),
        _col("staff", Kind.TEXT, "员工", "经办人", target="staff", reference=USER_REF),
        _col("notes", Kind.TEXT, "备注", target="notes"),
    ],
)

_AFTER_OPENED = "{%s} IS NOT NULL AND {opened_at} IS NOT NULL AND {%s} < {opened_at}"
CASES = _schema(
    "cases",
    gettext_lazy("cases"),
    Case,
    ("external_id",),
    [
        _col("external_id", Kind.TEXT, "工单编号", "编号", required=True, target="external_id"),
        *_CONTEXT_COLUMNS,
        _col("kind", Kind.ENUM, "类型", required=True, target="kind", choices=CaseKind),
        _col("category", Kind.TEXT, "类别", target="category"),
        _col("subject", Kind.TEXT, "主题", required=True, target="subject"),
        _col("description", Kind.TEXT, "描述", target="description"),
        _col("satisfaction", Kind.ENUM, "满意度", target="satisfaction", choices=Satisfaction),
        _col("severity", Kind.ENUM, "严重程度", target="severity", choices=Severity),
        _col("status", Kind.ENUM, "状态", target="status", choices=CaseStatus),
        _col("opened_at", Kind.DATETIME, "受理时间", required=True, target="opened_at"),
        _col("first_response_at", Kind.DATETIME, "首次响应时间", target="first_response_at"),
        _col("resolved_at", Kind.DATETIME, "解决时间", target="resolved_at"),
        _col("closed_at", Kind.DATETIME, "关闭时间", target="closed_at"),
        _col("due_at", Kind.DATETIME, "截止时间", target="due_at"),
        _col("owner", Kind.TEXT, "负责人", target="owner", reference=USER_REF),
        _col("resolution", Kind.TEXT, "处理结果", target="resolution"),
    ],
    rules=(
        Rule(
            _AFTER_OPENED % ("due_at", "due_at"),
            "due_at",
            gettext_lazy("The deadline (due_at) is before the case was opened (opened_at)."),
        ),
        Rule(
            _AFTER_OPENED % ("first_response_at", "first_response_at"),
            "first_response_at",
            gettext_lazy("The first response is before the case was opened (opened_at)."),
        ),
        Rule(
            _AFTER_OPENED % ("resolved_at", "resolved_at"),
            "resolved_at",
            gettext_lazy("The case is resolved before it was opened (opened_at)."),
        ),
        Rule(
            f"{{status}} IN ('{CaseStatus.RESOLVED.value}', '{CaseStatus.CLOSED.value}') "
            "AND {resolved_at} IS NULL",
            "resolved_at",
            gettext_lazy(
                "A resolved or closed case needs the time it was resolved: fill in resolved_at."
            ),
        ),
        Rule(
            f"{{status}} = '{CaseStatus.CLOSED.value}' AND {{closed_at}} IS NULL",
            "closed_at",
            gettext_lazy("A closed case needs the time it was closed: fill in closed_at."),
        ),
    ),
    derive=_case_due_default,
)

SCHEMAS: dict[str, EntitySchema] = {
    s.name: s for s in (CUSTOMERS, CONTACTS, PRODUCTS, ORDERS, INTERACTIONS, CASES)
}
ENTITIES = tuple(SCHEMAS)


def schema_get(entity: str) -> EntitySchema:
    try:
        return SCHEMAS[entity]
    except KeyError:
        raise ImportFileError(
            _("Unknown entity '%(entity)s'; choose one of: %(entities)s.")
            % {"entity": entity, "entities": ", ".join(ENTITIES)}
        ) from None


def _header_key(text: Any) -> str:
    key = str(text or "").strip().lstrip("\ufeff").rstrip("*").strip()
    key = re.sub(r"\s*[(（][^()（）]*[)）]\s*$", "", key)
    return re.sub(r"[\s\-]+", "_", key.casefold())


def header_resolve(schema: EntitySchema, header: Sequence[Any]) -> HeaderMap:
    """Map the file's header cells to columns; missing required columns are a file-level error."""
    spellings = {}
    for column in schema.columns:
        for spelling in (column.name, *column.aliases):
            spellings.setdefault(_header_key(spelling), column.name)
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored = []
    for index, cell in enumerate(header):
        text = str(cell or "").strip().lstrip("\ufeff")
        if not text:
            continue
        name = spellings.get(_header_key(text))
        if name is None:
            ignored.append(text)
        elif name in positions:
            raise ImportFileError(
                _("The columns '%(first)s' and '%(second)s' both mean %(column)s; keep one.")
                % {"first": headers[name], "second": text, "column": name}
            )
        else:
            positions[name] = index
            headers[name] = text
    missing = [c for c in schema.required if c.name not in positions]
    if missing:
        raise ImportFileError(
            _(
                "The %(entity)s file has no column for: %(missing)s. Row 1 must name the columns; "
                "expected: %(expected)s."
            )
            % {
                "entity": schema.label,
                "missing": ", ".join(_describe(c) for c in missing),
                "expected": ", ".join(_describe(c) for c in schema.columns),
            }
        )
    return HeaderMap(positions, headers, ignored)


def _describe(column: Column) -> str:
    return f"{column.name} ({column.aliases[0]})" if column.aliases else column.name
