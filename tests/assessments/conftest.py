import datetime as dt

import pytest

from guanxi.assessments.choices import DEFAULT_QUESTIONNAIRE_CODE
from guanxi.assessments.models import Questionnaire
from guanxi.assessments.services import assessment_record
from guanxi.parties.services import customer_create

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def questionnaire(db):
    """The default questionnaire the data migration ships (12 items, bands 1/2/3/4/5)."""
    return Questionnaire.objects.get(code=DEFAULT_QUESTIONNAIRE_CODE, version=1)


@pytest.fixture
def make_customer(db):
    counter = iter(range(1, 10_000))

    def make(customer_type="business", **fields):
        n = next(counter)
        fields.setdefault("name", f"Partner {n}")
        return customer_create(external_id=f"A-{n}", customer_type=customer_type, **fields)

    return make


def uniform(questionnaire, *scores):
    """Answers keyed by position: the scores repeat over the items (one score → every item)."""
    count = questionnaire.items.count()
    return {position: scores[(position - 1) % len(scores)] for position in range(1, count + 1)}


@pytest.fixture
def record(questionnaire):
    """Record an assessment on the default questionnaire with every item scored the same or from
    a list; keyword arguments pass through to ``assessment_record``."""

    def rec(customer, role, scores, *, on=AS_OF, q=None, **kwargs):
        q = q or questionnaire
        answers = uniform(q, *scores) if isinstance(scores, tuple | list) else uniform(q, scores)
        return assessment_record(
            customer=customer,
            questionnaire=q,
            rater_role=role,
            answers=answers,
            answered_on=on,
            **kwargs,
        )

    return rec
