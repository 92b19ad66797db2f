"""Bulk writes of generated Arrow tables: binary ``COPY`` on PostgreSQL, ``executemany`` on SQLite.

Writing is split in two: ``encode`` turns a table into what the database takes (a binary COPY
stream, or row tuples) and touches no connection, so it can run in the generator's thread;
``load`` sends it, in the caller's thread and transaction. Rows keep their explicit ids, in the
order the generator produced them.

On PostgreSQL the large tables' foreign keys, unique constraints and secondary indexes are
dropped before the load and rebuilt after it, as the manual advises for populating a database
(remove indexes and foreign keys, raise ``maintenance_work_mem``, ``ANALYZE`` afterwards): one
sorted index build is far cheaper than millions of index insertions. DDL is transactional there,
so a failed load rolls the schema back with the data.
"""

import abc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.core.management.color import no_style
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext as _

from guanxi.core import pgcopy


class SchemaMismatch(RuntimeError):
    """The generated columns do not match the model's table (a model changed, the demo did not)."""


@dataclass(frozen=True)
class Encoded:
    """One table's rows, ready for ``BulkWriter.load``."""

    model: type[models.Model]
    columns: list[str]
    rows: int
    payload: Any


def columns_for(model: type[models.Model], table: pa.Table) -> list[str]:
    """The model's concrete columns, checked against the generated ones."""
    expected = [f.column for f in model._meta.concrete_fields]
    missing = set(expected) - set(table.column_names)
    extra = set(table.column_names) - set(expected)
    if missing or extra:
        raise SchemaMismatch(
            f"the demo generator's {model._meta.db_table} rows do not match the model: "
            f"missing {sorted(missing)}, unknown {sorted(extra)}; update guanxi.demo to the model"
        )
    return expected


class BulkWriter(abc.ABC):
    """Writes generated tables into one database, inside the caller's transaction."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.written: list[type[models.Model]] = []

    def prepare(  # noqa: B027 - an optional hook: nothing to prepare by default
        self, *, large: Iterable[type[models.Model]], small: Iterable[type[models.Model]]
    ) -> None:
        """Get ready to load into these models' tables, many rows into the ``large`` ones."""

    def encode(self, model: type[models.Model], table: pa.Table) -> Encoded:
        """Convert rows for loading; safe to call from another thread."""
        columns = columns_for(model, table)
        payload = self._encode(model._meta.db_table, columns, table) if table.num_rows else None
        return Encoded(model, columns, table.num_rows, payload)

    def load(self, encoded: Encoded) -> None:
        if encoded.model not in self.written:
            self.written.append(encoded.model)
        if encoded.rows:
            self._load(encoded)

    def write(self, model: type[models.Model], table: pa.Table) -> None:
        self.load(self.encode(model, table))

    def finish(self, phase: Callable[[str], None]) -> None:  # noqa: B027 - optional hook
        """Restore what ``prepare`` took away; ``phase`` names each step for progress output."""

    @abc.abstractmethod
    def _encode(self, db_table: str, columns: list[str], table: pa.Table) -> Any:
        """The rows of ``table`` in the form this database's bulk path loads fastest."""

    @abc.abstractmethod
    def _load(self, encoded: Encoded) -> None:
        """Write encoded rows (COPY on PostgreSQL, executemany on SQLite)."""

    def _statement(self, template: str, encoded: Encoded) -> str:
        qn = self.connection.ops.quote_name
        return template.format(
            table=qn(encoded.model._meta.db_table),
            columns=", ".join(qn(c) for c in encoded.columns),
            values=", ".join(["%s"] * len(encoded.columns)),
        )


def writer_for(connection: BaseDatabaseWrapper) -> BulkWriter:
    if connection.vendor == "postgresql":
        return PostgresWriter(connection)
    if connection.vendor == "sqlite":
        return SQLiteWriter(connection)
    raise ValueError(f"the demo writes to PostgreSQL and SQLite, not {connection.vendor}")


@dataclass(frozen=True)
class _SetAside:
    """Schema objects dropped for a load, with the statements that bring them back."""

    drop: list[str]
    create_indexes: list[str]
    add_constraints: list[str]


class PostgresWriter(BulkWriter):
    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        super().__init__(connection)
        self._types: dict[str, dict[str, str]] = {}
        self._set_aside = _SetAside([], [], [])

    def prepare(
        self, *, large: Iterable[type[models.Model]], small: Iterable[type[models.Model]]
    ) -> None:
        large = list(large)
        tables = [m._meta.db_table for m in large]
        with self.connection.cursor() as cursor:
            for db_table in tables + [m._meta.db_table for m in small]:
                cursor.execute(
                    """
                    SELECT a.attname, t.typname FROM pg_attribute a
                    JOIN pg_type t ON t.oid = a.atttypid
                    WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
                    """,
                    [db_table],
                )
                self._types[db_table] = dict(cursor.fetchall())
            # Check pending deferred constraints now: a table with pending checks cannot be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            # Foreign keys, and unique constraints no foreign key relies on (unique ones first).
            cursor.execute(
                """
                SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
                FROM pg_constraint c
                WHERE c.conrelid = ANY(%s::regclass[])
                  AND (c.contype = 'f' OR (c.contype = 'u' AND NOT EXISTS (
                      SELECT 1 FROM pg_constraint fk
                      WHERE fk.contype = 'f' AND fk.conindid = c.conindid)))
                ORDER BY c.contype DESC, 1, 2
                """,
                [tables],
            )
            constraints = cursor.fetchall()
            # Indexes that back no constraint (the primary keys stay).
            cursor.execute(
                """
                SELECT i.relname, pg_get_indexdef(i.oid)
                FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
                ORDER BY 1
                """,
                [tables],
            )
            indexes = cursor.fetchall()
            qn = self.connection.ops.quote_name
            self._set_aside = _SetAside(
                drop=[
                    f"ALTER TABLE {qn(t)} DROP CONSTRAINT {qn(n)}" for t, n, _ in constraints[::-1]
                ]
                + [f"DROP INDEX {qn(name)}" for name, _ in indexes],
                create_indexes=[definition for _, definition in indexes],
                add_constraints=[
                    f"ALTER TABLE {qn(t)} ADD CONSTRAINT {qn(n)} {d}" for t, n, d in constraints
                ],
            )
            for statement in self._set_aside.drop:
                cursor.execute(statement)

    def _encode(self, db_table: str, columns: list[str], table: pa.Table) -> memoryview:
        types = self._types[db_table]
        return pgcopy.encode([(types[c], table.column(c)) for c in columns])

    def _load(self, encoded: Encoded) -> None:
        statement = self._statement("COPY {table} ({columns}) FROM STDIN (FORMAT binary)", encoded)
        with self.connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            copy.write(encoded.payload)

    def finish(self, phase: Callable[[str], None]) -> None:
        with self.connection.cursor() as cursor:
            if self._set_aside.create_indexes:
                phase(_("Rebuilding indexes"))
            for statement in self._set_aside.create_indexes:
                cursor.execute(statement)
            if self._set_aside.add_constraints:
                phase(_("Checking constraints"))
            for statement in self._set_aside.add_constraints:
                cursor.execute(statement)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            phase(_("Resetting sequences and statistics"))
            for statement in self.connection.ops.sequence_reset_sql(no_style(), self.written):
                cursor.execute(statement)
            qn = self.connection.ops.quote_name
            for model in self.written:
                cursor.execute(f"ANALYZE {qn(model._meta.db_table)}")
        self._set_aside = _SetAside([], [], [])


class SQLiteWriter(BulkWriter):
    """``executemany`` in the caller's transaction; AUTOINCREMENT follows explicit ids itself."""

    def _encode(self, db_table: str, columns: list[str], table: pa.Table) -> list[tuple]:
        return list(zip(*(_sqlite_values(table.column(c)) for c in columns), strict=True))

    def _load(self, encoded: Encoded) -> None:
        statement = self._statement("INSERT INTO {table} ({columns}) VALUES ({values})", encoded)
        with self.connection.cursor() as cursor:
            cursor.executemany(statement, encoded.payload)


def _sqlite_values(column: pa.ChunkedArray) -> list:
    """Python values as Django's SQLite backend stores them: UTC text times, 0/1 booleans."""
    kind = column.type
    if pa.types.is_timestamp(kind):
        column = pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
    elif pa.types.is_date32(kind):
        column = pc.strftime(column, format="%Y-%m-%d")
    elif pa.types.is_boolean(kind):
        column = column.cast(pa.int8())
    return column.to_pylist()
