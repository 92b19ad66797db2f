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


def _purchases_sql() -> str:
    statuses = ", ".join(f"'{s}'" for s in PURCHASE_STATUSES)  # fixed enum values, not input
    return (
        f"SELECT o.customer_id, {_epoch_sql('o.placed_at')} AS epoch_s, "
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
    raw = _fetch(_purchases_sql(), [cutoff], _RAW_SCHEMA)
    return pa.table(
        [
            raw.column("customer_id"),
            _local_dates(raw.column("epoch_s")),
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


def _fetch(query: str, params: list, schema: pa.Schema) -> pa.Table:
    """Run ``query`` (``%s`` placeholders) and return its rows as an Arrow table of ``schema``.

    PostgreSQL streams ``COPY (query) TO STDOUT`` as CSV into Arrow's parser; other databases are
    read through the cursor in chunks. Datetime parameters are converted as the ORM would.
    """
    if connection.vendor == "postgresql":
        return _fetch_copy(query, params, schema)
    adapted = [
        connection.ops.adapt_datetimefield_value(p)
        if isinstance(p, dt.datetime)
        else (p.isoformat() if isinstance(p, dt.date) else p)
        for p in params
    ]
    batches = []
    with connection.cursor() as cursor:
        cursor.execute(query, adapted)
        while rows := cursor.fetchmany(_CHUNK):
            columns = list(zip(*rows, strict=True))
            arrays = []
            for column, field in zip(columns, schema, strict=True):
                try:
                    arrays.append(pa.array(column, field.type))
                except pa.ArrowTypeError:  # dates that came back as ISO strings
                    arrays.append(pa.array(column, pa.string()).cast(field.type))
            batches.append(pa.record_batch(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def _fetch_copy(query: str, params: list, schema: pa.Schema) -> pa.Table:
    from psycopg import sql

    parts = query.split("%s")
    if len(parts) - 1 != len(params):
        raise ValueError("the query's placeholders and the parameters differ in number")
    composed = sql.SQL("COPY (")
    for i, part in enumerate(parts):
        composed += sql.SQL(part)
        if i < len(params):
            composed += sql.Literal(params[i])
    composed += sql.SQL(") TO STDOUT WITH (FORMAT csv)")
    buffer = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(composed) as copy:
        for block in copy:
            buffer.write(block)
    if buffer.tell() == 0:
        return schema.empty_table()
    buffer.seek(0)
    return pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=schema.names),
        convert_options=pacsv.ConvertOptions(
            column_types=schema, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )


def _epoch_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"floor(extract(epoch from {column}))::bigint"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


def _local_dates(epoch_s: pa.ChunkedArray) -> pa.ChunkedArray:
    """Unix seconds → the calendar day in ``settings.TIME_ZONE`` (the business day)."""
    local = pc.local_timestamp(
        epoch_s.cast(pa.timestamp("s", tz="UTC")).cast(pa.timestamp("s", tz=settings.TIME_ZONE))
    )
    return local.cast(pa.date32())


CUSTOMERS_SCHEMA = pa.schema(
    [("customer_id", pa.int64()), ("customer_type", pa.string()), ("region", pa.string())]
)


def customers_extract() -> pa.Table:
    """Every customer with the attributes segments can be cut by, ordered by id."""
    return _fetch(
        "SELECT id, customer_type, region FROM parties_customer ORDER BY id", [], CUSTOMERS_SCHEMA
    )


def interactions_extract(*, since: dt.date, as_of: dt.date) -> pa.Table:
    """Interactions on the local days ``since`` … ``as_of``: customer, day, direction, purpose."""
    schema = pa.schema(
        [
            ("customer_id", pa.int64()),
            ("epoch_s", pa.int64()),
            ("direction", pa.string()),
            ("purpose", pa.string()),
        ]
    )
    raw = _fetch(
        f"SELECT customer_id, {_epoch_sql('occurred_at')}, direction, purpose "
        "FROM engagement_interaction WHERE occurred_at >= %s AND occurred_at < %s",
        [_end_of_day(since - dt.timedelta(days=1)), _end_of_day(as_of)],
        schema,
    )
    return pa.table(
        {
            "customer_id": raw.column("customer_id"),
            "ts": _local_dates(raw.column("epoch_s")),
            "direction": raw.column("direction"),
            "purpose": raw.column("purpose"),
        }
    )


ORDERS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("epoch_s", pa.int64()),
        ("status", pa.string()),
        ("promised", pa.date32()),
        ("delivered", pa.date32()),
    ]
)


def orders_extract(*, since: dt.date, as_of: dt.date) -> pa.Table:
    """Orders placed or delivered from ``since`` to ``as_of``, with their delivery dates."""
    raw = _fetch(
        f"SELECT customer_id, {_epoch_sql('placed_at')}, status, promised_delivery_on, "
        "delivered_on FROM sales_order WHERE placed_at < %s "
        "AND (placed_at >= %s OR delivered_on >= %s)",
        [_end_of_day(as_of), _end_of_day(since - dt.timedelta(days=1)), since],
        ORDERS_SCHEMA,
    )
    return pa.table(
        {
            "customer_id": raw.column("customer_id"),
            "placed": _local_dates(raw.column("epoch_s")),
            "status": raw.column("status"),
            "promised": raw.column("promised"),
            "delivered": raw.column("delivered"),
        }
    )


def complaints_extract(*, since: dt.date, as_of: dt.date) -> pa.Table:
    """Complaint cases due from ``since`` to the end of ``as_of``: due and resolution times."""
    schema = pa.schema(
        [("customer_id", pa.int64()), ("due_s", pa.int64()), ("resolved_s", pa.int64())]
    )
    return _fetch(
        f"SELECT customer_id, {_epoch_sql('due_at')}, {_epoch_sql('resolved_at')} "
        "FROM engagement_case WHERE kind = 'complaint' AND due_at >= %s AND due_at < %s",
        [_end_of_day(since - dt.timedelta(days=1)), _end_of_day(as_of)],
        schema,
    )


def bonds_extract(*, as_of: dt.date) -> pa.Table:
    """Bonds in force on ``as_of``, counted per customer and kind."""
    schema = pa.schema([("customer_id", pa.int64()), ("kind", pa.string()), ("n", pa.int64())])
    return _fetch(
        "SELECT customer_id, kind, COUNT(*) FROM hierarchy_bond "
        "WHERE started_on <= %s AND (ended_on IS NULL OR ended_on >= %s) "
        "GROUP BY customer_id, kind",
        [as_of, as_of],
        schema,
    )


def end_of_day_epoch(as_of: dt.date) -> int:
    """Unix seconds of the first instant after ``as_of`` in the business time zone."""
    return int(_end_of_day(as_of).timestamp())


def customer_ids_extract() -> pa.Table:
    """Every customer's id, so customers without a purchase are scored as prospects."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM parties_customer ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
    return pa.table({"customer_id": pa.array(ids, pa.int64())})
