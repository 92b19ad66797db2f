"""Write a run's score table into ``CustomerScore`` in bulk (``COPY`` on PostgreSQL)."""

import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import connection

from guanxi.analytics.pipeline import SCORE_COLUMNS
from guanxi.scoring.models import CustomerScore

_TABLE = CustomerScore._meta.db_table
# The engine's customer_id is the store's Customer primary key.
_COLUMNS = ("run_id", "customer_id", *(c for c in SCORE_COLUMNS if c != "customer_id"))
_TEXT = ("rfm_segment", "abc_class", "lifecycle_stage", "lifecycle_reason")
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
    buffer = io.BytesIO()
    # Quoting every valid value lets COPY tell an empty string ("") from NULL (nothing).
    pacsv.write_csv(
        table,
        buffer,
        write_options=pacsv.WriteOptions(include_header=False, quoting_style="all_valid"),
    )
    columns = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
    statement = f"COPY {connection.ops.quote_name(_TABLE)} ({columns}) FROM STDIN WITH (FORMAT csv)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write(buffer.getbuffer())


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
