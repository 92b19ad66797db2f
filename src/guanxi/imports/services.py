"""Import and export runs: the entry points the ``import`` and ``export`` commands call.

An import reads the file once: each row is parsed and validated and staged in a temporary table
in batches — a plain UTF-8 CSV file a block and a column at a time (``columnar``), any other
file row by row (``rows``), with the same values and errors either way; then set-based SQL
checks what needs the whole file or the database, counts what would change and, only if there
is no error at all, writes everything in the same transaction. Any error — or ``dry_run`` —
rolls the transaction back, so nothing is written. One ``import.completed`` event records the
run (not one event per row).
"""

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.services import event_record
from guanxi.imports import columnar
from guanxi.imports.checks import ROWS, TAGS, checks_run
from guanxi.imports.columnar import BlockParser
from guanxi.imports.formats import (
    ImportFileError,
    Kind,
    TableReader,
    TableWriter,
    format_from_path,
    table_open,
)
from guanxi.imports.merges import Counts, merge_for
from guanxi.imports.parsing import is_blank
from guanxi.imports.rows import STAGING_META, RowError, RowParser, staged_columns
from guanxi.imports.schemas import EntitySchema, HeaderMap, header_resolve, schema_get
from guanxi.imports.selectors import export_queryset, export_rows
from guanxi.imports.staging import Staging
from guanxi.playbooks.services import tasks_complete_since

BATCH_SIZE = 5000
MAX_ERRORS = 1000

# (units done, units in all or None): bytes for CSV, rows for XLSX and exports.
Progress = Callable[[int, int | None], None]


@dataclass
class ImportResult:
    """What an import read, found and (unless it had errors or was a dry run) wrote."""

    entity: str
    file: str
    format: str
    encoding: str | None
    rows: int = 0
    counts: dict[str, Counts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False
    # Wall seconds of each step ("stage", "check", "count", "write", "commit"), for benchmarks.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def errors_omitted(self) -> int:
        return self.error_count - len(self.errors)


@dataclass
class ExportResult:
    entity: str
    file: str
    format: str
    rows: int


def _blank_row(cells: Any) -> bool:
    return not cells or (is_blank(cells[0]) and all(is_blank(c) for c in cells))


def import_run(
    *,
    entity: str,
    path: Path | str,
    fmt: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
    actor: Any = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    max_errors: int = MAX_ERRORS,
) -> ImportResult:
    """Validate every row of ``path`` and, if all are valid, upsert them all in one transaction.

    Raises ``ImportFileError`` for problems with the file as a whole (unknown entity, format or
    encoding, missing columns, no rows); returns the row-level errors in the result otherwise.
    """
    schema = schema_get(entity)
    path = Path(path)
    with table_open(path, fmt=fmt, encoding=encoding, sheet=sheet) as table:
        header = header_resolve(schema, table.header)
        result = ImportResult(
            entity=schema.name,
            file=path.name,
            format=table.format,
            encoding=table.encoding,
            ignored_columns=header.ignored,
            dry_run=dry_run,
        )
        run = _ImportRun(schema, header, table, result, batch_size=batch_size, limit=max_errors)
        with transaction.atomic():
            run.st = Staging(transaction.get_connection())
            try:
                with _timed(result, "stage"):
                    run.stage(progress)
                if run.check() and not dry_run:
                    with _timed(result, "write"):
                        run.write(actor)
                else:
                    # Errors, or a dry run: roll back, so not even the staging tables remain.
                    transaction.set_rollback(True)
            finally:
                run.st.close()
            committing = time.perf_counter()
        # The commit runs the deferred foreign-key checks of every written row.
        result.timings["commit"] = time.perf_counter() - committing
    return result


@contextmanager
def _timed(result: ImportResult, step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        result.timings[step] = result.timings.get(step, 0.0) + time.perf_counter() - started


class _ImportRun:
    """The steps of one import, all inside its transaction: stage, check, write."""

    st: Staging

    def __init__(
        self,
        schema: EntitySchema,
        header: HeaderMap,
        table: TableReader,
        result: ImportResult,
        *,
        batch_size: int,
        limit: int,
    ):
        self.schema = schema
        self.header = header
        self.table = table
        self.result = result
        self.batch_size = batch_size
        self.limit = limit
        self.tz = timezone.get_default_timezone()
        self.errors: list[RowError] = []

    def stage(self, progress: Progress | None) -> None:
        """Parse every row, keep its errors and load it into the staging tables in batches."""
        schema, table, st = self.schema, self.table, self.st
        parser = RowParser(schema, self.header, tz=self.tz, text_only=table.format == "csv")
        st.create(
            ROWS,
            [*STAGING_META, *((c.name, c.kind) for c in staged_columns(schema))],
            ordered_by="row_no",
        )
        if parser.tags_spec is not None:
            st.create(TAGS, [("row_no", Kind.INT), (schema.key[0], Kind.TEXT), ("tag", Kind.TEXT)])
        if not (
            parser.tags_spec is None
            and schema.derive is None
            and self._stage_blocks(parser, progress)
        ):
            self._stage_rows(parser, progress)
        if self.result.rows == 0:
            raise ImportFileError(
                _("The file %(name)s has column names but no data rows below them.")
                % {"name": self.result.file}
            )
        if progress is not None:
            progress(table.total or table.done(), table.total)

    def _keep_errors(self, row_errors: Sequence[RowError]) -> None:
        self.result.error_count += len(row_errors)
        self.errors.extend(row_errors[: max(0, self.limit - len(self.errors))])

    def _stage_blocks(self, parser: RowParser, progress: Progress | None) -> bool:
        """The bulk path (``columnar``) for a plain UTF-8 CSV file; False if the file needs the
        row reader, with the staging table emptied again for it."""
        st, result = self.st, self.result
        blocks = BlockParser(parser, types=st.staged_types(), tz=self.tz)
        size = self.batch_size
        try:
            with st.loader() as loader:
                done_before = 0
                for first_row, block, done in columnar.blocks(self.table):
                    parsed = blocks.parse(first_row, block)
                    result.rows += parsed.count
                    self._keep_errors(parsed.errors)
                    loader.submit(ROWS, parsed.rows)
                    # The whole block goes to the loader thread, which encodes and sends it
                    # ``batch_size`` rows at a time while this thread parses the next block.
                    loader.submit_columns(ROWS, parsed.columns, batch_size=size)
                    if progress is not None:
                        # Through the block's bytes, one step per batch of its rows.
                        rows = len(parsed.columns[0])
                        for end in range(size, rows, size):
                            share = end / rows
                            progress(
                                int(done_before + share * (done - done_before)), self.table.total
                            )
                    done_before = done
        except columnar.Unsupported:
            st.execute(f"DELETE FROM {st.q(ROWS)}")
            result.rows = result.error_count = 0
            self.errors.clear()
            return False
        return True

    def _stage_rows(self, parser: RowParser, progress: Progress | None) -> None:
        result, table, st = self.result, self.table, self.st
        batch: list[tuple[Any, ...]] = []
        tag_rows: list[tuple[int, str, str]] = []
        key_at = 2 + parser.key_index
        with st.loader() as loader:
            for row_no, cells in table.rows:
                if _blank_row(cells):
                    continue
                staged, row_errors, tags = parser.parse(row_no, cells)
                result.rows += 1
                if row_errors:
                    self._keep_errors(row_errors)
                batch.append(staged)
                if tags:
                    tag_rows.extend((row_no, staged[key_at], tag) for tag in tags)
                if len(batch) >= self.batch_size:
                    loader.submit(ROWS, batch)
                    loader.submit(TAGS, tag_rows)
                    batch, tag_rows = [], []
                    if progress is not None:
                        progress(table.done(), table.total)
            loader.submit(ROWS, batch)
            loader.submit(TAGS, tag_rows)

    def check(self) -> bool:
        """Run the set-based checks; count what would change if there is no error at all."""
        result = self.result
        with _timed(result, "check"):
            self.merge = merge_for(self.st, self.schema, self.header)
            self.merge.prepare()
            set_errors, set_total = checks_run(
                self.st,
                self.schema,
                self.header,
                limit=self.limit,
                tz=self.tz,
                targets=self.merge.targets(),
            )
        result.error_count += set_total
        result.errors = sorted(self.errors + set_errors, key=lambda e: e.row)[: self.limit]
        if not result.ok:
            return False
        with _timed(result, "count"):
            result.counts = self.merge.counts()
        return True

    def write(self, actor: Any) -> None:
        result = self.result
        started = timezone.now()
        self.merge.write(started)
        if self.schema.name == "interactions":
            # Logged contacts carry out open tasks (a follow-up call, a joint review).
            tasks_complete_since(started, actor=actor)
        event_record(
            kind="import.completed",
            actor=actor,
            data={
                "entity": result.entity,
                "file": result.file,
                "format": result.format,
                "rows": result.rows,
                "counts": {name: counts.as_dict() for name, counts in result.counts.items()},
            },
        )
        self.st.drop()


def export_run(
    *,
    entity: str,
    path: Path | str,
    fmt: str | None = None,
    encoding: str | None = None,
    headers: str = "en",
    actor: Any = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Write every record of ``entity`` in the columns the importer reads, so that exporting and
    importing the file again changes nothing. ``headers="zh"`` writes the Chinese column names."""
    schema = schema_get(entity)
    path = Path(path)
    fmt = format_from_path(path, fmt)
    total = export_queryset(schema).count() if progress is not None else None
    writer = TableWriter(
        path,
        fmt=fmt,
        kinds=[c.kind for c in schema.columns],
        tz=timezone.get_default_timezone(),
        encoding=encoding,
    )
    rows = 0
    try:
        writer.write_header(export_header(schema, headers))
        for values in export_rows(schema):
            writer.write_row(values)
            rows += 1
            if progress is not None and rows % BATCH_SIZE == 0:
                progress(rows, total)
    finally:
        writer.close()
    if progress is not None:
        progress(rows, total)
    event_record(
        kind="export.completed",
        actor=actor,
        data={"entity": schema.name, "file": path.name, "format": fmt, "rows": rows},
    )
    return ExportResult(entity=schema.name, file=path.name, format=fmt, rows=rows)


def export_header(schema: EntitySchema, language: str) -> list[str]:
    if language == "zh":
        return [c.aliases[0] if c.aliases else c.name for c in schema.columns]
    return [c.name for c in schema.columns]
