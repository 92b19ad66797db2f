import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from guanxi.analytics.relationship import RelationshipPolicy
from guanxi.core.errors import GuanxiError
from guanxi.core.models import Event
from guanxi.hierarchy.models import Bond, HierarchyPolicy
from guanxi.hierarchy.services import bond_end, bond_record

pytestmark = pytest.mark.django_db


def test_the_policy_row_starts_at_the_engine_defaults_and_stays_single():
    policy = HierarchyPolicy.current()
    assert policy.to_policy() == RelationshipPolicy()
    HierarchyPolicy(follow_up_days=3).save()
    assert HierarchyPolicy.objects.count() == 1
    assert HierarchyPolicy.current().to_policy().follow_up_days == 3


def test_an_inconsistent_policy_is_refused_with_the_field_named():
    policy = HierarchyPolicy.current()
    policy.few_max_share = 0.5
    with pytest.raises(ValidationError, match="few_max_share"):
        policy.full_clean()
    policy = HierarchyPolicy.current()
    policy.segment_by = "customer_type,colour"
    with pytest.raises(ValidationError, match="segment_by"):
        policy.full_clean()


def test_bonds_take_their_kind_from_the_instrument_and_are_audited(customer, user):
    bond = bond_record(
        customer=customer, instrument="shared_system", started_on=dt.date(2026, 1, 5), actor=user
    )
    assert bond.kind == "structural" and bond.recorded_by == user
    assert Event.objects.filter(kind="bond.recorded", customer=customer).count() == 1
    bond_end(bond=bond, ended_on=dt.date(2026, 3, 1), actor=user)
    assert Bond.objects.get().ended_on == dt.date(2026, 3, 1)
    assert Event.objects.filter(kind="bond.ended").count() == 1


def test_bad_bonds_are_refused_and_nothing_is_written(customer):
    with pytest.raises(GuanxiError) as err:
        bond_record(customer=customer, instrument="friendship", started_on=dt.date(2026, 1, 1))
    assert err.value.field == "instrument" and "support_contract" in err.value.message
    with pytest.raises(GuanxiError) as err:
        bond_record(
            customer=customer,
            instrument="club",
            started_on=dt.date(2026, 2, 1),
            ended_on=dt.date(2026, 1, 1),
        )
    assert err.value.field == "ended_on"
    assert not Bond.objects.exists()
    assert not Event.objects.filter(kind__startswith="bond.").exists()


def test_the_admin_shows_the_policy_and_the_bonds(admin_client, customer):
    bond_record(customer=customer, instrument="club", started_on=dt.date(2026, 1, 1))
    policy = HierarchyPolicy.current()
    page = admin_client.get(f"/admin/hierarchy/hierarchypolicy/{policy.pk}/change/")
    assert page.status_code == 200
    assert b"Kotler" in page.content
    response = admin_client.post(
        f"/admin/hierarchy/hierarchypolicy/{policy.pk}/change/",
        {
            **{k: v for k, v in RelationshipPolicy().to_dict().items()},
            "many_min_share": "0.01",
            "few_max_share": "0.2",
        },
    )
    assert response.status_code == 200, "the form is shown again with the error"
    assert b"few_max_share" in response.content
    assert admin_client.get("/admin/hierarchy/bond/").status_code == 200
