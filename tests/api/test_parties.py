"""The customers and contacts endpoints: who may do what to which record, masking and its audit,
the owner rules, bulk reassignment, the customer page's filters, and bounded queries."""

import datetime as dt

import pytest
from django.urls import reverse

from guanxi.core.models import Event
from guanxi.parties.models import Contact, Customer, Tag
from guanxi.parties.services import contact_create, customer_create
from tests.api.conftest import PERSONAL_DATA, RECORDS, ROLES, SEES, events
from tests.playbooks.factories import run_create, score_create

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"
CONTACTS = "/api/v1/contacts/"
REASSIGN = "/api/v1/customers/reassign/"
CUSTOMER_WRITERS = {"admin", "manager", "sales"}

MASKED = {
    "phone": "138****5678",
    "email": "b***@example.com",
    "wechat_id": "w***1",
    "address": "88 ****",
}
UNMASKED = {
    "phone": "13812345678",
    "email": "buyer@example.com",
    "wechat_id": "wx_buyer_01",
    "address": "88 Nanjing Road, Shanghai",
}


def _detail(customer) -> str:
    return f"{CUSTOMERS}{customer.pk}/"


def _all_pages(client, url: str, params: dict | None = None) -> list[dict]:
    rows: list[dict] = []
    response = client.get(url, params or {})
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        rows += body["results"]
        if not body["next"]:
            return rows
        response = client.get(body["next"])


# -- the permission matrix ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_retrieve_a_customer_by_role_and_record(company, api_as, role, record):
    response = api_as(company.users[role]).get(_detail(company.customers[record]))
    expected = 200 if record in SEES[role] else 404
    assert response.status_code == expected, response.json()
    if expected == 404:
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("role", ROLES)
def test_the_list_holds_exactly_the_customers_the_role_sees(company, api_as, role):
    rows = _all_pages(api_as(company.users[role]), CUSTOMERS)
    expected = {company.customers[r].external_id for r in SEES[role]}
    assert {row["external_id"] for row in rows} == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_change_a_customer_by_role_and_record(company, api_as, role, record):
    customer = company.customers[record]
    response = api_as(company.users[role]).patch(
        _detail(customer), {"region": "华东"}, format="json"
    )
    if role not in CUSTOMER_WRITERS:
        expected = 403
    elif record not in SEES[role]:
        expected = 404
    else:
        expected = 200
    assert response.status_code == expected, response.json()
    customer.refresh_from_db()
    assert (customer.region == "华东") is (expected == 200)
    updated = events("customer.updated").filter(customer=customer)
    if expected == 200:
        assert list(updated.values_list("actor", flat=True)) == [company.users[role].pk]
        assert updated.get().data == {"region": {"from": "", "to": "华东"}}
    else:
        assert not updated.exists()


@pytest.mark.parametrize("role", ROLES)
def test_create_a_customer_by_role(company, api_as, role):
    response = api_as(company.users[role]).post(
        CUSTOMERS,
        {"external_id": "C-NEW", "name": "New Trading", "customer_type": "business"},
        format="json",
    )
    assert response.status_code == (201 if role in CUSTOMER_WRITERS else 403), response.json()
    assert Customer.objects.filter(external_id="C-NEW").exists() is (role in CUSTOMER_WRITERS)


@pytest.mark.parametrize("role", ROLES)
def test_reassign_by_role(company, api_as, role):
    pool = company.customers["pool"]
    response = api_as(company.users[role]).post(
        REASSIGN, {"customers": [pool.pk], "owner": "li"}, format="json"
    )
    allowed = role in {"admin", "manager"}
    assert response.status_code == (200 if allowed else 403), response.json()
    pool.refresh_from_db()
    assert (pool.owner == company.users["sales"]) is allowed


def test_a_user_without_a_role_reads_nothing(company, api_as):
    client = api_as(company.users["nobody"])
    assert client.get(CUSTOMERS).status_code == 403
    assert client.get(_detail(company.customers["pool"])).status_code == 403
    assert client.get(CONTACTS).status_code == 403


def test_a_read_token_may_read_but_not_write(company, api_as):
    client = api_as(company.users["admin"], scope="read")
    own = company.customers["own"]
    assert client.get(_detail(own)).status_code == 200
    attempts = [
        client.post(
            CUSTOMERS, {"external_id": "C-R", "name": "R", "customer_type": "consumer"}, "json"
        ),
        client.patch(_detail(own), {"name": "Renamed"}, format="json"),
        client.post(REASSIGN, {"customers": [own.pk], "owner": None}, format="json"),
        client.post(
            CONTACTS, {"customer": own.pk, "external_id": "P-R", "name": "R"}, format="json"
        ),
    ]
    for response in attempts:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "token_read_only"
    own.refresh_from_db()
    assert (own.name, own.owner) == ("Own Trading", company.users["sales"])
    assert not Customer.objects.filter(external_id="C-R").exists()
    assert not Contact.objects.exists()


def test_put_and_delete_are_not_offered(company, api_as):
    client = api_as(company.users["admin"])
    own = _detail(company.customers["own"])
    assert client.put(own, {"name": "X"}, format="json").status_code == 405
    assert client.delete(own).status_code == 405
    assert Customer.objects.filter(pk=company.customers["own"].pk).exists()


def test_an_id_too_large_for_the_database_is_not_found(company, api_as):
    response = api_as(company.users["admin"]).get(f"{CUSTOMERS}{2**70}/")
    assert response.status_code == 404


# -- personal data: masking and its audit ------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_personal_data_is_masked_for_roles_that_do_not_see_it(company, api_as, role):
    client = api_as(company.users[role])
    pool = company.customers["pool"]
    shown = client.get(_detail(pool)).json()
    listed = {row["id"]: row for row in client.get(CUSTOMERS).json()["results"]}[pool.pk]
    expected = UNMASKED if role in PERSONAL_DATA else MASKED
    for row in (shown, listed):
        assert {field: row[field] for field in expected} == expected


@pytest.mark.parametrize("role", ROLES)
def test_showing_personal_data_unmasked_is_audited_once_per_customer(company, api_as, role):
    client = api_as(company.users[role])
    Event.objects.all().delete()
    assert client.get(CUSTOMERS).status_code == 200
    assert client.get(_detail(company.customers["pool"])).status_code == 200
    viewed = events("customer.personal_data_viewed")
    if role not in PERSONAL_DATA:
        assert not viewed.exists()
        return
    listed = {company.customers[r].pk for r in SEES[role]}
    rows = list(viewed.values_list("customer", "actor", "ip_address", "data"))
    data = {"fields": ["phone", "email", "wechat_id", "address"], "via": "api"}
    user, ip = company.users[role].pk, "127.0.0.1"
    expected = [(pk, user, ip, data) for pk in sorted(listed)]
    expected.append((company.customers["pool"].pk, user, ip, data))
    assert sorted(rows[: len(listed)]) == expected[:-1]
    assert rows[len(listed) :] == expected[-1:]


def test_a_customer_without_personal_data_is_shown_without_an_audit_event(company, api_as):
    bare = customer_create(external_id="C-BARE", name="Bare", customer_type="consumer")
    Event.objects.all().delete()
    assert api_as(company.users["admin"]).get(_detail(bare)).status_code == 200
    assert not events("customer.personal_data_viewed").exists()


def test_search_by_a_partial_phone_number_needs_unmasked_access(company, api_as):
    own_pool = {company.customers[r].pk for r in ("own", "pool")}
    sales = {
        row["id"]
        for row in api_as(company.users["sales"]).get(CUSTOMERS, {"q": "1234"}).json()["results"]
    }
    assert sales == own_pool
    analyst = api_as(company.users["analyst"])
    assert analyst.get(CUSTOMERS, {"q": "1234"}).json()["results"] == []
    whole = analyst.get(CUSTOMERS, {"q": "13812345678"}).json()["results"]
    assert len(whole) == 3


# -- creating and changing customers: owners, tags, events -------------------------------------


def test_a_sales_user_creating_a_customer_becomes_its_owner(company, api_as):
    response = api_as(company.users["sales"]).post(
        CUSTOMERS,
        {
            "external_id": "C-LI-2",
            "name": "Li's New Client",
            "customer_type": "consumer",
            "tags": ["vip", "tea"],
            "phone": "13900001111",
            "email": "new@example.com",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == "li"
    assert body["tags"] == ["tea", "vip"]
    assert body["phone"] == "13900001111"
    assert body["standing"] is None
    customer = Customer.objects.get(external_id="C-LI-2")
    assert customer.owner == company.users["sales"]
    created = events("customer.created").get(customer=customer)
    assert created.actor == company.users["sales"]


def test_admins_and_managers_create_into_the_pool_unless_they_name_an_owner(company, api_as):
    admin = api_as(company.users["admin"])
    base = {"name": "Pooled", "customer_type": "consumer"}
    assert admin.post(CUSTOMERS, {**base, "external_id": "C-A1"}, "json").json()["owner"] is None
    named = admin.post(CUSTOMERS, {**base, "external_id": "C-A2", "owner": "wang"}, "json")
    assert named.status_code == 201 and named.json()["owner"] == "wang"
    manager = api_as(company.users["manager"])
    assert manager.post(CUSTOMERS, {**base, "external_id": "C-M1"}, "json").json()["owner"] is None
    team = manager.post(CUSTOMERS, {**base, "external_id": "C-M2", "owner": "li"}, "json")
    assert team.status_code == 201 and team.json()["owner"] == "li"


@pytest.mark.parametrize(
    ("role", "owner", "expected"),
    [
        ("sales", "wang", 403),  # someone else
        ("sales", "nora", 403),  # even the manager
        ("sales", "li", 200),  # themselves
        ("sales", None, 200),  # back to the pool
        ("manager", "li", 200),  # a member of the team
        ("manager", "wang", 403),  # another team
        ("manager", "an", 403),  # an analyst outside the team
        ("admin", "wang", 200),
        ("admin", "an", 403),  # an analyst does not own customers
        ("admin", "nobody-here", 400),
    ],
)
def test_who_may_become_the_owner(company, api_as, role, owner, expected):
    # Into the pool from li's customer; anyone else takes a customer from the pool.
    customer = company.customers["own" if owner is None else "pool"]
    before = customer.owner
    response = api_as(company.users[role]).patch(_detail(customer), {"owner": owner}, format="json")
    assert response.status_code == expected, response.json()
    customer.refresh_from_db()
    if expected == 200:
        assert response.json()["owner"] == owner
        assert (customer.owner.get_username() if customer.owner else None) == owner
        event = events("customer.owner_changed").get(customer=customer)
        assert event.actor == company.users[role]
    else:
        assert customer.owner == before
        assert response.json()["error"]["fields"]["owner"]
        assert not events("customer.owner_changed").exists()


def test_a_sales_user_may_not_create_a_customer_for_someone_else(company, api_as):
    response = api_as(company.users["sales"]).post(
        CUSTOMERS,
        {"external_id": "C-W", "name": "W", "customer_type": "consumer", "owner": "wang"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    assert not Customer.objects.filter(external_id="C-W").exists()


def test_changing_tags_and_fields_writes_one_event_without_personal_values(company, api_as):
    own = company.customers["own"]
    response = api_as(company.users["sales"]).patch(
        _detail(own),
        {"tags": ["key", "tea"], "phone": "13700000000", "marketing_consent": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == ["key", "tea"]
    assert sorted(own.tags.values_list("name", flat=True)) == ["key", "tea"]
    event = events("customer.updated").get(customer=own)
    assert event.data == {
        "tags": {"from": [], "to": ["key", "tea"]},
        "phone": {"changed": True},
        "marketing_consent": {"from": False, "to": True},
    }
    assert "13700000000" not in str(event.data)


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"external_id": "C-OWN", "name": "Dup", "customer_type": "consumer"}, {"external_id"}),
        ({"external_id": "C-X", "name": "", "customer_type": "alien"}, {"name", "customer_type"}),
        (
            {"external_id": "C-X", "name": "X", "customer_type": "consumer", "email": "nope"},
            {"email"},
        ),
        ({"external_id": "x" * 65, "name": "X", "customer_type": "consumer"}, {"external_id"}),
        ({"external_id": "C-\x00", "name": "X", "customer_type": "consumer"}, {"external_id"}),
        ({"external_id": "C-X", "name": "X", "customer_type": "consumer", "owner": 7}, {"owner"}),
    ],
)
def test_invalid_customers_are_refused_naming_the_fields(company, api_as, payload, fields):
    response = api_as(company.users["admin"]).post(CUSTOMERS, payload, format="json")
    assert response.status_code == 400, response.json()
    assert set(response.json()["error"]["fields"]) == fields
    assert Customer.objects.count() == 3


# -- standing ----------------------------------------------------------------------------------


def test_the_standing_is_the_latest_successful_runs(company, api_as):
    own, other = company.customers["own"], company.customers["other"]
    older = run_create(as_of=dt.date(2026, 3, 31))
    score_create(older, own, actual_level="basic")
    latest = run_create(as_of=dt.date(2026, 6, 30))
    score_create(
        latest,
        own,
        actual_level="proactive",
        recommended_level="partnership",
        level_gap="under_served",
        abc_class="A",
        lifecycle_stage="stability",
        clv_cents=1_234_500.0,
        last_purchase=dt.date(2026, 6, 1),
    )
    score_create(run_create(as_of=dt.date(2026, 7, 31), status="failed"), own)
    client = api_as(company.users["admin"])
    assert client.get(_detail(own)).json()["standing"] == {
        "scoring_run": latest.pk,
        "as_of": "2026-06-30",
        "actual_level": "proactive",
        "recommended_level": "partnership",
        "level_gap": "under_served",
        "partnership_stage": "",
        "abc_class": "A",
        "lifecycle_stage": "stability",
        "clv_cents": 1_234_500.0,
        "last_purchase": "2026-06-01",
    }
    assert client.get(_detail(other)).json()["standing"] is None


# -- the customer page's filters ---------------------------------------------------------------


@pytest.fixture
def scored(company):
    """More customers of each type, owner and level, scored in the latest run."""
    users = company.users
    run = run_create(as_of=dt.date(2026, 6, 30))
    levels = ["basic", "reactive", "accountable", "proactive", "partnership"]
    vip = Tag.objects.create(name="vip")
    for i in range(15):
        customer = customer_create(
            external_id=f"C-{i:02d}",
            name=f"Customer {i:02d}" if i % 3 else f"Tea House {i:02d}",
            customer_type=["consumer", "business", "channel"][i % 3],
            owner=[users["sales"], users["other_sales"], None, users["manager"]][i % 4],
            region=["华东", "华南"][i % 2],
            phone=f"1390000{i:04d}",
        )
        if i % 4 == 0:
            customer.tags.add(vip)
        score_create(run, customer, actual_level=levels[i % 5], abc_class="ABC"[i % 3])
    score_create(run, company.customers["own"], actual_level="partnership")
    return run


FILTERS = [
    {"customer_type": "business"},
    {"actual_level": "basic"},
    {"actual_level": "partnership", "customer_type": "business"},
    {"abc_class": "A"},
    {"q": "tea"},
    {"q": "13900000"},
    {"tag": "vip"},
    {"region": "华南"},
    {"owner": "null"},
]


@pytest.mark.parametrize("role", ["admin", "manager", "sales", "analyst"])
@pytest.mark.parametrize("params", FILTERS)
def test_filters_give_the_customer_pages_results(company, scored, api_as, client, role, params):
    user = company.users[role]
    client.force_login(user)
    page = client.get(reverse("parties:customer_list"), params)
    assert page.status_code == 200
    expected = {row.customer.pk for row in page.context["rows"]}
    got = {row["id"] for row in _all_pages(api_as(user), CUSTOMERS, params)}
    assert got == expected
    if role == "admin":
        assert expected, "the filter should match someone"


@pytest.mark.parametrize("owner", ["sales", "other_sales", "manager"])
def test_the_owner_filter_takes_the_user_id_as_on_the_page(company, scored, api_as, client, owner):
    user_id = company.users[owner].pk
    client.force_login(company.users["admin"])
    page = client.get(reverse("parties:customer_list"), {"owner": user_id})
    expected = {row.customer.pk for row in page.context["rows"]}
    got = {
        row["id"]
        for row in _all_pages(api_as(company.users["admin"]), CUSTOMERS, {"owner": user_id})
    }
    assert got == expected and expected
    assert Customer.objects.filter(pk__in=got).exclude(owner_id=user_id).count() == 0


@pytest.mark.parametrize(
    "params",
    [
        {"actual_level": "legendary"},
        {"customer_type": "alien"},
        {"owner": "abc"},
        {"owner": str(2**70)},
        {"tag": "no-such-tag"},
        {"sort": "-clv"},
        {"q": "a\x00b"},
    ],
)
def test_a_bad_filter_value_is_400_not_500(company, scored, api_as, params):
    response = api_as(company.users["admin"]).get(CUSTOMERS, params)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"


def test_the_list_pages_by_cursor_in_id_order(company, scored, api_as):
    client = api_as(company.users["admin"])
    first = client.get(CUSTOMERS, {"page_size": 7}).json()
    assert len(first["results"]) == 7
    rows = _all_pages(client, CUSTOMERS, {"page_size": 7})
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids) == sorted(Customer.objects.values_list("pk", flat=True))


def test_list_queries_do_not_grow_with_rows(company, api_as, page_cost):
    run = run_create()
    client = api_as(company.users["manager"])
    client.get(CUSTOMERS)  # the token's first use is written once
    tag = Tag.objects.create(name="vip")
    for i in range(3):
        c = customer_create(
            external_id=f"Q-{i}", name=f"Q {i}", customer_type="consumer", phone="1"
        )
        c.tags.add(tag)
    few, few_queries = page_cost(client, CUSTOMERS, {"tag": "vip"}, most=12)
    for i in range(3, 28):
        c = customer_create(
            external_id=f"Q-{i}", name=f"Q {i}", customer_type="consumer", phone="1"
        )
        c.tags.add(tag)
        score_create(run, c)
    Event.objects.all().delete()
    many, many_queries = page_cost(client, CUSTOMERS, {"tag": "vip"}, most=12)
    assert (len(few), len(many)) == (3, 28)
    assert many_queries == few_queries
    assert events("customer.personal_data_viewed").count() == 28


# -- bulk reassignment -------------------------------------------------------------------------


def test_an_admin_reassigns_customers_by_id_and_external_id(company, api_as):
    own, other, pool = (company.customers[r] for r in RECORDS)
    response = api_as(company.users["admin"]).post(
        REASSIGN, {"customers": [own.pk, "C-OTHER", "C-POOL", pool.pk], "owner": "wang"}, "json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"customers": 3, "changed": 2, "owner": "wang"}
    wang = company.users["other_sales"]
    assert set(Customer.objects.values_list("owner", flat=True)) == {wang.pk}

    summary = events("customers.reassigned").get()
    assert summary.actor == company.users["admin"]
    assert summary.ip_address == "127.0.0.1"
    assert summary.data == {
        "customers": sorted([own.pk, other.pk, pool.pk]),
        "changed": 2,
        "to": {"owner": wang.pk, "username": "wang"},
        "from": [
            {"owner": None, "username": None, "customers": [pool.pk]},
            {"owner": company.users["sales"].pk, "username": "li", "customers": [own.pk]},
        ],
    }
    changes = events("customer.owner_changed")
    assert sorted(changes.values_list("customer", "actor")) == sorted(
        [(own.pk, company.users["admin"].pk), (pool.pk, company.users["admin"].pk)]
    )
    assert changes.get(customer=own).data == {
        "owner": {"from": company.users["sales"].pk, "to": wang.pk}
    }


def test_reassignment_is_all_or_nothing(company, api_as):
    own, other, pool = (company.customers[r] for r in RECORDS)
    manager = api_as(company.users["manager"])
    response = manager.post(
        REASSIGN, {"customers": [pool.pk, "C-OTHER", 999_999, "C-NOPE"], "owner": "li"}, "json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"customers.1", "customers.2", "customers.3"}
    # Another team's member is not assignable: refused as a whole as well.
    refused = manager.post(REASSIGN, {"customers": [pool.pk, own.pk], "owner": "wang"}, "json")
    assert refused.status_code == 403
    assert refused.json()["error"]["fields"]["owner"]
    assert [c.owner for c in (own, other, pool)] == [
        Customer.objects.get(pk=c.pk).owner for c in (own, other, pool)
    ]
    assert not events("customers.reassigned").exists()
    assert not events("customer.owner_changed").exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"customers": [], "owner": None},
        {"customers": [True], "owner": None},
        {"customers": [0], "owner": None},
        {"customers": [2**64], "owner": None},
        {"customers": [{"id": 1}], "owner": None},
        {"customers": ["x" * 65], "owner": None},
        {"customers": [1]},
        {"customers": [1] * 10_001, "owner": None},
    ],
)
def test_a_malformed_reassignment_is_400(company, api_as, payload):
    response = api_as(company.users["admin"]).post(REASSIGN, payload, format="json")
    assert response.status_code == 400, response.json()


def test_reassigning_many_customers_takes_a_fixed_number_of_queries(
    company, api_as, django_assert_max_num_queries
):
    Customer.objects.bulk_create(
        [
            Customer(external_id=f"B-{i}", name=f"B {i}", customer_type="consumer")
            for i in range(600)
        ]
    )
    client = api_as(company.users["admin"])
    client.get(CUSTOMERS)
    ids = list(Customer.objects.filter(external_id__startswith="B-").values_list("pk", flat=True))
    with django_assert_max_num_queries(20):
        response = client.post(REASSIGN, {"customers": ids, "owner": "li"}, format="json")
    assert response.status_code == 200
    assert response.json()["changed"] == 600
    assert Customer.objects.filter(owner=company.users["sales"]).count() == 601
    assert events("customer.owner_changed").count() == 600


# -- contacts ----------------------------------------------------------------------------------


@pytest.fixture
def contacts(company):
    return {
        record: contact_create(
            customer=company.customers[record],
            external_id=f"P-{record.upper()}",
            name=f"Buyer at {record}",
            phone="13812345678",
            email="buyer@example.com",
            wechat_id="wx_buyer_01",
        )
        for record in ("own", "other")
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", ["own", "other"])
def test_contacts_are_seen_through_their_customer(company, contacts, api_as, role, record):
    client = api_as(company.users[role])
    response = client.get(f"{CONTACTS}{contacts[record].pk}/")
    assert response.status_code == (200 if record in SEES[role] else 404)
    listed = {row["external_id"] for row in client.get(CONTACTS).json()["results"]}
    assert listed == {contacts[r].external_id for r in ("own", "other") if r in SEES[role]}
    if response.status_code == 200:
        body = response.json()
        expected = UNMASKED if role in PERSONAL_DATA else MASKED
        assert {f: body[f] for f in ("phone", "email", "wechat_id")} == {
            f: expected[f] for f in ("phone", "email", "wechat_id")
        }
        assert body["customer_external_id"] == company.customers[record].external_id


def test_contact_views_unmasked_are_audited_per_customer(company, contacts, api_as):
    Event.objects.all().delete()
    api_as(company.users["analyst"]).get(CONTACTS)
    assert not events("customer.personal_data_viewed").exists()
    api_as(company.users["admin"]).get(CONTACTS)
    rows = list(events("customer.personal_data_viewed").values_list("customer", "actor", "data"))
    admin = company.users["admin"].pk
    assert sorted(rows, key=lambda r: r[0]) == sorted(
        [
            (
                contacts[r].customer_id,
                admin,
                {
                    "fields": ["email", "phone", "wechat_id"],
                    "contacts": [contacts[r].pk],
                    "via": "api",
                },
            )
            for r in ("own", "other")
        ],
        key=lambda r: r[0],
    )


def test_contacts_filter_by_customer_id_or_external_id(company, contacts, api_as):
    client = api_as(company.users["admin"])
    own = company.customers["own"]
    by_id = client.get(CONTACTS, {"customer": own.pk}).json()["results"]
    by_external = client.get(CONTACTS, {"customer_external_id": "C-OWN"}).json()["results"]
    assert [r["id"] for r in by_id] == [r["id"] for r in by_external] == [contacts["own"].pk]
    assert client.get(CONTACTS, {"customer": "x"}).status_code == 400
    assert client.get(CONTACTS, {"customer": str(2**64)}).status_code == 400


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_add_a_contact_by_role_and_record(company, api_as, role, record):
    customer = company.customers[record]
    response = api_as(company.users[role]).post(
        CONTACTS,
        {"customer": customer.external_id, "external_id": "P-NEW", "name": "Zhang", "phone": "1"},
        format="json",
    )
    if role not in CUSTOMER_WRITERS:
        expected = 403
    elif record not in SEES[role] or record == "pool":  # pool is a consumer: no contacts
        expected = 400
    else:
        expected = 201
    assert response.status_code == expected, response.json()
    if expected == 400:
        assert set(response.json()["error"]["fields"]) == {"customer"}
    created = Contact.objects.filter(external_id="P-NEW")
    assert created.exists() is (expected == 201)
    if expected == 201:
        event = events("contact.created").get()
        assert (event.actor, event.customer) == (company.users[role], customer)


@pytest.mark.parametrize("role", ROLES)
def test_change_a_contact_by_role(company, contacts, api_as, role):
    contact = contacts["other"]
    response = api_as(company.users[role]).patch(
        f"{CONTACTS}{contact.pk}/", {"job_title": "Buyer", "email": "new@example.com"}, "json"
    )
    if role not in CUSTOMER_WRITERS:
        expected = 403
    elif "other" not in SEES[role]:
        expected = 404
    else:
        expected = 200
    assert response.status_code == expected
    contact.refresh_from_db()
    assert (contact.job_title == "Buyer") is (expected == 200)
    if expected == 200:
        event = events("contact.updated").get()
        assert event.actor == company.users[role]
        assert event.data == {"job_title": {"from": "", "to": "Buyer"}, "email": {"changed": True}}


def test_a_second_primary_contact_is_refused(company, contacts, api_as):
    client = api_as(company.users["admin"])
    first = client.patch(f"{CONTACTS}{contacts['own'].pk}/", {"is_primary": True}, "json")
    assert first.status_code == 200
    second = client.post(
        CONTACTS,
        {
            "customer": company.customers["own"].pk,
            "external_id": "P-2",
            "name": "Two",
            "is_primary": True,
        },
        format="json",
    )
    assert second.status_code == 400
    assert Contact.objects.filter(is_primary=True).count() == 1


def test_contact_list_queries_do_not_grow_with_rows(company, contacts, api_as, page_cost):
    client = api_as(company.users["sales"])
    client.get(CONTACTS)
    few, few_queries = page_cost(client, CONTACTS)
    for i in range(25):
        contact_create(
            customer=company.customers["own"], external_id=f"P-{i}", name=f"P {i}", phone="1"
        )
    many, many_queries = page_cost(client, CONTACTS)
    assert (len(few), len(many)) == (1, 26)
    assert many_queries == few_queries
