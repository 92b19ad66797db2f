"""Counting and writing validated staged rows into the real tables, as a few set-based statements.

Upserts are ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE SET … WHERE stored IS DISTINCT FROM
new``: a record whose values did not change is not rewritten (its ``updated_at`` stays), which is
what makes re-importing a file a no-op. Columns a file leaves out keep their stored values.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from guanxi.imports.checks import HEADS, ROWS, TAGS
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
        st.create_as(
            HEADS,
            f"SELECT * FROM {q(ROWS)} WHERE row_no IN (SELECT MIN(row_no) FROM {q(ROWS)} "
            "WHERE order_external_id IS NOT NULL GROUP BY order_external_id)",
        )
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
        return (
            f"SELECT l.id, l.order_id FROM {q(OrderLine._meta.db_table)} l "
            f"JOIN {q(Order._meta.db_table)} o ON o.id = l.order_id "
            f"JOIN {q(HEADS)} h ON h.order_external_id = o.external_id "
            f"WHERE NOT EXISTS (SELECT 1 FROM {q(ROWS)} s WHERE "
            "s.order_external_id = o.external_id AND s.line_no = l.line_no)"
        )

    def counts(self) -> dict[str, Counts]:
        # Each set is computed once over the staged lines and used by the counts and the writes.
        st, q = self.st, self.q
        lines = self.line_target()
        st.create_as(STALE, self._stale_lines())
        st.create_as(
            LINE_DIFF,
            f"SELECT s.row_no AS row_no, o.id AS order_id, t.id AS line_id, CASE WHEN t.id IS "
            f"NOT NULL AND ({self._changed(lines, touched=False)}) THEN 1 ELSE 0 END AS changed "
            f"{self._from(lines)}",
        )
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
        return {
            "orders": orders,
            "order_lines": Counts(
                int(created), int(updated), int(total - created - updated), int(deleted)
            ),
        }

    def write(self, now: dt.datetime) -> None:
        q = self.q
        self.touch(Order._meta.db_table, now)
        self.upsert(self.order_target(), now)
        self.st.execute(
            f"DELETE FROM {q(OrderLine._meta.db_table)} WHERE id IN (SELECT id FROM {q(STALE)})"
        )
        self.upsert(self.line_target(), now)


MERGES: dict[str, type[Merge]] = {
    "customers": CustomerMerge,
    "contacts": ContactMerge,
    "orders": OrderMerge,
}


def merge_for(st: Staging, schema: EntitySchema, header: HeaderMap) -> Merge:
    return MERGES.get(schema.name, Merge)(st, schema, header)
