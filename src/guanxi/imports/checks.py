"""Checks that need more than one row or the database, run as SQL over the staged rows.

Each check is one query over the whole file (never one per row): duplicate keys, unknown
references, order columns that differ between the lines of one order, rules on the values a row
will end up with, and the relationship rules of contacts, interactions and cases.
"""

from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from guanxi.imports.formats import render_text
from guanxi.imports.rows import RowError, staged_columns
from guanxi.imports.schemas import Column, EntitySchema, HeaderMap
from guanxi.imports.staging import Staging
from guanxi.parties.choices import CONTACT_CUSTOMER_TYPES, CustomerType
from guanxi.parties.models import Contact, Customer
from guanxi.sales.models import Order

ROWS = "gx_import_rows"
HEADS = "gx_import_heads"  # orders: the first line of each order, which carries its columns
TAGS = "gx_import_tags"


def effective(st: Staging, column: Column, header: HeaderMap, target_column: str) -> str:
    """SQL for the value a row will have: the file's, or the stored one for a column the file
    leaves out (``s`` is the staged row, ``t`` the stored record or NULLs for a new one)."""
    if header.present(column.name):
        return f"s.{st.q(column.name)}"
    return f"CASE WHEN t.id IS NULL THEN s.{st.q(column.name)} ELSE t.{st.q(target_column)} END"


class Checker:
    """Runs the set-based checks of one import and collects up to ``limit`` errors per check."""

    def __init__(
        self,
        st: Staging,
        schema: EntitySchema,
        header: HeaderMap,
        *,
        limit: int,
        tz: ZoneInfo,
        targets: dict[str, str],
    ):
        self.st = st
        self.schema = schema
        self.header = header
        self.limit = limit
        self.tz = tz
        self.targets = targets  # staged column → column of the stored record, for rules
        self.errors: list[RowError] = []
        self.total = 0
        self.q = st.q

    def run(self) -> None:
        schema = self.schema
        orders = schema.name == "orders"
        self.duplicates()
        for column in staged_columns(schema):
            if column.reference is not None:
                self.unknown(HEADS if orders and column.order_level else ROWS, column)
        if orders:
            self.order_columns_agree()
        self.rules(HEADS if orders else ROWS)
        extra = getattr(self, f"check_{schema.name}", None)
        if extra is not None:
            extra()

    def _report(
        self,
        sql: str,
        params: Sequence[Any],
        column: str,
        message: Callable[[tuple[Any, ...]], str] | str,
        value_index: int = 1,
    ) -> None:
        rows, total = self.st.fetch_limited(sql, params, limit=self.limit)
        self.total += total
        for row in rows:
            value = row[value_index]
            self.errors.append(
                RowError(
                    row[0],
                    self.header.header(column),
                    "" if value is None else str(value),
                    message(row) if callable(message) else str(message),
                )
            )

    def duplicates(self) -> None:
        q, key = self.q, self.schema.key
        on = " AND ".join(f"f.{q(k)} = s.{q(k)}" for k in key)
        not_null = " AND ".join(f"{q(k)} IS NOT NULL" for k in key)
        cols = ", ".join(q(k) for k in key)
        sql = (
            f"SELECT s.row_no AS row_no, {', '.join(f's.{q(k)}' for k in key)}, f.first_row "
            f"FROM {q(ROWS)} s JOIN (SELECT {cols}, MIN(row_no) AS first_row FROM {q(ROWS)} "
            f"WHERE {not_null} GROUP BY {cols} HAVING COUNT(*) > 1) f ON {on} "
            "WHERE s.row_no > f.first_row"
        )
        if len(key) == 1:
            self._report(
                sql,
                (),
                key[0],
                lambda r: (
                    _(
                        "'%(value)s' is already on row %(first)s. Each record appears once in a "
                        "file; merge the two rows or give this one its own id."
                    )
                    % {"value": r[1], "first": r[2]}
                ),
            )
        else:
            self._report(
                sql,
                (),
                key[1],
                lambda r: (
                    _(
                        "Order '%(order)s' already has line %(line)s on row %(first)s. Give each "
                        "line of an order its own line_no, or leave line_no empty to number lines "
                        "in file order."
                    )
                    % {"order": r[1], "line": r[2], "first": r[3]}
                ),
                value_index=2,
            )

    def unknown(self, table: str, column: Column) -> None:
        q, ref = self.q, column.reference
        model = ref.model()
        sql = (
            f"SELECT s.row_no AS row_no, s.{q(column.name)} FROM {q(table)} s "
            f"LEFT JOIN {q(model._meta.db_table)} r ON r.{q(ref.lookup)} = s.{q(column.name)} "
            f"WHERE s.{q(column.name)} IS NOT NULL AND r.{q(model._meta.pk.column)} IS NULL"
        )
        self._report(sql, (), column.name, lambda r: str(ref.message) % {"value": r[1]})

    def order_columns_agree(self) -> None:
        """Every line of an order repeats the order's columns; report lines that differ from the
        order's first line."""
        q, st = self.q, self.st
        columns = [
            c for c in self.schema.columns if c.order_level and c.name != "order_external_id"
        ]
        # A cell that failed to parse is staged as NULL: leave it out rather than report it twice.
        differ = " OR ".join(
            f"(s.{c} {st.distinct} h.{c} AND (s.{c} IS NOT NULL OR s.row_ok) "
            f"AND (h.{c} IS NOT NULL OR h.row_ok))"
            for c in (q(c.name) for c in columns)
        )
        picks = ", ".join(f"s.{q(c.name)}, h.{q(c.name)}" for c in columns)
        sql = (
            f"SELECT s.row_no AS row_no, s.order_external_id, h.row_no AS first_row, "
            f"s.row_ok, h.row_ok, {picks} "
            f"FROM {q(ROWS)} s JOIN {q(HEADS)} h ON h.order_external_id = s.order_external_id "
            f"WHERE s.row_no <> h.row_no AND ({differ})"
        )
        rows, total = st.fetch_limited(sql, (), limit=self.limit)
        self.total += total
        for row in rows:
            row_ok, first_ok = row[3], row[4]
            for i, column in enumerate(columns):
                here, first = row[5 + 2 * i], row[6 + 2 * i]
                if (
                    here == first
                    or (here is None and not row_ok)
                    or (first is None and not first_ok)
                ):
                    continue
                self.errors.append(
                    RowError(
                        row[0],
                        self.header.header(column.name),
                        self._text(column.kind, here),
                        _(
                            "Every line of order '%(order)s' must repeat the order's columns; "
                            "its first line (row %(first)s) has '%(expected)s'."
                        )
                        % {
                            "order": row[1],
                            "first": row[2],
                            "expected": self._text(column.kind, first),
                        },
                    )
                )

    def _text(self, kind: str, value: Any) -> str:
        return render_text(kind, self.st.to_python(kind, value), self.tz)

    def rules(self, table: str) -> None:
        q = self.q
        target_table, target_key, source_key = self._target()
        for rule in self.schema.rules:
            names = {
                c.name: effective(self.st, c, self.header, self.targets[c.name])
                for c in self.schema.columns
                if "{" + c.name + "}" in rule.violated
            }
            condition = rule.violated.format(**names)
            reported = self.schema.column(rule.column)
            sql = (
                f"SELECT s.row_no AS row_no, {names[rule.column]} FROM {q(table)} s "
                f"LEFT JOIN {q(target_table)} t ON t.{q(target_key)} = s.{q(source_key)} "
                f"WHERE s.row_ok AND ({condition})"
            )
            rows, total = self.st.fetch_limited(sql, (), limit=self.limit)
            self.total += total
            for row in rows:
                self.errors.append(
                    RowError(
                        row[0],
                        self.header.header(rule.column),
                        self._text(reported.kind, row[1]),
                        str(rule.message),
                    )
                )

    def _target(self) -> tuple[str, str, str]:
        """(stored table, its key column, the staged column matched against it)."""
        if self.schema.name == "orders":
            return Order._meta.db_table, "external_id", "order_external_id"
        key = self.schema.key[0]
        field = self.schema.model._meta.get_field(self.schema.column(key).target)
        return self.schema.model._meta.db_table, field.column, key

    def check_customers(self) -> None:
        q = self.q
        sql = (
            f"SELECT s.row_no AS row_no, s.customer_type FROM {q(ROWS)} s "
            f"JOIN {q(Customer._meta.db_table)} t ON t.external_id = s.external_id "
            "WHERE s.customer_type NOT IN (%s, %s) AND EXISTS (SELECT 1 FROM "
            f"{q(Contact._meta.db_table)} c WHERE c.customer_id = t.id)"
        )
        message = _(
            "This customer has contact people, and only business and channel customers have "
            "them: keep the type business or channel, or move the contacts to another customer."
        )
        self._report(sql, CONTACT_CUSTOMER_TYPES, "customer_type", message)

    def check_contacts(self) -> None:
        q, st = self.q, self.st
        customers, contacts = q(Customer._meta.db_table), q(Contact._meta.db_table)
        sql = (
            f"SELECT s.row_no AS row_no, s.customer_external_id, c.customer_type FROM {q(ROWS)} s "
            f"JOIN {customers} c ON c.external_id = s.customer_external_id "
            "WHERE c.customer_type NOT IN (%s, %s)"
        )
        self._report(
            sql,
            CONTACT_CUSTOMER_TYPES,
            "customer_external_id",
            lambda r: (
                _(
                    "Contacts belong to business and channel customers; customer '%(customer)s' is "
                    "a %(type)s customer, who is their own contact."
                )
                % {"customer": r[1], "type": CustomerType(r[2]).label}
            ),
        )

        primary = effective(st, self.schema.column("is_primary"), self.header, "is_primary")
        primaries = (
            f"SELECT s.row_no, s.customer_external_id FROM {q(ROWS)} s "
            f"LEFT JOIN {contacts} t ON t.external_id = s.external_id "
            f"WHERE s.row_ok AND s.customer_external_id IS NOT NULL AND {primary} = %s"
        )
        sql = (
            f"SELECT p.row_no AS row_no, p.customer_external_id, f.first_row FROM ({primaries}) p "
            f"JOIN (SELECT customer_external_id, MIN(row_no) AS first_row FROM ({primaries}) p2 "
            "GROUP BY customer_external_id HAVING COUNT(*) > 1) f "
            "ON f.customer_external_id = p.customer_external_id WHERE p.row_no > f.first_row"
        )
        self._report(
            sql,
            (True, True),
            "is_primary",
            lambda r: (
                _(
                    "Customer '%(customer)s' already has a primary contact on row %(first)s; a "
                    "customer has one primary contact, so set is_primary to no on one of the rows."
                )
                % {"customer": r[1], "first": r[2]}
            ),
        )

        sql = (
            f"SELECT s.row_no AS row_no, s.customer_external_id, o.external_id FROM {q(ROWS)} s "
            f"LEFT JOIN {contacts} t ON t.external_id = s.external_id "
            f"JOIN {customers} c ON c.external_id = s.customer_external_id "
            f"JOIN {contacts} o ON o.customer_id = c.id AND o.is_primary = %s "
            f"WHERE s.row_ok AND {primary} = %s AND o.external_id NOT IN "
            f"(SELECT external_id FROM {q(ROWS)} WHERE external_id IS NOT NULL)"
        )
        self._report(
            sql,
            (True, True),
            "is_primary",
            lambda r: (
                _(
                    "Customer '%(customer)s' already has the primary contact '%(other)s'; add that "
                    "contact to the file with is_primary set to no, or set this row's is_primary "
                    "to no."
                )
                % {"customer": r[1], "other": r[2]}
            ),
        )

    def check_interactions(self) -> None:
        self._belongs_to_customer("contact_external_id", Contact)
        self._belongs_to_customer("order_external_id", Order)

    check_cases = check_interactions

    def _belongs_to_customer(self, column: str, model) -> None:
        q = self.q
        customers = q(Customer._meta.db_table)
        sql = (
            f"SELECT s.row_no AS row_no, s.{q(column)}, c.external_id, s.customer_external_id "
            f"FROM {q(ROWS)} s JOIN {customers} cu ON cu.external_id = s.customer_external_id "
            f"JOIN {q(model._meta.db_table)} x ON x.external_id = s.{q(column)} "
            f"JOIN {customers} c ON c.id = x.customer_id WHERE x.customer_id <> cu.id"
        )
        self._report(
            sql,
            (),
            column,
            lambda r: (
                _(
                    "'%(value)s' belongs to customer '%(owner)s', not to '%(customer)s'; correct "
                    "this cell or the customer."
                )
                % {"value": r[1], "owner": r[2], "customer": r[3]}
            ),
        )


def checks_run(
    st: Staging,
    schema: EntitySchema,
    header: HeaderMap,
    *,
    limit: int,
    tz: ZoneInfo,
    targets: dict[str, str],
) -> tuple[list[RowError], int]:
    """Every set-based error (up to ``limit`` per check) and how many there are in all."""
    checker = Checker(st, schema, header, limit=limit, tz=tz, targets=targets)
    checker.run()
    return checker.errors, checker.total
