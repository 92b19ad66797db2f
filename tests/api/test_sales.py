"""The products and orders endpoints: who may do what to which order, recording orders with their
lines, status changes, the idempotent bulk import, filters and bounded queries."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.core.models import Event
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.sales.services import LineInput, order_record
from tests.api.conftest import RECORDS, ROLES, SEES, events

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
ORDERS = "/api/v1/orders/"
BULK = "/api/v1/orders/bulk/"
ORDER_WRITERS = {"admin", "manager", "sales"}
PLACED = "2026-05-04T10:30:00+08:00"


@pytest.fixture
def shop(company):
    """Two products and one order for each customer."""
    tea = Product.objects.create(
        sku="TEA-1",
        name="Green tea",
        category="tea",
        unit_price_cents=12_000,
        unit_cost_cents=7_000,
    )
    cup = Product.objects.create(
        sku="CUP-1", name="Cup", category="ware", unit_price_cents=3_000, unit_cost_cents=1_000
    )
    orders = {
        record: order_record(
            customer=company.customers[record],
            external_id=f"O-{record.upper()}",
            placed_at=dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC),
            lines=[LineInput(product=tea, quantity=2), LineInput(product=cup, quantity=1)],
        )
        for record in RECORDS
    }
    return {"tea": tea, "cup": cup, "orders": orders}


def _order(external_id: str, customer: object = "C-OWN", **fields) -> dict:
    return {
        "external_id": external_id,
        "customer": customer,
        "placed_at": PLACED,
        "lines": [{"product": "TEA-1", "quantity": 3}, {"product": "CUP-1", "quantity": 1}],
        **fields,
    }


# -- products ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_products_with_their_cost(company, shop, api_as, role):
    client = api_as(company.users[role])
    listed = client.get(PRODUCTS).json()["results"]
    assert [p["sku"] for p in listed] == ["TEA-1", "CUP-1"]
    one = client.get(f"{PRODUCTS}{shop['tea'].pk}/").json()
    assert (one["unit_price_cents"], one["unit_cost_cents"]) == (12_000, 7_000)


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_create_and_change_products(company, shop, api_as, role):
    client = api_as(company.users[role])
    created = client.post(
        PRODUCTS,
        {"sku": "POT-1", "name": "Teapot", "unit_price_cents": 20_000, "unit_cost_cents": 9_000},
        format="json",
    )
    changed = client.patch(f"{PRODUCTS}{shop['tea'].pk}/", {"unit_price_cents": 13_000}, "json")
    admin = role == "admin"
    assert (created.status_code, changed.status_code) == ((201, 200) if admin else (403, 403))
    shop["tea"].refresh_from_db()
    assert shop["tea"].unit_price_cents == (13_000 if admin else 12_000)
    assert Product.objects.filter(sku="POT-1").exists() is admin
    if admin:
        assert events("product.created").get().actor == company.users["admin"]
        update = events("product.updated").get()
        assert update.data == {"unit_price_cents": {"from": 12_000, "to": 13_000}}


def test_products_filter_by_category_and_sku(company, shop, api_as):
    client = api_as(company.users["analyst"])
    assert [p["sku"] for p in client.get(PRODUCTS, {"category": "ware"}).json()["results"]] == [
        "CUP-1"
    ]
    assert [p["sku"] for p in client.get(PRODUCTS, {"sku": "TEA-1"}).json()["results"]] == ["TEA-1"]
    assert client.get(PRODUCTS, {"sku": "NONE"}).json()["results"] == []


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"sku": "TEA-1", "name": "Again", "unit_price_cents": 1, "unit_cost_cents": 1}, {"sku"}),
        (
            {"sku": "X", "name": "X", "unit_price_cents": -1, "unit_cost_cents": 2**63},
            {
                "unit_price_cents",
                "unit_cost_cents",
            },
        ),
        ({"sku": "", "name": "X", "unit_price_cents": 1}, {"sku", "unit_cost_cents"}),
    ],
)
def test_invalid_products_are_refused(company, shop, api_as, payload, fields):
    response = api_as(company.users["admin"]).post(PRODUCTS, payload, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == fields
    assert Product.objects.count() == 2


# -- the order permission matrix ---------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_retrieve_an_order_by_role_and_record(company, shop, api_as, role, record):
    client = api_as(company.users[role])
    response = client.get(f"{ORDERS}{shop['orders'][record].pk}/")
    assert response.status_code == (200 if record in SEES[role] else 404)
    listed = {o["external_id"] for o in client.get(ORDERS).json()["results"]}
    assert listed == {shop["orders"][r].external_id for r in SEES[role]}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_record_an_order_by_role_and_record(company, shop, api_as, role, record):
    customer = company.customers[record]
    response = api_as(company.users[role]).post(ORDERS, _order("O-NEW", customer.pk), format="json")
    if role not in ORDER_WRITERS:
        expected = 403
    elif record not in SEES[role]:
        expected = 400  # a customer in the body that the user may not see: not found
    else:
        expected = 201
    assert response.status_code == expected, response.json()
    if expected == 400:
        assert set(response.json()["error"]["fields"]) == {"customer"}
    assert Order.objects.filter(external_id="O-NEW").exists() is (expected == 201)
    if expected == 201:
        event = events("order.recorded").get(subject_id=response.json()["id"])
        assert (event.actor, event.customer) == (company.users[role], customer)
        assert event.data == {"amount_cents": 39_000, "profit_cents": 17_000, "lines": 2}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_change_an_orders_status_by_role_and_record(company, shop, api_as, role, record):
    order = shop["orders"][record]
    response = api_as(company.users[role]).post(
        f"{ORDERS}{order.pk}/status/", {"status": "shipped"}, format="json"
    )
    if role not in ORDER_WRITERS:
        expected = 403
    elif record not in SEES[role]:
        expected = 404
    else:
        expected = 200
    assert response.status_code == expected
    order.refresh_from_db()
    assert (order.status == "shipped") is (expected == 200)
    changed = events("order.status_changed").filter(subject_id=order.pk)
    assert changed.exists() is (expected == 200)


def test_a_read_token_may_not_record_or_change_orders(company, shop, api_as):
    client = api_as(company.users["admin"], scope="read")
    order = shop["orders"]["own"]
    assert client.get(f"{ORDERS}{order.pk}/").status_code == 200
    attempts = [
        client.post(ORDERS, _order("O-R"), format="json"),
        client.post(BULK, {"orders": [_order("O-R")]}, format="json"),
        client.post(f"{ORDERS}{order.pk}/status/", {"status": "shipped"}, format="json"),
        client.post(
            PRODUCTS,
            {"sku": "R", "name": "R", "unit_price_cents": 1, "unit_cost_cents": 1},
            format="json",
        ),
    ]
    for response in attempts:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "token_read_only"
    assert Order.objects.count() == 3
    order.refresh_from_db()
    assert order.status == "placed"


# -- recording one order -----------------------------------------------------------------------


def test_an_order_is_recorded_with_its_lines(company, shop, api_as):
    response = api_as(company.users["sales"]).post(
        ORDERS,
        _order(
            "O-1",
            "C-POOL",
            channel="offline",
            lines=[
                {"product": "TEA-1", "quantity": 2, "unit_price_cents": 11_000},
                {"product": "CUP-1", "quantity": 4},
            ],
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["customer"] == company.customers["pool"].pk
    assert body["customer_external_id"] == "C-POOL"
    assert body["channel"] == "offline" and body["status"] == "placed"
    assert body["amount_cents"] == 2 * 11_000 + 4 * 3_000
    assert body["lines"] == [
        {
            "line_no": 1,
            "product": "TEA-1",
            "quantity": 2,
            "unit_price_cents": 11_000,
            "unit_cost_cents": 7_000,
            "amount_cents": 22_000,
        },
        {
            "line_no": 2,
            "product": "CUP-1",
            "quantity": 4,
            "unit_price_cents": 3_000,
            "unit_cost_cents": 1_000,
            "amount_cents": 12_000,
        },
    ]
    assert dt.datetime.fromisoformat(body["placed_at"]) == dt.datetime.fromisoformat(PLACED)


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        (
            {"lines": [{"product": "TEA-1", "quantity": 1}, {"product": "NOPE", "quantity": 1}]},
            {"lines.1.product"},
        ),
        ({"lines": [{"product": "TEA-1", "quantity": 0}]}, {"lines.0.quantity"}),
        ({"lines": [{"product": "TEA-1", "quantity": 2**40}]}, {"lines.0.quantity"}),
        (
            {"lines": [{"product": "TEA-1", "quantity": 1, "unit_price_cents": -5}]},
            {"lines.0.unit_price_cents"},
        ),
        ({"lines": []}, {"lines.non_field_errors"}),
        ({"external_id": "O-OWN", "placed_at": PLACED}, {"external_id"}),
        ({"status": "delivered"}, {"delivered_on"}),
        ({"status": "lost"}, {"status"}),
        ({"placed_at": "yesterday"}, {"placed_at"}),
        ({"placed_at": "0001-01-01T00:00:00+08:00"}, {"placed_at"}),
        ({"placed_at": "9999-12-31T23:59:59"}, {"placed_at"}),
        ({"customer": "C-NOPE"}, {"customer"}),
        ({"customer": 2**63}, {"customer"}),
    ],
)
def test_an_invalid_order_is_refused_naming_the_field(company, shop, api_as, change, fields):
    response = api_as(company.users["admin"]).post(ORDERS, {**_order("O-BAD"), **change}, "json")
    assert response.status_code == 400, response.json()
    assert set(response.json()["error"]["fields"]) == fields
    assert Order.objects.count() == 3


def test_status_changes_follow_the_orders_rules(company, shop, api_as):
    client = api_as(company.users["sales"])
    url = f"{ORDERS}{shop['orders']['own'].pk}/status/"
    shipped = client.post(url, {"status": "shipped"}, format="json")
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    back = client.post(url, {"status": "placed"}, format="json")
    assert back.status_code == 409
    assert back.json()["error"]["code"] == "invalid_transition"
    odd = client.post(url, {"status": "returned", "delivered_on": "2026-05-05"}, format="json")
    assert odd.status_code == 400
    delivered = client.post(url, {"status": "delivered", "delivered_on": "2026-05-06"}, "json")
    assert delivered.json()["delivered_on"] == "2026-05-06"
    event = events("order.status_changed").last()
    assert (event.actor, event.data) == (
        company.users["sales"],
        {"from": "shipped", "to": "delivered"},
    )


# -- the list: filters and queries -------------------------------------------------------------


def test_orders_filter_by_customer_time_status_and_channel(company, shop, api_as):
    client = api_as(company.users["admin"])
    own = company.customers["own"]
    recent = order_record(
        customer=own,
        external_id="O-RECENT",
        placed_at=dt.datetime.fromisoformat(PLACED),
        lines=[LineInput(product=shop["tea"], quantity=1)],
        channel="offline",
        status="shipped",
    )

    def ids(params: dict) -> set[int]:
        response = client.get(ORDERS, params)
        assert response.status_code == 200, response.json()
        return {o["id"] for o in response.json()["results"]}

    own_orders = {shop["orders"]["own"].pk, recent.pk}
    assert ids({"customer": own.pk}) == own_orders
    assert ids({"customer_external_id": "C-OWN"}) == own_orders
    assert ids({"status": "shipped"}) == ids({"channel": "offline"}) == {recent.pk}
    assert ids({"placed_after": PLACED}) == {recent.pk}
    assert ids({"placed_before": PLACED}) == {o.pk for o in shop["orders"].values()}
    assert ids({"placed_after": "2026-05-04T10:30:01+08:00"}) == set()
    # An offset Python takes but PostgreSQL would not: compared in UTC.
    assert ids({"placed_after": "2026-05-04T20:40:00+18:10"}) == {recent.pk}


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"channel": "pigeon"},
        {"placed_after": "soon"},
        {"placed_before": "9999-12-31T23:59:59-14:00"},
        {"customer": "abc"},
        {"customer": str(2**64)},
    ],
)
def test_a_bad_order_filter_is_400(company, shop, api_as, params):
    response = api_as(company.users["admin"]).get(ORDERS, params)
    assert response.status_code == 400, response.content


def test_order_list_queries_do_not_grow_with_rows(company, shop, api_as, page_cost):
    client = api_as(company.users["sales"])
    client.get(ORDERS)
    few, few_queries = page_cost(client, ORDERS)
    for i in range(25):
        order_record(
            customer=company.customers["own"],
            external_id=f"O-MANY-{i}",
            placed_at=timezone.now(),
            lines=[
                LineInput(product=shop["tea"], quantity=1),
                LineInput(product=shop["cup"], quantity=2),
            ],
        )
    many, many_queries = page_cost(client, ORDERS)
    assert (len(few), len(many)) == (2, 27)
    assert many_queries == few_queries


# -- bulk --------------------------------------------------------------------------------------


def test_bulk_is_idempotent_by_external_id(company, shop, api_as):
    client = api_as(company.users["sales"])
    payload = {
        "orders": [
            _order("B-1"),
            _order("B-2", company.customers["pool"].pk, channel="offline"),
            _order("B-3", status="delivered", delivered_on="2026-05-05"),
        ]
    }
    first = client.post(BULK, payload, format="json")
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["counts"] == {"created": 3, "existing": 0, "conflict": 0}
    created = {o.external_id: o for o in Order.objects.filter(external_id__startswith="B-")}
    assert [(r["index"], r["external_id"], r["id"], r["status"]) for r in body["results"]] == [
        (i, f"B-{i + 1}", created[f"B-{i + 1}"].pk, "created") for i in range(3)
    ]
    assert OrderLine.objects.filter(order__in=created.values()).count() == 6
    assert created["B-3"].delivered_on == dt.date(2026, 5, 5)
    recorded = events("order.recorded").filter(subject_id__in=[o.pk for o in created.values()])
    assert sorted(recorded.values_list("subject_id", "customer", "actor")) == sorted(
        (o.pk, o.customer_id, company.users["sales"].pk) for o in created.values()
    )
    assert recorded.first().data == {"amount_cents": 39_000, "profit_cents": 17_000, "lines": 2}
    summary = events("orders.bulk_created").get()
    assert (summary.actor, summary.ip_address) == (company.users["sales"], "127.0.0.1")
    assert summary.data["created"] == 3 and summary.data["existing"] == 0

    orders, lines, logged = Order.objects.count(), OrderLine.objects.count(), Event.objects.count()
    again = client.post(BULK, payload, format="json")
    assert again.status_code == 200, again.json()
    assert again.json()["counts"] == {"created": 0, "existing": 3, "conflict": 0}
    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in body["results"]]
    assert (Order.objects.count(), OrderLine.objects.count()) == (orders, lines)
    assert Event.objects.count() == logged + 1  # the second orders.bulk_created only
    assert events("orders.bulk_created").last().data["existing"] == 3


def test_bulk_reports_a_stored_order_that_differs_as_a_conflict_and_changes_nothing(
    company, shop, api_as
):
    client = api_as(company.users["admin"])
    assert client.post(BULK, {"orders": [_order("B-1"), _order("B-2")]}, "json").status_code == 201
    changed = _order("B-1", "C-POOL", lines=[{"product": "TEA-1", "quantity": 9}])
    response = client.post(BULK, {"orders": [changed, _order("B-2"), _order("B-3")]}, "json")
    assert response.status_code == 201
    body = response.json()
    assert body["counts"] == {"created": 1, "existing": 1, "conflict": 1}
    assert [(r["status"], r["differences"]) for r in body["results"]] == [
        ("conflict", ["customer", "lines"]),
        ("existing", []),
        ("created", []),
    ]
    stored = Order.objects.get(external_id="B-1")
    assert stored.customer == company.customers["own"]
    assert list(stored.lines.values_list("quantity", flat=True)) == [3, 1]
    assert events("orders.bulk_created").last().data["conflicts"] == ["B-1"]


def test_bulk_writes_nothing_when_any_order_is_invalid(company, shop, api_as):
    client = api_as(company.users["sales"])
    before = (Order.objects.count(), OrderLine.objects.count(), Event.objects.count())
    payload = {
        "orders": [
            _order("B-1"),
            _order("B-2", lines=[{"product": "NOPE", "quantity": 1}]),
            _order(
                "B-3",
                lines=[{"product": "TEA-1", "quantity": 1}, {"product": "TEA-1", "quantity": 0}],
            ),
            _order("B-4", "C-OTHER"),  # wang's customer: li may not see it
            _order("B-1"),  # twice in one request
            _order("O-OTHER"),  # stored, for a customer li may not see
        ]
    }
    response = client.post(BULK, payload, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {
        "orders.1.lines.0.product",
        "orders.2.lines.1.quantity",
        "orders.3.customer",
        "orders.4.external_id",
        "orders.5.external_id",
    }
    assert (Order.objects.count(), OrderLine.objects.count(), Event.objects.count()) == before


@pytest.mark.parametrize(
    "payload", [{"orders": []}, {"orders": "all"}, {}, {"orders": [{"external_id": "B"}] * 1001}]
)
def test_a_malformed_bulk_request_is_400(company, shop, api_as, payload):
    response = api_as(company.users["admin"]).post(BULK, payload, format="json")
    assert response.status_code == 400
    assert Order.objects.count() == 3


@pytest.mark.parametrize("role", ["service", "analyst"])
def test_roles_that_do_not_record_orders_cannot_bulk(company, shop, api_as, role):
    response = api_as(company.users[role]).post(BULK, {"orders": [_order("B-1")]}, "json")
    assert response.status_code == 403
    assert not Order.objects.filter(external_id="B-1").exists()


def test_bulk_queries_do_not_grow_with_orders(company, shop, api_as, django_assert_max_num_queries):
    client = api_as(company.users["manager"])
    client.get(ORDERS)

    def post(prefix: str, n: int) -> int:
        orders = [_order(f"{prefix}-{i}", ["C-OWN", "C-POOL"][i % 2]) for i in range(n)]
        with django_assert_max_num_queries(25) as captured:
            response = client.post(BULK, {"orders": orders}, format="json")
        assert response.status_code == 201, response.json()
        return len(captured)

    assert post("S", 3) == post("M", 40)
    assert Order.objects.filter(external_id__startswith="M-").count() == 40
    again = [_order(f"M-{i}", ["C-OWN", "C-POOL"][i % 2]) for i in range(40)]
    with django_assert_max_num_queries(25):
        response = client.post(BULK, {"orders": again}, format="json")
    assert response.json()["counts"]["existing"] == 40
