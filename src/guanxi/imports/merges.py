"""Counting and writing validated staged rows into the real tables, as a few set-based statements.

Upserts are ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE SET … WHERE stored IS DISTINCT FROM
new``: a record whose values did not change is not rewritten (its ``updated_at`` stays), which is
what makes re-importing a file a no-op. Columns a file leaves out keep their stored values.
Orders and their lines, the large files, are written instead with a plain ``INSERT`` of the new
rows and an ``UPDATE`` of the changed ones, each only when the counts found some
(``insert_new``, ``update_changed``).
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError
from django.utils.translation import gettext as _

from guanxi.imports.checks import HEADS, ROWS, TAGS
from guanxi.imports.formats import ImportFileError
from guanxi.imports.rows import staged_columns
from guanxi.imports.schemas import EntitySchema, HeaderMap
from guanxi.imports.staging import Staging
from guanxi.parties.models import Contact, Customer, Tag
from guanxi.sales.models import Order, OrderLine, Product

TOUCHED = "gx_import_touched"
LINKS = "gx_import_links"
STALE = "gx_import_stale_lines"
LINE_DIFF = "gx_import_line_diff"

# Orders files: staged column → column of sales_order (order columns) or sales_orderline (lines).
ORDER_TARGETS = {
    "order_external_id": "external_id",
    "customer_external_id": "customer_id",
    "placed_at": "placed_at",
    "promised_delivery_on": "promised_delivery_on",
    "delivered_on": "delivered_on",
    "channel": "channel",
    "status": "status",
}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        data = {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}
        if self.deleted:
            data["deleted"] = self.deleted
        return data


@dataclass
class Target:
    """One table an import writes: where rows come from and how each column is computed.

    SQL expressions use ``s`` for the staged row, the aliases of ``joins`` for referenced records
    and ``t`` for the stored record with the same key (NULLs when there is none yet).
    """

    table: str
    source: str
    key: list[tuple[str, str]]  # (stored column, expression)
    values: list[tuple[str, str, bool]]  # (stored column, expression, written on update)
    joins: list[str] = field(default_factory=list)
    timestamps: bool = True


class Merge:
    """Counts and writes for entities stored in one table; subclasses add children."""

    def __init__(self, st: Staging, schema: EntitySchema, header: HeaderMap):
        self.st = st
        self.schema = schema
        self.header = header
        self.q = st.q

    def targets(self) -> dict[str, str]:
        """Staged column → stored column, for the rules that read stored values."""
        meta = self.schema.model._meta
        return {
            c.name: meta.get_field(c.target).column for c in staged_columns(self.schema) if c.target
        }

    def prepare(self) -> None:
        """Work on the staged rows before the checks run (indexes, derived tables)."""
        self.st.index(ROWS, self.schema.key[0])
        self.st.analyze(ROWS)

    def main_target(self) -> Target:
        q, meta = self.q, self.schema.model._meta
        joins, values, key = [], [], []
        for column in staged_columns(self.schema):
            if not column.target:
                continue
            stored = meta.get_field(column.target).column
            if column.reference is not None:
                model = column.reference.model()
                alias = f"r_{column.name}"
                joins.append(
                    f"LEFT JOIN {q(model._meta.db_table)} {alias} "
                    f"ON {alias}.{q(column.reference.lookup)} = s.{q(column.name)}"
                )
                expression = f"{alias}.{q(model._meta.pk.column)}"
            else:
                expression = f"s.{q(column.name)}"
            if column.name in self.schema.key:
                key.append((stored, expression))
            else:
                values.append((stored, expression, self.header.present(column.name)))
        return Target(meta.db_table, ROWS, key, values, joins)

    def child_changes(self) -> str | None:
        """SQL selecting ``id`` of stored records whose children the import changes."""
        return None

    def counts(self) -> dict[str, Counts]:
        changes = self.child_changes()
        if changes is not None:
            self.st.create_as(TOUCHED, changes)
        return {self.schema.name: self.target_counts(self.main_target(), touched=bool(changes))}

    def write(self, now: dt.datetime) -> None:
        self.touch(self.schema.model._meta.db_table, now)
        self.upsert(self.main_target(), now)

    # -- shared SQL ---------------------------------------------------------------------------

    def _from(self, target: Target) -> str:
        q = self.q
        on = " AND ".join(f"t.{q(c)} = {e}" for c, e in target.key)
        joins = " ".join(target.joins)
        return f"FROM {q(target.source)} s {joins} LEFT JOIN {q(target.table)} t ON {on}"

    def _changed(self, target: Target, *, touched: bool) -> str:
        q, st = self.q, self.st
        parts = [f"t.{q(c)} {st.distinct} {e}" for c, e, present in target.values if present]
        if touched:
            parts.append(f"t.id IN (SELECT id FROM {q(TOUCHED)})")
        return " OR ".join(parts) or "1 = 0"

    def target_counts(self, target: Target, *, touched: bool = False) -> Counts:
        changed = self._changed(target, touched=touched)
        total, created, updated = self.st.fetchall(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN t.id IS NULL THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN t.id IS NOT NULL AND ({changed}) THEN 1 ELSE 0 END), 0) "
            f"{self._from(target)}"
        )[0]
        return Counts(int(created), int(updated), int(total - created - updated))

    def upsert(self, target: Target, now: dt.datetime) -> None:
        q, st = self.q, self.st
        columns = [c for c, _ in target.key] + [c for c, _, _ in target.values]
        expressions = [e for _, e in target.key] + [e for _, e, _ in target.values]
        written = [c for c, _, present in target.values if present]
        params: list[Any] = []
        if target.timestamps:
            columns += ["created_at", "updated_at"]
            expressions += ["%s", "%s"]
            params += [now, now]
        table = q(target.table)
        sets = [f"{q(c)} = EXCLUDED.{q(c)}" for c in written]
        if target.timestamps:
            sets.append("updated_at = EXCLUDED.updated_at")
        differs = " OR ".join(f"{table}.{q(c)} {st.distinct} EXCLUDED.{q(c)}" for c in written)
        conflict = f"DO UPDATE SET {', '.join(sets)} WHERE {differs}" if written else "DO NOTHING"
        st.execute(
            f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) "
            # Only new and changed rows, in file order (so new records' ids follow the file).
            f"SELECT {', '.join(expressions)} {self._from(target)} "
            f"WHERE t.id IS NULL OR {self._changed(target, touched=False)} ORDER BY s.row_no "
            f"ON CONFLICT ({', '.join(q(c) for c, _ in target.key)}) {conflict}",
            params,
        )

    def insert_new(self, target: Target, now: dt.datetime) -> None:
        """Plain ``INSERT`` of the rows with no stored record, in file order (so new records'
        ids follow the file). Cheaper than ``upsert`` on large files: PostgreSQL's speculative
        insertion for ``ON CONFLICT`` costs about a third more per row. A record with the same
        key saved by another transaction meanwhile makes it fail (``ConcurrentChange``)."""
        q, st = self.q, self.st
        columns = [c for c, _ in target.key] + [c for c, _, _ in target.values]
        expressions = [e for _, e in target.key] + [e for _, e, _ in target.values]
        params: list[Any] = []
        if target.timestamps:
            columns += ["created_at", "updated_at"]
            expressions += ["%s", "%s"]
            params += [now, now]
        with _concurrent_change():
            st.execute(
                f"INSERT INTO {q(target.table)} ({', '.join(q(c) for c in columns)}) "
                f"SELECT {', '.join(expressions)} {self._from(target)} "
                "WHERE t.id IS NULL ORDER BY s.row_no",
                params,
            )

    def update_changed(self, target: Target, now: dt.datetime) -> None:
        """``UPDATE`` the stored records whose values differ from the file's."""
        q, st = self.q, self.st
        written = [(c, e) for c, e, present in target.values if present]
        if not written:
            return
        table = q(target.table)
        sets = [f"{q(c)} = u.{q(c)}" for c, _ in written]
        params: list[Any] = []
        if target.timestamps:
            sets.append("updated_at = %s")
            params.append(now)
        values = ", ".join(f"{e} AS {q(c)}" for c, e in written)
        st.execute(
            f"UPDATE {table} SET {', '.join(sets)} FROM (SELECT t.id AS target_id, {values} "
            f"{self._from(target)} WHERE t.id IS NOT NULL AND "
            f"({self._changed(target, touched=False)})) u WHERE {table}.id = u.target_id",
            params,
        )

    def touch(self, table: str, now: dt.datetime) -> None:
        """Records whose children change count as updated, though their own columns do not."""
        if TOUCHED in self.st.tables:
            self.st.execute(
                f"UPDATE {self.q(table)} SET updated_at = %s "
                f"WHERE id IN (SELECT id FROM {self.q(TOUCHED)})",
                [now],
            )


class ContactMerge(Merge):
    def write(self, now: dt.datetime) -> None:
        if self.header.present("is_primary"):
            # One primary contact per customer is a unique index, checked row by row: demote
            # first, so a file that moves "primary" from one contact to another never has two.
            q = self.q
            self.st.execute(
                f"UPDATE {q(Contact._meta.db_table)} SET is_primary = %s, updated_at = %s "
                f"WHERE is_primary = %s AND external_id IN "
                f"(SELECT external_id FROM {q(ROWS)} WHERE is_primary = %s)",
                [False, now, True, False],
            )
        super().write(now)


class CustomerMerge(Merge):
    """Customers and their tags: a file with a tags column sets each customer's tags exactly."""

    def _through(self) -> str:
        return self.q(Customer.tags.through._meta.db_table)

    def child_changes(self) -> str | None:
        if not self.header.present("tags"):
            return None
        q, through, tags = self.q, self._through(), self.q(Tag._meta.db_table)
        return (
            f"SELECT DISTINCT c.id AS id FROM {q(ROWS)} s "
            f"JOIN {q(Customer._meta.db_table)} c ON c.external_id = s.external_id WHERE "
            f"EXISTS (SELECT 1 FROM {q(TAGS)} g WHERE g.external_id = s.external_id AND NOT EXISTS "
            f"(SELECT 1 FROM {through} x JOIN {tags} tg ON tg.id = x.tag_id "
            "WHERE x.customer_id = c.id AND tg.name = g.tag)) "
            f"OR EXISTS (SELECT 1 FROM {through} x JOIN {tags} tg ON tg.id = x.tag_id "
            f"WHERE x.customer_id = c.id AND NOT EXISTS (SELECT 1 FROM {q(TAGS)} g "
            "WHERE g.external_id = s.external_id AND g.tag = tg.name))"
        )

    def write(self, now: dt.datetime) -> None:
        super().write(now)
        if not self.header.present("tags"):
            return
        q, st, through = self.q, self.st, self._through()
        tags, customers = q(Tag._meta.db_table), q(Customer._meta.db_table)
        st.execute(
            f"INSERT INTO {tags} (name) SELECT DISTINCT tag FROM {q(TAGS)} WHERE 1 = 1 "
            "ON CONFLICT (name) DO NOTHING"
        )
        st.create_as(
            LINKS,
            f"SELECT DISTINCT c.id AS customer_id, tg.id AS tag_id FROM {q(TAGS)} g "
            f"JOIN {customers} c ON c.external_id = g.external_id "
            f"JOIN {tags} tg ON tg.name = g.tag",
        )
        st.execute(
            f"DELETE FROM {through} WHERE customer_id IN (SELECT c.id FROM {q(ROWS)} s "
            f"JOIN {customers} c ON c.external_id = s.external_id) AND NOT EXISTS "
            f"(SELECT 1 FROM {q(LINKS)} k WHERE k.customer_id = {through}.customer_id "
            f"AND k.tag_id = {through}.tag_id)"
        )
        st.execute(
            f"INSERT INTO {through} (customer_id, tag_id) SELECT k.customer_id, k.tag_id "
            f"FROM {q(LINKS)} k WHERE NOT EXISTS (SELECT 1 FROM {through} x "
            "WHERE x.customer_id = k.customer_id AND x.tag_id = k.tag_id)"
        )


class OrderMerge(Merge):
    """Orders and their lines. The file is the truth for the orders it contains: lines are
    upserted by (order, line_no) and stored lines the file does not list are deleted."""

    def targets(self) -> dict[str, str]:
        return dict(ORDER_TARGETS)

    def prepare(self) -> None:
        st, q = self.st, self.q
        if not st.postgres:
            # SQLite joins through indexes (it has no hash join); PostgreSQL hashes the staged
            # rows in every query here, so building this index would only cost time.
            st.index(ROWS, "order_external_id", "line_no")
        # An empty line_no is the line's position among its order's lines in the file.
        if st.fetchall(f"SELECT 1 FROM {q(ROWS)} WHERE line_no IS NULL AND row_ok LIMIT 1"):
            st.execute(
                f"UPDATE {q(ROWS)} SET line_no = n.position FROM (SELECT row_no, ROW_NUMBER() "
                f"OVER (PARTITION BY order_external_id ORDER BY row_no) AS position "
                f"FROM {q(ROWS)}) n WHERE {q(ROWS)}.row_no = n.row_no "
                f"AND {q(ROWS)}.line_no IS NULL AND {q(ROWS)}.row_ok"
            )
        st.analyze(ROWS)
        if st.postgres:
            # One sort instead of a grouping joined back to the rows: about twice as fast.
            heads = (
                f"SELECT DISTINCT ON (order_external_id) * FROM {q(ROWS)} "
                "WHERE order_external_id IS NOT NULL ORDER BY order_external_id, row_no"
            )
        else:
            heads = (
                f"SELECT * FROM {q(ROWS)} WHERE row_no IN (SELECT MIN(row_no) FROM {q(ROWS)} "
                "WHERE order_external_id IS NOT NULL GROUP BY order_external_id)"
            )
        st.create_as(HEADS, heads)
        st.index(HEADS, "order_external_id")
        st.analyze(HEADS)

    def order_target(self) -> Target:
        q = self.q
        values = [
            (stored, f"s.{q(name)}", self.header.present(name))
            for name, stored in ORDER_TARGETS.items()
            if name not in ("order_external_id", "customer_external_id")
        ]
        values.insert(0, ("customer_id", "c.id", True))
        return Target(
            Order._meta.db_table,
            HEADS,
            key=[("external_id", "s.order_external_id")],
            values=values,
            joins=[
                f"LEFT JOIN {q(Customer._meta.db_table)} c "
                "ON c.external_id = s.customer_external_id"
            ],
        )

    def line_target(self) -> Target:
        q = self.q
        # An empty price or cost keeps the stored line's (for the same product), else the
        # product's current one — so re-importing a file never reprices old lines.
        keep = "CASE WHEN t.product_id = p.id THEN t.{0} END"
        price = f"COALESCE(s.unit_price, {keep.format('unit_price_cents')}, p.unit_price_cents)"
        cost = f"COALESCE(s.unit_cost, {keep.format('unit_cost_cents')}, p.unit_cost_cents)"
        return Target(
            OrderLine._meta.db_table,
            ROWS,
            key=[("order_id", "o.id"), ("line_no", "s.line_no")],
            values=[
                ("product_id", "p.id", True),
                ("quantity", "s.quantity", True),
                ("unit_price_cents", price, True),
                ("unit_cost_cents", cost, True),
            ],
            joins=[
                f"LEFT JOIN {q(Order._meta.db_table)} o ON o.external_id = s.order_external_id",
                f"LEFT JOIN {q(Product._meta.db_table)} p ON p.sku = s.sku",
            ],
            timestamps=False,
        )

    def _stale_lines(self) -> str:
        """SQL selecting stored lines of the file's orders that the file does not list."""
        q = self.q
        lines = q(OrderLine._meta.db_table)
        if self.st.postgres:
            # The lines of the orders LINE_DIFF matched that none of its rows matched: two hash
            # anti-joins on integers, twice as fast as matching external ids and line numbers.
            return (
                f"SELECT l.id, l.order_id FROM {lines} l WHERE l.order_id IN "
                f"(SELECT order_id FROM {q(LINE_DIFF)} WHERE order_id IS NOT NULL) "
                f"AND NOT EXISTS (SELECT 1 FROM {q(LINE_DIFF)} d WHERE d.line_id = l.id)"
            )
        # SQLite has no hash joins: this one goes through the index on the staged rows.
        return (
            f"SELECT l.id, l.order_id FROM {lines} l "
            f"JOIN {q(Order._meta.db_table)} o ON o.id = l.order_id "
            f"JOIN {q(HEADS)} h ON h.order_external_id = o.external_id "
            f"WHERE NOT EXISTS (SELECT 1 FROM {q(ROWS)} s WHERE "
            "s.order_external_id = o.external_id AND s.line_no = l.line_no)"
        )

    def counts(self) -> dict[str, Counts]:
        # Each set is computed once over the staged lines and used by the counts and the writes.
        st, q = self.st, self.q
        lines = self.line_target()
        # Each staged line with the stored line it matches and the values it will have, so that
        # the counts and the writes share this one join.
        values = ", ".join(f"{e} AS {q(c)}" for c, e, _ in lines.values)
        st.create_as(
            LINE_DIFF,
            "SELECT s.row_no AS row_no, s.order_external_id AS order_external_id, "
            f"s.line_no AS line_no, o.id AS order_id, t.id AS line_id, {values}, "
            f"CASE WHEN t.id IS NOT NULL AND ({self._changed(lines, touched=False)}) "
            f"THEN 1 ELSE 0 END AS changed {self._from(lines)}",
        )
        st.create_as(STALE, self._stale_lines())
        st.create_as(
            TOUCHED,
            f"SELECT order_id AS id FROM {q(LINE_DIFF)} WHERE order_id IS NOT NULL "
            f"AND (line_id IS NULL OR changed = 1) UNION SELECT order_id AS id FROM {q(STALE)}",
        )
        orders = self.target_counts(self.order_target(), touched=True)
        total, created, updated = st.fetchall(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN line_id IS NULL THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(changed), 0) FROM {q(LINE_DIFF)}"
        )[0]
        (deleted,) = st.fetchall(f"SELECT COUNT(*) FROM {q(STALE)}")[0]
        self.line_counts = Counts(
            int(created), int(updated), int(total - created - updated), int(deleted)
        )
        self.order_counts = orders
        return {"orders": orders, "order_lines": self.line_counts}

    def write(self, now: dt.datetime) -> None:
        q, st = self.q, self.st
        orders, order_lines = q(Order._meta.db_table), q(OrderLine._meta.db_table)
        # Each statement only runs if the counts found rows for it: re-importing an unchanged
        # file then costs no write at all.
        self.touch(Order._meta.db_table, now)
        if self.order_counts.created:
            self.insert_new(self.order_target(), now)
        if self.order_counts.updated:
            self.update_changed(self.order_target(), now)
        if self.line_counts.deleted:
            st.execute(f"DELETE FROM {order_lines} WHERE id IN (SELECT id FROM {q(STALE)})")
        columns = [c for c, _, _ in self.line_target().values]
        if self.line_counts.created:
            # The new orders have ids now: the lines find them by external id.
            st.analyze(LINE_DIFF)
            with _concurrent_change():
                st.execute(
                    f"INSERT INTO {order_lines} (order_id, line_no, "
                    f"{', '.join(q(c) for c in columns)}) SELECT o.id, d.line_no, "
                    f"{', '.join(f'd.{q(c)}' for c in columns)} FROM {q(LINE_DIFF)} d "
                    f"JOIN {orders} o ON o.external_id = d.order_external_id "
                    "WHERE d.line_id IS NULL ORDER BY d.row_no"
                )
        if self.line_counts.updated:
            st.execute(
                f"UPDATE {order_lines} SET {', '.join(f'{q(c)} = d.{q(c)}' for c in columns)} "
                f"FROM {q(LINE_DIFF)} d WHERE {order_lines}.id = d.line_id AND d.changed = 1"
            )


class ConcurrentChange(ImportFileError):
    """Another transaction saved a record with a key this import is creating."""


@contextmanager
def _concurrent_change() -> Iterator[None]:
    try:
        yield
    except IntegrityError as error:
        if not _is_unique_violation(error):
            raise
        raise ConcurrentChange(
            _(
                "Someone saved some of the same records while this file was being imported, so "
                "nothing was written. Import the file again."
            )
        ) from error


def _is_unique_violation(error: IntegrityError) -> bool:
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == "23505":  # psycopg: unique_violation
        return True
    return "UNIQUE constraint failed" in str(error)  # SQLite


MERGES: dict[str, type[Merge]] = {
    "customers": CustomerMerge,
    "contacts": ContactMerge,
    "orders": OrderMerge,
}


def merge_for(st: Staging, schema: EntitySchema, header: HeaderMap) -> Merge:
    return MERGES.get(schema.name, Merge)(st, schema, header)
