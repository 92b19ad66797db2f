import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_five_role_groups_exist_after_migrating():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "admin",
        "manager",
        "sales",
        "service",
        "analyst",
    }


def test_home_page_shows_counts_to_a_signed_in_user(client, user, customer):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "What the store holds" in text
    assert "<dd>1</dd>" in text  # the one customer


def test_home_page_sends_an_anonymous_visitor_to_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_home_page_speaks_chinese_under_the_zh_hans_prefix(client, user):
    client.force_login(user)
    response = client.get("/zh-hans/")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'lang="zh-hans"' in text
    assert "客户" in text


def test_health_check_reports_the_database(client):
    response = client.get(reverse("healthz"))
    assert response.json()["status"] == "ok"


def test_admin_lists_customers_with_a_bounded_number_of_queries(
    admin_client, customer, django_assert_max_num_queries
):
    from guanxi.parties.services import customer_create

    for i in range(20):
        customer_create(external_id=f"X-{i}", name=f"Customer {i}", customer_type="consumer")
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:parties_customer_changelist"))
    assert response.status_code == 200
