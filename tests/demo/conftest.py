"""A demo company generated once for the module that reads it, and removed afterwards."""

import datetime as dt
import hashlib

import pytest
from django.db import connection, transaction

AS_OF = dt.date(2026, 6, 30)
STORY_CUSTOMERS = 1500
STORY_SEED = 5


@pytest.fixture(scope="module")
def story(django_db_setup, django_db_blocker):
    """The demo company (1,500 customers, seed 5), committed, for read-only tests."""
    from guanxi.core.models import Event
    from guanxi.demo.flush import demo_flush
    from guanxi.demo.run import demo_generate

    with django_db_blocker.unblock():
        summary = demo_generate(customers=STORY_CUSTOMERS, seed=STORY_SEED, as_of=AS_OF)
        yield summary
        with transaction.atomic():
            demo_flush()
            Event.objects.filter(kind__startswith="demo.").delete()


def table_digest() -> dict[str, str]:
    """A hash of every demo table's rows in id order (the random-salted password left out)."""
    from guanxi.demo.run import table_models

    digests = {}
    qn = connection.ops.quote_name
    for name, model in table_models().items():
        columns = [f.column for f in model._meta.concrete_fields if f.column != "password"]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(qn(c) for c in columns)} FROM {qn(model._meta.db_table)} "
                "ORDER BY id"
            )
            digests[name] = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
    return digests
