"""Generating the demo company into the database: checks, flush, bulk load, one summary event."""

import datetime as dt
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connections, models, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from guanxi.assessments.choices import DEFAULT_QUESTIONNAIRE_CODE
from guanxi.assessments.models import Assessment, AssessmentAnswer, Questionnaire, ScoreBand
from guanxi.core.choices import Role
from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import StaffProfile, Team
from guanxi.core.services import event_record
from guanxi.demo import vocab
from guanxi.demo.assessments import DemoQuestionnaire
from guanxi.demo.flush import demo_customers, demo_flush, demo_users
from guanxi.demo.generator import CATALOGUE_TABLES, CHUNK_TABLES, TABLES, DemoGenerator
from guanxi.demo.params import DEMO_PREFIX
from guanxi.demo.writer import writer_for
from guanxi.engagement.models import Case, Interaction, SurveyResponse
from guanxi.engagement.services import DEFAULT_RESOLUTION_TIME
from guanxi.hierarchy.models import Bond
from guanxi.parties.models import Contact, Customer, Tag
from guanxi.sales.models import Order, OrderLine, Product


def table_models() -> dict[str, type[models.Model]]:
    """The model behind each generated table."""
    user = get_user_model()
    return {
        "team": Team,
        "user": user,
        "user_group": user.groups.through,
        "staff_profile": StaffProfile,
        "tag": Tag,
        "product": Product,
        "customer": Customer,
        "customer_tag": Customer.tags.through,
        "contact": Contact,
        "order": Order,
        "order_line": OrderLine,
        "interaction": Interaction,
        "case": Case,
        "survey": SurveyResponse,
        "bond": Bond,
        "assessment": Assessment,
        "assessment_answer": AssessmentAnswer,
    }


class Progress:
    """Receives progress reports while the demo is generated; this one ignores them."""

    def start(self, *, customers: int) -> None:
        """Generation of ``customers`` customers begins."""

    def advance(self, *, customers: int, rows: int) -> None:
        """``customers`` more customers were written, with ``rows`` rows in all."""

    def phase(self, description: str) -> None:
        """A step without a count began (flushing, rebuilding indexes …)."""


@dataclass(frozen=True)
class DemoSummary:
    customers: int
    seed: int
    as_of: dt.date
    counts: dict[str, int] = field(default_factory=dict)  # rows per table, in write order
    flushed: dict[str, int] = field(default_factory=dict)  # rows removed per model
    seconds: float = 0.0
    generated: bool = True  # False when existing data was kept
    existing_customers: int = 0
    username: str = vocab.DEMO_USERNAME
    password: str = vocab.DEMO_PASSWORD


def demo_generate(
    *,
    customers: int,
    seed: int,
    as_of: dt.date,
    flush: bool = False,
    keep_existing: bool = False,
    progress: Progress | None = None,
    using: str = "default",
) -> DemoSummary:
    """Generate the demo company into an empty database, in one transaction.

    With ``flush`` a previous demo company is removed first. A database holding other customers
    is refused (``keep_existing`` turns the refusal into a no-op, for ``make demo``).
    """
    if customers < 1:
        raise GuanxiError(_("The demo needs at least one customer."), field="customers")
    progress = progress or Progress()
    started = time.monotonic()
    connection = connections[using]
    models_by_table = table_models()
    with transaction.atomic(using=using):
        existing = Customer.objects.using(using).count()
        if existing and keep_existing and not flush:
            return DemoSummary(
                customers=customers,
                seed=seed,
                as_of=as_of,
                generated=False,
                existing_customers=existing,
            )
        if not flush:
            _check_database(using, existing, flush)
        writer = writer_for(connection)
        # Set the large tables' constraints and indexes aside first: a flush then deletes
        # millions of rows without a foreign-key check or an index update per row.
        writer.prepare(
            large=[models_by_table[name] for name in CHUNK_TABLES],
            small=[models_by_table[name] for name in CATALOGUE_TABLES],
        )
        flushed: dict[str, int] = {}
        if flush:
            progress.phase(_("Removing the previous demo data"))
            flushed = demo_flush(using=using)
            if flushed:
                event_record(kind="demo.flushed", data={"deleted": flushed})
            _check_database(using, Customer.objects.using(using).count(), flush)

        generator = DemoGenerator(
            customers=customers,
            seed=seed,
            as_of=as_of,
            first_ids={name: _next_id(models_by_table[name], using) for name in TABLES},
            group_ids=_group_ids(using),
            password_hash=make_password(vocab.DEMO_PASSWORD),
            deadlines={str(s): int(d.total_seconds()) for s, d in DEFAULT_RESOLUTION_TIME.items()},
            questionnaire=_questionnaire(using),
        )
        counts = dict.fromkeys(TABLES, 0)
        for name in CATALOGUE_TABLES:
            table = generator.catalogue.tables[name]
            writer.write(models_by_table[name], table)
            counts[name] += table.num_rows

        progress.start(customers=customers)
        encoded_chunks = (
            (chunk, [writer.encode(models_by_table[n], chunk.tables[n]) for n in CHUNK_TABLES])
            for chunk in generator.chunks()
        )
        # Simulating and encoding the next chunks overlaps with loading this one.
        with Prefetch(encoded_chunks) as chunks:
            for chunk, encoded in chunks:
                for name, rows in zip(CHUNK_TABLES, encoded, strict=True):
                    writer.load(rows)
                    counts[name] += rows.rows
                progress.advance(customers=chunk.customers, rows=chunk.rows)
        writer.finish(progress.phase)
        event_record(
            kind="demo.generated",
            data={
                "customers": customers,
                "seed": seed,
                "as_of": as_of.isoformat(),
                "rows": counts,
            },
        )
    return DemoSummary(
        customers=customers,
        seed=seed,
        as_of=as_of,
        counts=counts,
        flushed=flushed,
        seconds=time.monotonic() - started,
    )


def _check_database(using: str, existing: int, flush: bool) -> None:
    """Refuse to mix the demo with other data or with the remains of an earlier demo."""
    if existing:
        demo = demo_customers(using).count()
        if flush or demo < existing:
            message = _(
                "The database holds %(count)s customers that the demo did not make. The demo "
                "company needs a database without customers: point GUANXI_DATABASE_URL at an "
                "empty database and run `guanxi migrate` there first."
            ) % {"count": existing - demo}
        else:
            message = _(
                "The database already has %(count)s customers. Run `guanxi demo --flush` to "
                "replace the demo company, or point GUANXI_DATABASE_URL at an empty database."
            ) % {"count": existing}
        raise GuanxiError(message, code=ErrorCode.CONFLICT)
    leftovers = (
        demo_users(using).exists()
        or Product.objects.using(using).filter(sku__startswith=DEMO_PREFIX).exists()
        or Team.objects.using(using).filter(name__in=vocab.TEAMS).exists()
        or Tag.objects.using(using).filter(name__in=[tag[0] for tag in vocab.TAGS]).exists()
    )
    if leftovers:
        raise GuanxiError(
            _(
                "The database still has demo staff, teams, tags or products from an earlier run. "
                "Run `guanxi demo --flush` to remove them first."
            ),
            code=ErrorCode.CONFLICT,
        )
    taken = list(
        get_user_model()
        ._default_manager.using(using)
        .filter(username__in=[m.username for m in vocab.STAFF])
        .values_list("username", flat=True)
    )
    if taken:
        raise GuanxiError(
            _(
                "The demo staff's user names are taken by other users: %(names)s. Use a fresh "
                "database for the demo."
            )
            % {"names": ", ".join(sorted(taken))},
            code=ErrorCode.CONFLICT,
        )


def _next_id(model: type[models.Model], using: str) -> int:
    return (model._base_manager.using(using).aggregate(top=Max("pk"))["top"] or 0) + 1


def _group_ids(using: str) -> dict[str, int]:
    groups = dict(Group.objects.using(using).filter(name__in=Role.values).values_list("name", "id"))
    missing = sorted(set(Role.values) - set(groups))
    if missing:
        raise GuanxiError(
            _("The role groups %(groups)s are missing; run `guanxi migrate` first.")
            % {"groups": ", ".join(missing)},
            code=ErrorCode.NOT_FOUND,
        )
    return groups


def _questionnaire(using: str) -> DemoQuestionnaire | None:
    """The active partnership questionnaire (items by position, bands), as the demo answers it.

    ``None`` when no version is active: then the demo records no assessments.
    """
    questionnaire = (
        Questionnaire.objects.using(using)
        .filter(code=DEFAULT_QUESTIONNAIRE_CODE, is_active=True)
        .first()
    )
    if questionnaire is None:
        return None
    items = list(questionnaire.items.using(using).order_by("position").values_list("id", flat=True))
    bands = list(
        ScoreBand.objects.using(using)
        .filter(questionnaire=questionnaire)
        .values_list("stage", "min_score", "max_score")
    )
    if not items or not bands:
        return None
    return DemoQuestionnaire.of(questionnaire.pk, items, bands)


class Prefetch:
    """Runs an iterator in a background thread, a couple of items ahead of the consumer.

    The simulation (numpy, Arrow) then overlaps with the database load; the items still arrive
    in order, so the result does not depend on timing.
    """

    _done = object()

    def __init__(self, items: Iterator[Any], ahead: int = 2) -> None:
        self._items = items
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="demo-generator", daemon=True)

    def __enter__(self) -> Iterator[Any]:
        self._thread.start()
        return self._consume()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get_nowait()  # unblock a producer waiting for room
            except queue.Empty:
                self._thread.join(timeout=0.05)

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
            self._put(self._done)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(_Failure(exc))

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _consume(self) -> Iterator[Any]:
        while True:
            item = self._queue.get()
            if item is self._done:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item


@dataclass(frozen=True)
class _Failure:
    error: BaseException
