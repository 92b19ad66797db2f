"""The assessment pages: who may see and record, what the rater form checks, what the pages show."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from guanxi.assessments.models import Assessment
from tests.assessments.conftest import uniform

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    def make(username, role):
        user = django_user_model.objects.create_user(username=username, password="pw-123-long!")
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def seller(staff):
    return staff("li", "sales")


@pytest.fixture
def partner(make_customer, seller):
    return make_customer(owner=seller)


def _form_data(questionnaire, score, **extra):
    data = {
        "rater_role": "sales_manager",
        "answered_on": timezone.localdate().isoformat(),
        "notes": "",
    }
    for item in questionnaire.items.all():
        data[f"item_{item.pk}"] = str(score)
    data.update(extra)
    return data


def test_a_seller_records_an_assessment_and_sees_the_stage(client, seller, partner, questionnaire):
    client.force_login(seller)
    response = client.post(
        reverse("assessments:new", args=[partner.pk]), _form_data(questionnaire, 3)
    )
    assert response.status_code == 302
    assessment = Assessment.objects.get(customer=partner)
    assert (assessment.rater, assessment.stage, assessment.mean_score) == (
        seller,
        "interdependent",
        3.0,
    )
    page = client.get(response["Location"]).content.decode()
    assert "Interdependent" in page
    assert "mean score 3.00" in page


def test_a_missing_answer_is_named_and_nothing_is_recorded(client, seller, partner, questionnaire):
    client.force_login(seller)
    data = _form_data(questionnaire, 2)
    first = questionnaire.items.order_by("position").first()
    del data[f"item_{first.pk}"]
    response = client.post(reverse("assessments:new", args=[partner.pk]), data)
    assert response.status_code == 400
    assert "Pick the description closest to how things are." in response.content.decode()
    assert not Assessment.objects.exists()


def test_the_customers_own_answers_need_the_name_of_who_answered(
    client, seller, partner, questionnaire
):
    client.force_login(seller)
    data = _form_data(questionnaire, 2, rater_role="customer")
    response = client.post(reverse("assessments:new", args=[partner.pk]), data)
    assert response.status_code == 400
    assert "Say who at the customer answered." in response.content.decode()
    data["rater_name"] = "Ms Wang"
    response = client.post(reverse("assessments:new", args=[partner.pk]), data)
    assert response.status_code == 302
    recorded = Assessment.objects.get()
    assert (recorded.rater, recorded.rater_name) == (None, "Ms Wang")


def test_a_future_date_is_refused(client, seller, partner, questionnaire):
    client.force_login(seller)
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    data = _form_data(questionnaire, 2, answered_on=tomorrow.isoformat())
    response = client.post(reverse("assessments:new", args=[partner.pk]), data)
    assert response.status_code == 400
    assert "The answer date is in the future." in response.content.decode()


def test_another_sellers_customer_is_not_found(client, staff, partner, questionnaire):
    other = staff("wu", "sales")
    client.force_login(other)
    assert client.get(reverse("assessments:customer", args=[partner.pk])).status_code == 404
    response = client.post(
        reverse("assessments:new", args=[partner.pk]), _form_data(questionnaire, 3)
    )
    assert response.status_code == 404
    assert not Assessment.objects.exists()


def test_service_staff_read_but_do_not_record(client, staff, partner, questionnaire):
    agent = staff("zhao", "service")
    client.force_login(agent)
    page = client.get(reverse("assessments:customer", args=[partner.pk]))
    assert page.status_code == 200
    assert "Rate this relationship" not in page.content.decode()
    response = client.post(
        reverse("assessments:new", args=[partner.pk]), _form_data(questionnaire, 3)
    )
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_consumers_have_no_assessment_page(client, seller, make_customer):
    consumer = make_customer(customer_type="consumer", owner=seller)
    client.force_login(seller)
    assert client.get(reverse("assessments:new", args=[consumer.pk])).status_code == 404


def test_the_list_shows_the_perception_gap_and_filters_on_it(
    client, seller, make_customer, record, django_assert_max_num_queries
):
    today = timezone.localdate()
    agreed = make_customer(owner=seller, name="Agreed Ltd")
    apart = make_customer(owner=seller, name="Apart Ltd")
    record(agreed, "sales_manager", 3, on=today)
    record(agreed, "customer", 3, on=today, rater_name="A")
    record(apart, "sales_manager", 4, on=today)
    record(apart, "customer", 1, on=today, rater_name="B")
    for _ in range(30):  # the page's query count must not grow with the rows
        record(make_customer(owner=seller), "senior_manager", 2, on=today)
    client.force_login(seller)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("assessments:assessment_list"))
    text = page.content.decode()
    assert "32 relationships" in text
    assert "Agreed Ltd" in text and "Apart Ltd" in text
    gap = client.get(reverse("assessments:assessment_list"), {"gap": "1"}).content.decode()
    assert "1 relationship" in gap
    assert "Apart Ltd" in gap and "Agreed Ltd" not in gap


def test_the_htmx_request_gets_only_the_results(client, seller, partner, record):
    record(partner, "sales_manager", 2, on=timezone.localdate())
    client.force_login(seller)
    response = client.get(reverse("assessments:assessment_list"), headers={"HX-Request": "true"})
    text = response.content.decode()
    assert 'id="assessment-results"' in text
    assert "<html" not in text


def test_the_relationship_page_compares_dimensions(client, seller, partner, record, questionnaire):
    today = timezone.localdate()
    record(partner, "sales_manager", [4, 2], on=today)
    record(partner, "customer", 1, on=today, rater_name="C")
    client.force_login(seller)
    text = client.get(reverse("assessments:customer", args=[partner.pk])).content.decode()
    assert 'id="dimension-data"' in text
    assert "Contact and communication" in text
    assert "The company sees the relationship further along than the customer does." in text
    assert uniform(questionnaire, 1)  # the helper the fixture uses still covers every item
