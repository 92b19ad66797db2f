"""Write a run's score table into ``CustomerScore`` in bulk (``COPY`` on PostgreSQL), and record
what changed since the previous run in ``ScoreChange`` with one set-based statement."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, models

from guanxi.analytics.pipeline import SCORE_COLUMNS
from guanxi.core import pgcopy
from guanxi.scoring.choices import Measure, RunStatus
from guanxi.scoring.models import CustomerScore, ScoreChange, ScoringRun
from guanxi.scoring.standing import HIERARCHY_COLUMNS

_TABLE = CustomerScore._meta.db_table
# The engine's customer_id is the store's Customer primary key.
_COLUMNS = (
    "run_id",
    "customer_id",
    *(c for c in SCORE_COLUMNS if c != "customer_id"),
    *HIERARCHY_COLUMNS,
)
_TEXT = tuple(
    f.column
    for f in CustomerScore._meta.fields
    if f.get_internal_type() == "CharField" and f.column in _COLUMNS
)
_BATCH = 5_000


def _prepared(table: pa.Table, run_id: int) -> pa.Table:
    """Columns in storage order; NaN and infinities become NULL, missing text becomes ''."""
    columns = {"run_id": pa.array(np.full(table.num_rows, run_id, dtype=np.int64))}
    for name in _COLUMNS[1:]:
        column = table.column(name)
        if pa.types.is_floating(column.type):
            column = pc.if_else(pc.is_finite(column), column, pa.scalar(None, column.type))
        elif name in _TEXT:
            column = pc.fill_null(column, "")
        columns[name] = column
    return pa.table(columns)


def scores_store(*, run_id: int, table: pa.Table) -> int:
    """Insert every row of ``table`` for ``run_id``; call inside the run's transaction."""
    prepared = _prepared(table, run_id)
    if connection.vendor == "postgresql":
        _copy(prepared)
    else:
        _executemany(prepared)
    return prepared.num_rows


def _copy(table: pa.Table) -> None:
    """Binary ``COPY``: no text to format here or to parse in the server."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            [_TABLE],
        )
        types = dict(cursor.fetchall())
        payload = pgcopy.encode([(types[c], table.column(c)) for c in _COLUMNS])
        columns = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
        statement = (
            f"COPY {connection.ops.quote_name(_TABLE)} ({columns}) FROM STDIN WITH (FORMAT binary)"
        )
        with cursor.cursor.copy(statement) as copy:
            copy.write(payload)


def _executemany(table: pa.Table) -> None:
    columns = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    statement = (
        f"INSERT INTO {connection.ops.quote_name(_TABLE)} ({columns}) VALUES ({placeholders})"
    )
    with connection.cursor() as cursor:
        for batch in table.to_batches(max_chunksize=_BATCH):
            rows = zip(
                *(batch.column(i).to_pylist() for i in range(batch.num_columns)), strict=True
            )
            cursor.executemany(statement, list(rows))


def previous_run(run: ScoringRun) -> ScoringRun | None:
    """The successful run this one is compared with: the latest as of no later than it."""
    return (
        ScoringRun.objects.filter(status=RunStatus.SUCCEEDED, as_of__lte=run.as_of)
        .exclude(pk=run.pk)
        .order_by("-as_of", "-id")
        .first()
    )


def score_changes_record(run: ScoringRun) -> dict[str, int]:
    """Insert one ``ScoreChange`` per customer and measure that differs from the previous run.

    A customer new since that run is recorded with an empty ``from_value`` for each measure it
    has a value for. Returns the number
    of changes per measure (empty when there is no previous run).
    """
    previous = previous_run(run)
    if previous is None:
        return {}
    q = connection.ops.quote_name
    # One join of the two runs, unpivoted against the list of measures (rather than one join per
    # measure): a million customers are matched once.
    names = " UNION ALL ".join(f"SELECT '{m}' AS measure" for m in Measure.values)
    pick = {
        side: "CASE m.measure "
        + " ".join(f"WHEN '{m}' THEN {side}.{q(m)}" for m in Measure.values)
        + " END"
        for side in ("p", "c")
    }
    # Only customers with some change reach the unpivot (a day changes a few percent of them).
    differs = " OR ".join(
        ["p.customer_id IS NULL", *(f"p.{q(m)} <> c.{q(m)}" for m in Measure.values)]
    )
    statement = (
        f"INSERT INTO {q(ScoreChange._meta.db_table)} "
        "(run_id, previous_run_id, customer_id, measure, from_value, to_value) "
        "SELECT %s, %s, customer_id, measure, from_value, to_value FROM ("
        f"SELECT c.customer_id, m.measure, COALESCE({pick['p']}, '') AS from_value, "
        f"{pick['c']} AS to_value "
        f"FROM {q(_TABLE)} c LEFT JOIN {q(_TABLE)} p "
        "ON p.customer_id = c.customer_id AND p.run_id = %s "
        f"CROSS JOIN ({names}) m WHERE c.run_id = %s AND ({differs})"
        ") changed WHERE from_value <> to_value"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The planner must know the new run has a million rows, or it probes them one by one.
            cursor.execute(f"ANALYZE {q(_TABLE)}")
        cursor.execute(statement, [run.pk, previous.pk, previous.pk, run.pk])
    counts = dict.fromkeys(Measure.values, 0)
    rows = (
        ScoreChange.objects.filter(run=run)
        .values_list("measure")
        .annotate(n=models.Count("id"))
        .order_by()
    )
    counts.update(dict(rows))
    return {"previous_run": previous.pk, **counts}
