"""Extract purchases from the operational store into Arrow, the analytics engine's input.

No DuckDB scanner extensions (they download at run time, which fails offline): PostgreSQL streams a
``COPY … TO STDOUT`` that Arrow parses; SQLite is read through the Django cursor in large chunks.
Both go through Django's own connection, so they see the caller's transaction.
"""

import datetime as dt
import io
import zoneinfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.conf import settings
from django.db import connection

from guanxi.sales.choices import PURCHASE_STATUSES

TRANSACTIONS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("ts", pa.date32()),
        ("amount_cents", pa.int64()),
        ("profit_cents", pa.int64()),
    ]
)
_CHUNK = 200_000


def _epoch_seconds_sql() -> str:
    if connection.vendor == "postgresql":
        return "floor(extract(epoch from o.placed_at))::bigint"
    return "CAST(strftime('%%s', o.placed_at) AS INTEGER)"


def _purchases_sql() -> str:
    statuses = ", ".join(f"'{s}'" for s in PURCHASE_STATUSES)  # fixed enum values, not input
    return (
        f"SELECT o.customer_id, {_epoch_seconds_sql()} AS epoch_s, "
        "SUM(l.quantity * l.unit_price_cents) AS amount_cents, "
        "SUM(l.quantity * (l.unit_price_cents - l.unit_cost_cents)) AS profit_cents "
        "FROM sales_order o JOIN sales_orderline l ON l.order_id = o.id "
        f"WHERE o.status IN ({statuses}) AND o.placed_at < %s "
        "GROUP BY o.id, o.customer_id, o.placed_at"
    )


def _end_of_day(as_of: dt.date) -> dt.datetime:
    """The first instant after ``as_of`` in the business time zone."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=tz)


def transactions_extract(*, as_of: dt.date) -> pa.Table:
    """One row per purchase (order not cancelled or returned) placed up to the end of ``as_of``.

    ``ts`` is the order's date in ``settings.TIME_ZONE`` (the business day); amounts and profit are
    integer cents summed over the order's lines.
    """
    cutoff = _end_of_day(as_of)
    raw = _read_postgresql(cutoff) if connection.vendor == "postgresql" else _read_cursor(cutoff)
    local = pc.local_timestamp(
        raw.column("epoch_s")
        .cast(pa.timestamp("s", tz="UTC"))
        .cast(pa.timestamp("s", tz=settings.TIME_ZONE))
    )
    return pa.table(
        [
            raw.column("customer_id"),
            local.cast(pa.date32()),
            raw.column("amount_cents"),
            raw.column("profit_cents"),
        ],
        schema=TRANSACTIONS_SCHEMA,
    )


_RAW_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("epoch_s", pa.int64()),
        ("amount_cents", pa.int64()),
        ("profit_cents", pa.int64()),
    ]
)


def _read_postgresql(cutoff: dt.datetime) -> pa.Table:
    from psycopg import sql

    query = _purchases_sql().replace("%s", "{cutoff}")
    statement = sql.SQL("COPY (" + query + ") TO STDOUT WITH (FORMAT csv)").format(
        cutoff=sql.Literal(cutoff)
    )
    buffer = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for block in copy:
            buffer.write(block)
    if buffer.tell() == 0:
        return _RAW_SCHEMA.empty_table()
    buffer.seek(0)
    return pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=_RAW_SCHEMA.names),
        convert_options=pacsv.ConvertOptions(column_types=_RAW_SCHEMA),
    )


def _read_cursor(cutoff: dt.datetime) -> pa.Table:
    batches = []
    with connection.cursor() as cursor:
        # The ORM's own conversion: on SQLite, a UTC string comparable with the stored text.
        cursor.execute(_purchases_sql(), [connection.ops.adapt_datetimefield_value(cutoff)])
        while rows := cursor.fetchmany(_CHUNK):
            columns = list(zip(*rows, strict=True))
            batches.append(
                pa.record_batch([pa.array(col, pa.int64()) for col in columns], schema=_RAW_SCHEMA)
            )
    return pa.Table.from_batches(batches, schema=_RAW_SCHEMA)


def customer_ids_extract() -> pa.Table:
    """Every customer's id, so customers without a purchase are scored as prospects."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM parties_customer ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
    return pa.table({"customer_id": pa.array(ids, pa.int64())})
