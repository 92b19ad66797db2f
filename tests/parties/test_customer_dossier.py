"""A customer's data requests: ``customer_dossier`` / ``guanxi customer export`` and
``customer_erase`` / ``guanxi customer erase``."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F, Sum
from django.utils import timezone

from guanxi.assessments.choices import DEFAULT_QUESTIONNAIRE_CODE
from guanxi.assessments.models import Assessment, Questionnaire
from guanxi.assessments.services import assessment_record
from guanxi.core.models import Event
from guanxi.engagement.models import Case, Interaction, SurveyResponse
from guanxi.engagement.services import case_open, interaction_log, survey_record
from guanxi.hierarchy.models import Bond
from guanxi.hierarchy.services import bond_record
from guanxi.parties.models import Contact, Customer
from guanxi.parties.selectors import customer_dossier
from guanxi.parties.services import (
    contact_create,
    customer_create,
    customer_erase,
    customer_update,
)
from guanxi.playbooks.models import Task
from guanxi.playbooks.services import task_create
from guanxi.sales.models import OrderLine
from guanxi.sales.services import LineInput, order_record
from guanxi.scoring.models import CustomerScore
from tests.playbooks.factories import run_create, score_create

pytestmark = pytest.mark.django_db

WHEN = timezone.make_aware(dt.datetime(2026, 3, 2, 10, 0))
OLD_NAME = "Jade Garden Trading"
NEW_NAME = "Jade Garden Tea House"
PHONE = "13912345678"
EMAIL = "boss@jadegarden.example.com"
WECHAT = "jadegarden88"
ADDRESS = "88 Nanjing Road, Shanghai"
CONTACT_NAME = "Wang Xiaoming"
CONTACT_PHONE = "13700001111"
CONTACT_EMAIL = "wang.xm@jadegarden.example.com"
RATER_NAME = "Ms Zhao, purchasing"
PERSONAL = [
    OLD_NAME,
    NEW_NAME,
    PHONE,
    EMAIL,
    WECHAT,
    ADDRESS,
    CONTACT_NAME,
    CONTACT_PHONE,
    CONTACT_EMAIL,
    RATER_NAME,
]


@pytest.fixture
def jade(user, product):
    """A business customer with something in every table that holds data about a customer."""
    c = customer_create(
        external_id="C-JADE",
        name=OLD_NAME,
        customer_type="business",
        actor=user,
        phone=PHONE,
        email=EMAIL,
        wechat_id=WECHAT,
        address=ADDRESS,
        region="East",
        marketing_consent=True,
        tags=["vip", "tea"],
    )
    customer_update(customer=c, actor=user, name=NEW_NAME)  # the event names old and new
    contact = contact_create(
        customer=c,
        external_id="K-1",
        name=CONTACT_NAME,
        job_title="Buyer",
        phone=CONTACT_PHONE,
        email=CONTACT_EMAIL,
        is_primary=True,
    )
    first = order_record(
        customer=c,
        external_id="O-1",
        placed_at=WHEN,
        lines=[LineInput(product=product, quantity=2), LineInput(product=product, quantity=1)],
    )
    order_record(
        customer=c,
        external_id="O-2",
        placed_at=WHEN + dt.timedelta(days=30),
        lines=[LineInput(product=product, quantity=5, unit_price_cents=9_900)],
    )
    interaction_log(
        customer=c,
        external_id="I-1",
        occurred_at=WHEN + dt.timedelta(days=2),
        channel="phone",
        direction="outbound",
        service_phase="after_sale",
        purpose="follow_up",
        contact=contact,
        order=first,
        notes=f"{CONTACT_NAME} asked us to call {CONTACT_PHONE} next time.",
    )
    case = case_open(
        customer=c,
        external_id="K-CASE-1",
        kind="complaint",
        subject=f"Late delivery to {ADDRESS}",
        description=f"{CONTACT_NAME} says the tea arrived a week late.",
        opened_at=WHEN + dt.timedelta(days=3),
    )
    survey_record(
        customer=c,
        answered_at=WHEN + dt.timedelta(days=10),
        csat=2,
        nps=5,
        case=case,
        comment=f"Ask for {CONTACT_NAME}.",
    )
    task_create(
        customer=c,
        title=f"Call {CONTACT_NAME}",
        reason=f"On {CONTACT_PHONE}",
        due_on=dt.date(2026, 4, 1),
        purpose="follow_up",
        owner=user,
    )
    bond_record(
        customer=c,
        instrument="points",
        started_on=dt.date(2026, 1, 1),
        note=f"Card in the name of {OLD_NAME}",
    )
    questionnaire = Questionnaire.objects.get(code=DEFAULT_QUESTIONNAIRE_CODE, version=1)
    assessment_record(
        customer=c,
        questionnaire=questionnaire,
        rater_role="customer",
        answers={position: 3 for position in range(1, questionnaire.items.count() + 1)},
        answered_on=dt.date(2026, 3, 15),
        rater_name=RATER_NAME,
        notes=f"Answered on the phone with {RATER_NAME}.",
    )
    run = run_create(as_of=dt.date(2026, 4, 1))
    score_create(run, c, lifecycle_stage="stability", abc_class="A", clv_cents=123_456.0)
    # A contact's change of job title, as a contact.updated event holds it.
    Event.objects.create(
        kind="contact.updated",
        customer=c,
        data={"job_title": {"from": "Buyer", "to": "Head buyer"}, "phone": {"changed": True}},
    )
    # Searching for the customer's phone and exporting the list leaves it in an event's filters.
    Event.objects.create(kind="customers.exported", data={"filters": {"q": PHONE}, "rows": 1})
    c.refresh_from_db()
    return c


def _export(*args) -> dict:
    out = io.StringIO()
    call_command("customer", "export", *args, stdout=out)
    return json.loads(out.getvalue())


# -- the dossier -------------------------------------------------------------------------------


def test_the_dossier_holds_everything_about_the_customer(jade):
    dossier = customer_dossier(customer=jade)
    json.dumps(dossier)  # serialisable as it is
    assert dossier["format"] == "guanxi.customer_dossier" and dossier["currency"] == "CNY"
    profile = dossier["customer"]
    assert (profile["external_id"], profile["name"]) == ("C-JADE", NEW_NAME)
    assert (profile["phone"], profile["email"], profile["wechat_id"], profile["address"]) == (
        PHONE,
        EMAIL,
        WECHAT,
        ADDRESS,
    )
    assert profile["tags"] == ["tea", "vip"] and profile["marketing_consent"] is True
    assert dossier["contacts"][0]["name"] == CONTACT_NAME
    assert dossier["contacts"][0]["phone"] == CONTACT_PHONE

    first, second = dossier["orders"]
    assert first["external_id"] == "O-1" and first["placed_at"] == WHEN.isoformat()
    assert [line["quantity"] for line in first["lines"]] == [2, 1]
    assert first["lines"][0] == {
        "line_no": 1,
        "sku": "TEA-1",
        "product": "Green tea",
        "quantity": 2,
        "unit_price_cents": 12_000,
        "amount_cents": 24_000,
    }
    assert (first["amount_cents"], second["amount_cents"]) == (36_000, 49_500)

    interaction = dossier["interactions"][0]
    assert (interaction["contact"], interaction["order"]) == ("K-1", "O-1")
    assert CONTACT_PHONE in interaction["notes"]
    case = dossier["cases"][0]
    assert case["kind"] == "complaint" and case["subject"] == f"Late delivery to {ADDRESS}"
    assert dossier["survey_responses"][0]["case"] == "K-CASE-1"
    assert dossier["tasks"][0]["title"] == f"Call {CONTACT_NAME}"
    assert dossier["tasks"][0]["due_on"] == "2026-04-01"
    assert dossier["bonds"][0]["instrument"] == "points"
    assessment = dossier["assessments"][0]
    assert assessment["rater_name"] == RATER_NAME and assessment["stage"]
    assert (
        len(assessment["answers"])
        == Questionnaire.objects.get(code=DEFAULT_QUESTIONNAIRE_CODE, version=1).items.count()
    )
    score = dossier["scores"][0]
    assert (score["as_of"], score["abc_class"], score["clv_cents"]) == ("2026-04-01", "A", 123_456)
    kinds = [e["kind"] for e in dossier["events"]]
    assert kinds[:2] == ["customer.created", "customer.updated"]
    assert {"contact.created", "order.recorded", "case.opened", "bond.recorded"} <= set(kinds)
    renamed = dossier["events"][1]
    assert renamed["data"]["name"] == {"from": OLD_NAME, "to": NEW_NAME}
    assert renamed["actor"] == "mei"


def test_export_writes_json_to_stdout_and_records_who_and_where(jade, user):
    dossier = _export("C-JADE", "--actor", "mei")
    assert dossier["customer"]["name"] == NEW_NAME
    event = Event.objects.get(kind="customer.dossier_exported")
    assert (event.customer, event.actor, event.subject) == (jade, user, jade)
    assert event.data == {"to": "stdout"}


def test_export_to_a_file_by_database_id(jade, tmp_path):
    target = tmp_path / "dossier.json"
    call_command("customer", "export", "--pk", str(jade.pk), "--output", str(target))
    assert json.loads(target.read_text(encoding="utf-8"))["customer"]["external_id"] == "C-JADE"
    event = Event.objects.get(kind="customer.dossier_exported")
    assert event.actor is None and event.customer == jade
    assert event.data == {"to": str(target.resolve())}


def test_an_unknown_customer_or_actor_is_named_in_the_error(jade):
    with pytest.raises(CommandError, match="external id C-NOPE"):
        call_command("customer", "export", "C-NOPE")
    with pytest.raises(CommandError, match="database id 999999"):
        call_command("customer", "erase", "--pk", "999999", "--yes")
    with pytest.raises(CommandError, match="no user ghost"):
        call_command("customer", "export", "C-JADE", "--actor", "ghost")
    with pytest.raises(CommandError, match="one of the two"):
        call_command("customer", "export")
    assert not Event.objects.filter(kind__in=["customer.dossier_exported", "customer.erased"])


# -- erasing -----------------------------------------------------------------------------------


def _order_totals(customer: Customer) -> tuple[int, int]:
    lines = OrderLine.objects.filter(order__customer=customer)
    total = lines.aggregate(amount=Sum(F("quantity") * F("unit_price_cents")))["amount"]
    return total, lines.count()


def test_erase_blanks_personal_data_and_keeps_the_figures(jade, user):
    totals = _order_totals(jade)
    scores = list(CustomerScore.objects.filter(customer=jade).values_list("clv_cents", "abc_class"))
    n_events = Event.objects.filter(customer=jade).count()

    erased = customer_erase(customer=jade, actor=user)

    jade.refresh_from_db()
    assert jade.name == f"Erased customer {jade.pk}"
    assert (jade.phone, jade.email, jade.wechat_id, jade.address) == ("", "", "", "")
    assert not jade.tags.exists()
    assert (jade.marketing_consent, jade.is_active) == (False, False)
    assert jade.external_id == "C-JADE" and jade.region == "East"
    contact = Contact.objects.get(customer=jade)
    assert (contact.name, contact.phone, contact.email, contact.job_title) == (
        "Erased contact",
        "",
        "",
        "",
    )
    assert Interaction.objects.get(customer=jade).notes == ""
    case = Case.objects.get(customer=jade)
    assert (case.subject, case.description, case.resolution) == ("Erased case", "", "")
    assert case.kind == "complaint" and case.severity == "medium"  # the classification stays
    assert SurveyResponse.objects.get(customer=jade).comment == ""
    assert (SurveyResponse.objects.get(customer=jade).csat, Bond.objects.get().note) == (2, "")
    assessment = Assessment.objects.get(customer=jade)
    assert (assessment.rater_name, assessment.notes) == ("", "")
    task = Task.objects.get(customer=jade)
    assert (task.custom_title, task.custom_reason) == ("Erased task", "")

    # Orders, their lines and amounts, and the scores are kept.
    assert _order_totals(jade) == totals == (85_500, 3)
    assert (
        list(CustomerScore.objects.filter(customer=jade).values_list("clv_cents", "abc_class"))
        == scores
    )

    # One event says what was blanked: field names and counts, never the values.
    event = Event.objects.get(kind="customer.erased")
    assert (event.customer, event.actor, event.subject) == (jade, user, jade)
    assert event.data == erased
    assert erased["customer"] == [
        "address",
        "email",
        "name",
        "phone",
        "wechat_id",
        "marketing_consent",
    ]
    assert erased["tags"] == 2
    assert erased["contacts"] == {
        "rows": 1,
        "fields": ["email", "job_title", "name", "phone", "wechat_id"],
    }
    assert erased["interactions"]["rows"] == erased["cases"]["rows"] == 1
    assert erased["events"]["rows"] == 3  # customer.updated, contact.updated, customers.exported
    assert Event.objects.filter(customer=jade).count() == n_events + 1  # no event deleted

    # No personal value is left in the customer's rows, their events or the search event.
    dossier_text = json.dumps(customer_dossier(customer=jade), ensure_ascii=False).lower()
    events_text = json.dumps(list(Event.objects.values_list("data", flat=True))).lower()
    for value in PERSONAL:
        assert value.lower() not in dossier_text, value
        assert value.lower() not in events_text, value
    renamed = Event.objects.get(customer=jade, kind="customer.updated")
    assert renamed.data["name"] == {"changed": True}
    retitled = Event.objects.get(customer=jade, kind="contact.updated")
    assert retitled.data == {"job_title": {"changed": True}, "phone": {"changed": True}}


def test_the_erase_command_asks_first_and_is_audited(jade, user, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda question: "no")
    with pytest.raises(CommandError, match="Nothing was erased"):
        call_command("customer", "erase", "C-JADE")
    jade.refresh_from_db()
    assert jade.name == NEW_NAME and not Event.objects.filter(kind="customer.erased").exists()

    questions = []
    monkeypatch.setattr("builtins.input", lambda question: questions.append(question) or "yes")
    out = io.StringIO()
    call_command("customer", "erase", "C-JADE", "--actor", "mei", stdout=out)
    assert "C-JADE" in questions[0] and NEW_NAME in questions[0]
    assert "Erased the personal data of customer C-JADE" in out.getvalue()
    assert PHONE not in out.getvalue()
    event = Event.objects.get(kind="customer.erased")
    assert (event.customer, event.actor) == (jade, user)

    # Exported afterwards, the dossier holds no trace of the old name, phone or e-mail.
    text = json.dumps(_export("C-JADE"), ensure_ascii=False)
    for value in (OLD_NAME, NEW_NAME, PHONE, EMAIL, CONTACT_NAME, CONTACT_PHONE):
        assert value not in text


def test_erase_with_yes_does_not_ask(jade, monkeypatch):
    def no_questions(question):
        raise AssertionError("asked")

    monkeypatch.setattr("builtins.input", no_questions)
    call_command("customer", "erase", "--pk", str(jade.pk), "--yes", stdout=io.StringIO())
    jade.refresh_from_db()
    assert jade.name == f"Erased customer {jade.pk}"
    assert Event.objects.get(kind="customer.erased").actor is None


def test_erasing_leaves_other_customers_alone(jade):
    other = customer_create(
        external_id="C-OTHER",
        name="Other Trading",
        customer_type="consumer",
        phone="13600000000",
        tags=["vip"],
    )
    search = Event.objects.create(kind="customers.exported", data={"filters": {"q": "garden"}})
    customer_erase(customer=jade)
    other.refresh_from_db()
    # Other exports' filters keep their meaning: only a search for a whole personal value goes.
    search.refresh_from_db()
    assert search.data == {"filters": {"q": "garden"}}
    assert (other.name, other.phone) == ("Other Trading", "13600000000")
    assert list(other.tags.values_list("name", flat=True)) == ["vip"]
    assert Event.objects.get(customer=other, kind="customer.created").data == {
        "customer_type": "consumer"
    }
