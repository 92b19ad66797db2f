"""The customer list and its export: who sees what, filters, search, sorting, pages, htmx, CSV."""

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core.models import Event, StaffProfile, Team
from guanxi.parties.models import Customer, Tag
from guanxi.parties.views import PAGE_SIZE
from tests.playbooks.factories import run_create, score_create

pytestmark = pytest.mark.django_db

LIST = reverse("parties:customer_list")
EXPORT = reverse("parties:customer_export")


@pytest.fixture
def staff(django_user_model):
    """``staff("li", "sales")``: a user with one role (no password: these tests force_login)."""

    def make(username: str, role: str, *, team: Team | None = None, **fields):
        user = django_user_model.objects.create_user(username=username, **fields)
        user.groups.add(Group.objects.get(name=role))
        if team is not None:
            StaffProfile.objects.create(user=user, team=team)
        return user

    return make


def _customer(external_id: str, name: str, **fields) -> Customer:
    fields.setdefault("customer_type", "consumer")
    tags = fields.pop("tags", ())
    customer = Customer.objects.create(external_id=external_id, name=name, **fields)
    for tag in tags:
        customer.tags.add(Tag.objects.get_or_create(name=tag)[0])
    return customer


def _names(response) -> list[str]:
    """The customer names in the table, in order."""
    return [row.customer.name for row in response.context["rows"]]


@pytest.fixture
def shop(staff):
    """Two sales people, an admin and an analyst; customers owned by each or unassigned, with a
    standing in the latest scoring run (and a different one in an older run)."""
    li = staff("li", "sales", first_name="Li", last_name="Na")
    wu = staff("wu", "sales")
    admin = staff("boss", "admin")
    analyst = staff("ana", "analyst")
    tea = _customer(
        "C-TEA",
        "Tea House",
        customer_type="business",
        owner=li,
        region="华东",
        phone="13812345678",
        email="buyer@teahouse.cn",
        tags=["vip"],
    )
    wang = _customer(
        "C-WANG", "王芳", owner=li, region="华南", phone="13900001111", email="wang@example.com"
    )
    pool = _customer("C-POOL", "Pool Customer", region="华东", tags=["tea", "vip"])
    other = _customer("C-WU", "Wu's Client", owner=wu, customer_type="channel", region="华北")
    fresh = _customer("C-NEW", "Newcomer", owner=li)  # created after the last run: not scored

    older = run_create(as_of=dt.date(2026, 3, 31))
    for c in (tea, wang, pool, other):
        score_create(older, c, actual_level="basic", abc_class="C")
    latest = run_create(as_of=dt.date(2026, 6, 30))
    score_create(
        latest,
        tea,
        actual_level="partnership",
        abc_class="A",
        lifecycle_stage="stability",
        level_gap="on_target",
        partnership_stage="integrated",
        clv_cents=9_000_000,
        last_purchase=dt.date(2026, 6, 20),
    )
    score_create(
        latest,
        wang,
        actual_level="reactive",
        abc_class="B",
        lifecycle_stage="decline",
        level_gap="under_served",
        clv_cents=120_000,
        last_purchase=dt.date(2026, 1, 5),
    )
    score_create(
        latest,
        pool,
        actual_level="basic",
        abc_class="C",
        lifecycle_stage="exploration",
        level_gap="over_served",
        clv_cents=500_000,
        last_purchase=dt.date(2026, 5, 1),
    )
    score_create(latest, other, actual_level="proactive", abc_class="A", clv_cents=7_000_000)
    failed = run_create(as_of=dt.date(2026, 7, 31), status="failed")  # never the latest run
    score_create(failed, tea, actual_level="basic")
    return {
        "li": li,
        "wu": wu,
        "admin": admin,
        "analyst": analyst,
        "tea": tea,
        "wang": wang,
        "pool": pool,
        "other": other,
        "fresh": fresh,
    }


# -- who sees what -----------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    for url in (LIST, EXPORT):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"


def test_a_sales_user_sees_their_own_and_the_unassigned_customers_only(client, shop):
    client.force_login(shop["li"])
    response = client.get(LIST)
    assert response.status_code == 200
    assert set(_names(response)) == {"Tea House", "王芳", "Pool Customer", "Newcomer"}
    assert "Wu&#x27;s Client" not in response.content.decode()


def test_a_sales_user_filtering_by_a_colleague_gets_nothing(client, shop):
    client.force_login(shop["li"])
    response = client.get(LIST, {"owner": shop["wu"].pk})
    assert _names(response) == []
    assert "No customers match these filters." in response.content.decode()


def test_a_manager_sees_their_team_members_customers(client, shop, staff):
    team = Team.objects.create(name="East")
    StaffProfile.objects.create(user=shop["wu"], team=team)
    manager = staff("mgr", "manager", team=team)
    client.force_login(manager)
    names = set(_names(client.get(LIST)))
    assert "Wu's Client" in names  # a team member's customer
    assert "Tea House" not in names  # li is not in the team
    assert "Pool Customer" in names  # the unassigned pool


def test_a_user_without_a_role_sees_no_customers(client, shop, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="nobody"))
    assert _names(client.get(LIST)) == []


def test_each_row_links_to_the_customer_360(client, shop):
    client.force_login(shop["admin"])
    text = client.get(LIST).content.decode()
    assert f'href="{reverse("parties:customer_detail", args=[shop["tea"].pk])}"' in text


# -- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"customer_type": "business"}, {"Tea House"}),
        ({"customer_type": "channel"}, {"Wu's Client"}),
        ({"region": "华东"}, {"Tea House", "Pool Customer"}),
        ({"tag": "vip"}, {"Tea House", "Pool Customer"}),
        ({"tag": ["tea", "vip"]}, {"Tea House", "Pool Customer"}),  # any of the tags, once each
        ({"tag": "tea"}, {"Pool Customer"}),
        # The measures come from the latest successful run, not the older or the failed one.
        ({"actual_level": "partnership"}, {"Tea House"}),
        ({"actual_level": "basic"}, {"Pool Customer"}),
        ({"abc_class": "A"}, {"Tea House", "Wu's Client"}),
        ({"abc_class": "A", "customer_type": "channel"}, {"Wu's Client"}),
        ({"lifecycle_stage": "decline"}, {"王芳"}),
        ({"level_gap": "under_served"}, {"王芳"}),
        ({"partnership_stage": "integrated"}, {"Tea House"}),
    ],
)
def test_filters_narrow_the_list(client, shop, params, expected):
    client.force_login(shop["admin"])
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert set(_names(response)) == expected
    assert len(_names(response)) == len(expected)


def test_owner_filter_by_person_and_the_unassigned_pool(client, shop):
    client.force_login(shop["admin"])
    by_li = set(_names(client.get(LIST, {"owner": shop["li"].pk})))
    assert by_li == {"Tea House", "王芳", "Newcomer"}
    assert _names(client.get(LIST, {"owner": "null"})) == ["Pool Customer"]


def test_the_filter_form_offers_the_choices_in_use(client, shop):
    client.force_login(shop["admin"])
    text = client.get(LIST).content.decode()
    assert '<option value="华北">华北</option>' in text  # regions in use
    assert ">Li Na</option>" in text  # owners by full name
    assert ">Unassigned</option>" in text
    assert 'name="tag" value="vip"' in text


def test_an_unknown_filter_value_is_an_error_not_a_silently_unfiltered_list(client, shop):
    client.force_login(shop["admin"])
    response = client.get(LIST, {"actual_level": "legendary"})
    assert response.status_code == 200
    assert _names(response) == []
    text = response.content.decode()
    assert "Some filters are not valid" in text
    assert "Select a valid choice" in text


def test_without_a_scoring_run_the_list_still_works_and_says_why_measures_are_empty(client, staff):
    admin = staff("boss", "admin")
    _customer("C-1", "Solo")
    client.force_login(admin)
    response = client.get(LIST)
    assert _names(response) == ["Solo"]
    assert "No scoring run has finished yet" in response.content.decode()
    assert _names(client.get(LIST, {"actual_level": "basic"})) == []
    assert _names(client.get(LIST, {"sort": "-clv"})) == ["Solo"]


# -- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("tea", {"Tea House"}),  # name, any case
        ("王", {"王芳"}),
        ("c-wang", {"王芳"}),  # external id
        ("138 1234", {"Tea House"}),  # part of a phone number, spaces ignored
        ("teahouse.cn", {"Tea House"}),  # part of an email
        ("WANG@example.com", {"王芳"}),
        ("nothing-like-this", set()),
    ],
)
def test_search_by_name_phone_email_or_external_id(client, shop, q, expected):
    client.force_login(shop["li"])
    assert set(_names(client.get(LIST, {"q": q}))) == expected


def test_without_personal_data_access_phone_and_email_match_only_whole(client, shop):
    """Otherwise an analyst could uncover a masked number digit by digit."""
    client.force_login(shop["analyst"])
    assert _names(client.get(LIST, {"q": "1381234"})) == []
    assert _names(client.get(LIST, {"q": "13812345678"})) == ["Tea House"]
    assert _names(client.get(LIST, {"q": "teahouse.cn"})) == []
    assert _names(client.get(LIST, {"q": "buyer@teahouse.cn"})) == ["Tea House"]


# -- sorting and pages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Newcomer", "Pool Customer", "Tea House", "Wu's Client", "王芳"]),
        ("-name", ["王芳", "Wu's Client", "Tea House", "Pool Customer", "Newcomer"]),
        # Customers the run did not score come last in both directions.
        ("-clv", ["Tea House", "Wu's Client", "Pool Customer", "王芳", "Newcomer"]),
        ("clv", ["王芳", "Pool Customer", "Wu's Client", "Tea House", "Newcomer"]),
        ("-level", ["Tea House", "Wu's Client", "王芳", "Pool Customer", "Newcomer"]),
        ("level", ["Pool Customer", "王芳", "Wu's Client", "Tea House", "Newcomer"]),
        ("-last_purchase", ["Tea House", "Pool Customer", "王芳", "Wu's Client", "Newcomer"]),
        ("class", ["Tea House", "Wu's Client", "王芳", "Pool Customer", "Newcomer"]),
        ("type", ["Tea House", "Wu's Client", "王芳", "Pool Customer", "Newcomer"]),
        ("owner", ["Tea House", "王芳", "Newcomer", "Wu's Client", "Pool Customer"]),
    ],
)
def test_columns_sort_the_list(client, shop, sort, expected):
    client.force_login(shop["admin"])
    assert _names(client.get(LIST, {"sort": sort})) == expected


@pytest.mark.parametrize(
    ("who", "params", "expected"),
    [
        ("admin", {"abc_class": "A", "sort": "-clv"}, ["Tea House", "Wu's Client"]),
        ("admin", {"abc_class": "A", "sort": "clv"}, ["Wu's Client", "Tea House"]),
        (
            "admin",
            {"customer_type": "business", "level_gap": "on_target", "sort": "-clv"},
            ["Tea House"],
        ),
        ("li", {"sort": "-clv"}, ["Tea House", "Pool Customer", "王芳", "Newcomer"]),
        ("li", {"region": "华东", "sort": "level"}, ["Pool Customer", "Tea House"]),
        ("li", {"abc_class": "A", "sort": "-level"}, ["Tea House"]),  # not Wu's A customer
        # "o" is in two names and in 王芳's email address.
        (
            "li",
            {"q": "o", "sort": "-last_purchase"},
            ["Tea House", "Pool Customer", "王芳", "Newcomer"],
        ),
    ],
)
def test_sorting_by_a_measure_keeps_every_filter_and_the_record_rule(
    client, shop, who, params, expected
):
    client.force_login(shop[who])
    response = client.get(LIST, params)
    assert _names(response) == expected
    assert response.context["page"].paginator.count == len(expected)


def test_a_column_header_links_to_the_opposite_sort_and_keeps_the_filters(client, shop):
    client.force_login(shop["admin"])
    response = client.get(LIST, {"sort": "-clv", "region": "华东"})
    columns = {c.key: c for c in response.context["columns"]}
    assert columns["clv"].aria_sort == "descending"
    assert columns["clv"].link_sort == "clv"
    assert columns["name"].aria_sort == "none"
    text = response.content.decode()
    assert 'aria-sort="descending"' in text
    assert "?sort=clv&amp;region=%E5%8D%8E%E4%B8%9C" in text
    # The chosen sort travels with the filter form.
    assert 'name="sort" value="-clv" form="customer-filters"' in text


def test_the_list_has_pages_of_fifty(client, staff):
    admin = staff("boss", "admin")
    Customer.objects.bulk_create(
        Customer(external_id=f"B-{i:03}", name=f"Bulk {i:03}", customer_type="consumer")
        for i in range(PAGE_SIZE * 2 + 7)
    )
    client.force_login(admin)
    first = client.get(LIST)
    assert _names(first) == [f"Bulk {i:03}" for i in range(PAGE_SIZE)]
    text = first.content.decode()
    assert "107 customers" in text
    assert "page 1 of 3" in text
    assert 'href="?page=2" rel="next"' in text
    last = client.get(LIST, {"page": 3})
    assert _names(last) == [f"Bulk {i:03}" for i in range(PAGE_SIZE * 2, PAGE_SIZE * 2 + 7)]
    # Past the end and nonsense both land on a real page rather than an error.
    assert _names(client.get(LIST, {"page": 99})) == _names(last)
    assert _names(client.get(LIST, {"page": "abc"})) == _names(first)


def test_pages_sorted_by_a_measure_continue_from_scored_into_unscored_customers(client, staff):
    admin = staff("boss", "admin")
    scored = Customer.objects.bulk_create(
        Customer(external_id=f"S-{i:03}", name=f"Scored {i:03}", customer_type="consumer")
        for i in range(PAGE_SIZE + 10)
    )
    Customer.objects.bulk_create(
        Customer(external_id=f"U-{i:03}", name=f"Unscored {i:03}", customer_type="consumer")
        for i in range(15)
    )
    run = run_create()
    for i, c in enumerate(scored):
        score_create(run, c, clv_cents=1000 * i)
    client.force_login(admin)
    first = _names(client.get(LIST, {"sort": "-clv"}))
    second = _names(client.get(LIST, {"sort": "-clv", "page": 2}))
    assert first == [f"Scored {i:03}" for i in range(PAGE_SIZE + 9, 9, -1)]
    assert second[:10] == [f"Scored {i:03}" for i in range(9, -1, -1)]
    assert sorted(second[10:]) == [f"Unscored {i:03}" for i in range(15)]


# -- htmx --------------------------------------------------------------------------------------


def test_an_htmx_request_gets_only_the_results(client, shop):
    client.force_login(shop["admin"])
    response = client.get(LIST, {"customer_type": "business"}, headers={"HX-Request": "true"})
    text = response.content.decode()
    assert text.lstrip().startswith('<section id="customer-results"')
    assert "<html" not in text
    assert 'id="customer-filters"' not in text.replace('form="customer-filters"', "")
    assert _names(response) == ["Tea House"]


def test_the_full_page_carries_the_htmx_wiring_and_works_without_it(client, shop):
    client.force_login(shop["admin"])
    text = client.get(LIST).content.decode()
    assert "<html" in text
    assert 'method="get" action="/customers/"' in text  # a plain form without JS
    assert 'hx-get="/customers/"' in text
    assert 'hx-target="#customer-results"' in text
    assert 'hx-push-url="true"' in text


def test_htmx_history_restore_gets_the_whole_page(client, shop):
    client.force_login(shop["admin"])
    response = client.get(
        LIST, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


# -- queries -----------------------------------------------------------------------------------


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LIST, params).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "params", [{}, {"sort": "-clv"}, {"actual_level": "basic", "tag": "vip", "q": "a"}]
)
def test_the_number_of_queries_does_not_grow_with_the_page(
    client, staff, params, django_assert_max_num_queries
):
    admin = staff("boss", "admin")
    vip = Tag.objects.create(name="vip")
    run = run_create()

    def add(n: int, start: int) -> None:
        made = Customer.objects.bulk_create(
            Customer(external_id=f"Q-{i}", name=f"Anna {i}", customer_type="consumer", owner=admin)
            for i in range(start, start + n)
        )
        for c in made:
            c.tags.add(vip)
            score_create(run, c, actual_level="basic")

    client.force_login(admin)
    add(3, 0)
    few = _queries(client, params)
    add(PAGE_SIZE + 5, 3)
    many = _queries(client, params)
    assert few == many
    with django_assert_max_num_queries(14):
        response = client.get(LIST, params)
    assert len(_names(response)) == PAGE_SIZE


# -- export ------------------------------------------------------------------------------------


def _csv(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


def test_export_streams_the_filtered_list_and_records_who_took_it(client, shop):
    client.force_login(shop["li"])
    response = client.get(EXPORT, {"region": "华东", "sort": "-clv"}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    rows = _csv(response)
    assert [r["name"] for r in rows] == ["Tea House", "Pool Customer"]
    tea = rows[0]
    assert tea["external_id"] == "C-TEA"
    assert tea["owner"] == "li"
    assert tea["tags"] == "vip"
    assert tea["phone"] == "13812345678"  # sales see personal data
    assert tea["actual_level"] == "partnership"
    assert tea["abc_class"] == "A"
    assert tea["clv"] == "90000.00"
    assert tea["last_purchase"] == "2026-06-20"
    assert tea["marketing_consent"] == "no"

    event = Event.objects.get(kind="customers.exported")
    assert event.actor == shop["li"]
    assert event.ip_address == "10.1.2.3"
    assert event.data["rows"] == 2
    assert event.data["filters"] == {"region": "华东", "sort": "-clv"}
    assert event.data["personal_data"] == "full"


def test_a_sales_user_cannot_export_a_colleagues_customers(client, shop):
    client.force_login(shop["li"])
    rows = _csv(client.get(EXPORT))
    assert "Wu's Client" not in {r["name"] for r in rows}
    assert _csv(client.get(EXPORT, {"owner": shop["wu"].pk})) == []
    assert Event.objects.filter(kind="customers.exported").latest("id").data["rows"] == 0


def test_export_masks_personal_data_for_roles_without_access(client, shop):
    client.force_login(shop["analyst"])
    rows = {r["external_id"]: r for r in _csv(client.get(EXPORT))}
    assert rows["C-TEA"]["phone"] == "138****5678"
    assert rows["C-TEA"]["email"] == "b***@teahouse.cn"
    assert "13812345678" not in str(rows)
    assert len(rows) == 5  # analysts see every customer, masked
    event = Event.objects.get(kind="customers.exported")
    assert event.data["personal_data"] == "masked"


def test_export_refuses_invalid_filters_with_a_reason(client, shop):
    client.force_login(shop["admin"])
    response = client.get(EXPORT, {"abc_class": "Z"})
    assert response.status_code == 400
    assert "abc_class" in response.content.decode()
    assert not Event.objects.filter(kind="customers.exported").exists()


def test_export_defuses_cells_a_spreadsheet_would_run_as_formulas(client, staff):
    admin = staff("boss", "admin")
    _customer("C-EVIL", "=HYPERLINK(1)", phone="+86 138 0000 0000")
    client.force_login(admin)
    (row,) = _csv(client.get(EXPORT))
    assert row["name"] == "'=HYPERLINK(1)"
    assert row["phone"] == "+86 138 0000 0000"
