import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from guanxi.core.errors import GuanxiError
from guanxi.core.models import Event
from guanxi.parties.models import Contact, Customer
from guanxi.parties.services import contact_create, customer_create, customer_update

pytestmark = pytest.mark.django_db


def test_creating_a_customer_records_an_event_with_its_tags():
    c = customer_create(
        external_id="C-9",
        name="王芳",
        customer_type="consumer",
        phone="13800138000",
        tags=["vip", " tea ", "vip"],
    )
    assert sorted(c.tags.values_list("name", flat=True)) == ["tea", "vip"]
    event = Event.objects.get(customer=c)
    assert event.kind == "customer.created"


def test_update_events_name_changed_personal_fields_without_copying_them(customer, user):
    customer_update(customer=customer, actor=user, phone="13900000000", region="华东")
    event = Event.objects.filter(customer=customer).latest("id")
    assert event.kind == "customer.updated"
    assert event.actor == user
    assert event.data["phone"] == {"changed": True}
    assert "13900000000" not in str(event.data)
    assert event.data["region"] == {"from": "", "to": "华东"}


def test_an_update_that_changes_nothing_leaves_no_event(customer):
    before = Event.objects.count()
    customer_update(customer=customer, name=customer.name)
    assert Event.objects.count() == before


def test_reassigning_the_owner_is_its_own_event_kind(customer, user):
    customer_update(customer=customer, owner=user)
    assert Event.objects.filter(customer=customer).latest("id").kind == "customer.owner_changed"


def test_unknown_customer_type_is_refused_by_validation_and_by_the_database():
    with pytest.raises(ValidationError):
        customer_create(external_id="C-2", name="X", customer_type="martian")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(external_id="C-3", name="X", customer_type="martian")
    assert not Customer.objects.filter(external_id__in=["C-2", "C-3"]).exists()


def test_external_id_is_unique(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(
            external_id=customer.external_id, name="Dup", customer_type="business"
        )


def test_contacts_only_for_business_and_channel_customers(customer):
    contact_create(customer=customer, external_id="P-1", name="Li Wei", is_primary=True)
    consumer = customer_create(external_id="C-4", name="Zhang San", customer_type="consumer")
    with pytest.raises(GuanxiError, match="business and channel"):
        contact_create(customer=consumer, external_id="P-2", name="Zhang San")
    assert not Contact.objects.filter(external_id="P-2").exists()


def test_only_one_primary_contact_per_customer(customer):
    contact_create(customer=customer, external_id="P-1", name="Li Wei", is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(customer=customer, external_id="P-3", name="B", is_primary=True)
