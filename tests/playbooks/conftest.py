import pytest

from tests.playbooks.factories import run_create


@pytest.fixture
def run(db):
    return run_create()


# Users without a password: hashing one takes a second, and these tests never log in.
@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create(username="mei")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create(username="lin")
