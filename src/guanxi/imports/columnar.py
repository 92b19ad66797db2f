"""A large CSV import read a block at a time by Arrow and parsed a column at a time.

The row reader (``formats.table_open`` + ``rows.RowParser``) handles every file with one Python
call per cell. For the usual large file — UTF-8 CSV whose rows are as wide as its header — this
module does the same work in bulk:

* Arrow's C++ CSV reader splits a block of the file (several MB) into string columns;
* each column is dictionary-encoded, and each *distinct* cell is parsed once by the same cell
  parsers the row reader uses (an order file repeats its timestamps, prices, SKUs and customer
  ids on many lines); text, timestamps, whole numbers and amounts already written in their
  plain form are checked and converted by Arrow kernels instead;
* a row with any cell that does not parse, or a required cell left empty, goes through
  ``RowParser``, so its errors are exactly the row reader's.

Where Arrow would split a file differently from Python's csv module — a row wider or narrower
than the header, a header line that leaves a quote open, a cell longer than csv's field size
limit, bytes that are not UTF-8 — ``blocks`` raises ``Unsupported`` and the import starts over
with the row reader, which then reads or reports the file as it always has.
"""

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from guanxi.imports.formats import Kind, TableReader
from guanxi.imports.parsing import INTEGER_MAX, ParseError
from guanxi.imports.rows import BLANK, RowError, RowParser, cell_parser, staged_columns
from guanxi.imports.schemas import Column

# Bytes of the file per block: about 20,000 order lines. Arrow's streaming reader reads up to
# 32 blocks ahead (not configurable, ARROW-12090), so this also bounds memory: 2 MiB blocks keep
# it near 64 MiB whatever the size of the file.
BLOCK_SIZE = 2 << 20

# The characters ``str.isspace()`` accepts: the row reader strips cells with ``str.strip()``, so
# "blank" and "needs stripping" must mean here exactly what they mean there (a test checks it).
PYTHON_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_SPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in PYTHON_SPACE) + "]"
_BLANK_RE = f"^{_SPACE_CLASS}*$"
_PADDED_RE = f"^{_SPACE_CLASS}|{_SPACE_CLASS}$"
_INT_RE = r"^[0-9]{1,9}$"  # at most 999,999,999 < INTEGER_MAX: no overflow check needed
_MONEY_RE = r"^(?P<units>[0-9]{1,15})(?:\.(?P<fen>[0-9]{0,2}))?$"
# Timestamps in the forms exports write; anything else goes to ``parse_datetime``.
_DATETIME_FORMATS = (
    (r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$", "%Y-%m-%d %H:%M:%S"),
    (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$", "%Y-%m-%dT%H:%M:%S"),
    (r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}$", "%Y-%m-%d %H:%M"),
    (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "%Y-%m-%d"),
)
assert INTEGER_MAX > 999_999_999


class Unsupported(Exception):
    """This file needs the row reader (see the module docstring)."""


def blocks(
    table: TableReader, *, block_size: int | None = None
) -> Iterator[tuple[int, pa.RecordBatch, int]]:
    """(row number of the block's first row, its cells as string columns, bytes read so far).

    Raises ``Unsupported`` — before the first block or part-way through the file — where the
    row reader must take over.
    """
    if (
        table.format != "csv"
        or table.path is None
        or table.delimiter is None
        or codecs.lookup(table.encoding or "").name not in ("utf-8", "utf-8-sig")
        # A quote left open on the header line: Arrow skips the header as a line, csv as a row.
        or any("\n" in cell or "\r" in cell for cell in table.header)
    ):
        raise Unsupported
    names = [f"c{i}" for i in range(len(table.header))]
    size_limit = csv.field_size_limit()
    try:
        with pa.OSFile(str(table.path)) as source:
            reader = pacsv.open_csv(
                source,
                read_options=pacsv.ReadOptions(
                    column_names=names, skip_rows=1, block_size=block_size or BLOCK_SIZE
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=table.delimiter,
                    newlines_in_values=True,
                    # An empty line becomes a row of empty cells, which is skipped as blank
                    # but still numbered, as the csv module does.
                    ignore_empty_lines=False,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            row_no = 2
            while True:
                try:
                    block = reader.read_next_batch()
                except StopIteration:
                    return
                for cells in block.columns:
                    if len(cells) and pc.max(pc.binary_length(cells)).as_py() > size_limit:
                        raise Unsupported  # csv refuses such a cell; let it say so
                yield row_no, block, source.tell()
                row_no += block.num_rows
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        # Rows of the wrong width, bytes that are not UTF-8, …: the row reader reports them.
        raise Unsupported from error


@dataclass
class Parsed:
    """One block: the rows that parsed, as staged columns; the others as staged tuples."""

    columns: list[pa.Array]  # row_no, row_ok, then the staged columns
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    count: int = 0  # rows that are not blank


@dataclass
class StagedType:
    """How the staging table takes a column's values on one database."""

    arrow: pa.DataType
    adapt: Callable[[Any], Any] | None = None  # Python value → the staged value
    # UTC timestamps → staged values, for the timestamps Arrow parses (None: Python parses all).
    from_utc: Callable[[pa.Array], pa.Array] | None = None


@dataclass
class _Spec:
    column: Column
    position: int | None  # the cell's index in a row, None when the file has no such column
    parse: Callable[[str], Any]
    staged: StagedType


class BlockParser:
    """Parses the blocks of one file into the staging columns of ``RowParser``'s schema."""

    def __init__(self, row_parser: RowParser, *, types: dict[str, StagedType], tz: ZoneInfo):
        self.row_parser = row_parser
        self.tz = tz
        positions = row_parser.header.positions
        self.specs = [
            _Spec(c, positions.get(c.name), cell_parser(c, tz, text_only=True), types[c.kind])
            for c in staged_columns(row_parser.schema)
        ]

    def parse(self, first_row: int, block: pa.RecordBatch) -> Parsed:
        cells = block.columns
        row_numbers = np.arange(first_row, first_row + block.num_rows, dtype=np.int64)
        blank = self._blank(cells)
        if blank is not None:
            keep = pa.array(~blank)
            cells = [c.filter(keep) for c in cells]
            row_numbers = row_numbers[~blank]
        n = len(row_numbers)
        ok = np.ones(n, dtype=bool)
        values = []
        for spec in self.specs:
            column, column_ok = self._column(spec, cells, n)
            values.append(column)
            if column_ok is not None:
                ok &= column_ok
        parsed = Parsed(columns=[], count=n)
        if not ok.all():
            for i in np.flatnonzero(~ok).tolist():
                staged, errors, _tags = self.row_parser.parse(
                    int(row_numbers[i]), [c[i].as_py() for c in cells]
                )
                parsed.rows.append(staged)
                parsed.errors.extend(errors)
            mask = pa.array(ok)
            values = [v.filter(mask) for v in values]
            row_numbers = row_numbers[ok]
        parsed.columns = [
            pa.array(row_numbers, type=pa.int64()),
            pa.array(np.ones(len(row_numbers), dtype=bool)),
            *values,
        ]
        return parsed

    @staticmethod
    def _blank(cells: list[pa.Array]) -> np.ndarray | None:
        """Which rows are blank (every cell empty or spaces), or None when none is."""
        blank = None
        for column in cells:
            here = _flags(pc.match_substring_regex(column, _BLANK_RE))
            blank = here if blank is None else blank & here
            if not blank.any():
                return None
        return blank

    def _column(
        self, spec: _Spec, cells: list[pa.Array], n: int
    ) -> tuple[pa.Array, np.ndarray | None]:
        """(the staged values of one column, which rows parsed — None when all did)."""
        if spec.position is None:
            # Not in the file: every row takes the column's default, as for an empty cell.
            values, good = self._distinct(spec, pa.array([""], pa.string()))
            return values.take(np.zeros(n, dtype=np.int32)), None
        encoded = cells[spec.position].dictionary_encode()
        values, good = self._distinct(spec, encoded.dictionary)
        indices = encoded.indices
        column_ok = None if good.all() else good[np.asarray(indices)]
        return values.take(indices), column_ok

    def _distinct(self, spec: _Spec, texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """(staged value of each distinct cell, whether it parsed)."""
        fast = _fast(spec, texts, self.tz)
        if fast is not None:
            values, good = fast
            if good.all():
                return values, good
            slow = np.flatnonzero(~good)
            slow_values, slow_good = self._python(spec, texts.take(slow).to_pylist())
            mask = np.zeros(len(texts), dtype=bool)
            mask[slow] = True
            values = pc.replace_with_mask(values, pa.array(mask), slow_values)
            good = good.copy()
            good[slow] = slow_good
            return values, good
        return self._python(spec, texts.to_pylist())

    @staticmethod
    def _python(spec: _Spec, texts: list[str]) -> tuple[pa.Array, np.ndarray]:
        """Each cell through the row reader's parser: an empty cell takes the column's default,
        a cell that does not parse (or a required one left empty) is marked bad."""
        column, parse, adapt = spec.column, spec.parse, spec.staged.adapt
        values: list[Any] = []
        good = np.ones(len(texts), dtype=bool)
        for i, text in enumerate(texts):
            try:
                value = parse(text)
            except ParseError:
                value, good[i] = None, False
            else:
                if value is BLANK:
                    if column.required:
                        good[i] = False
                    value = column.default
                if adapt is not None and value is not None:
                    value = adapt(value)
            values.append(value)
        return pa.array(values, type=spec.staged.arrow), good


def _fast(spec: _Spec, texts: pa.Array, tz: ZoneInfo) -> tuple[pa.Array, np.ndarray] | None:
    """Arrow kernels for cells already in plain form: (values, which cells they cover)."""
    kind = spec.column.kind
    if kind == Kind.TEXT:
        good = pc.and_(
            pc.greater(pc.binary_length(texts), 0),
            pc.invert(pc.match_substring_regex(texts, _PADDED_RE)),
        )
        if spec.column.max_length is not None:
            good = pc.and_(good, pc.less_equal(pc.utf8_length(texts), spec.column.max_length))
        return texts, _flags(good)
    if kind == Kind.INT:
        good = _flags(pc.match_substring_regex(texts, _INT_RE))
        numbers = pc.cast(pc.if_else(pa.array(good), texts, None), pa.int64())
        if spec.column.min_value is not None:
            good &= _flags(pc.greater_equal(numbers, spec.column.min_value))
        return numbers, good
    if kind == Kind.MONEY:
        # Cells that do not match are null in ``parts``, and so in the amounts.
        parts = pc.extract_regex(texts, _MONEY_RE)
        units = pc.cast(pc.struct_field(parts, "units"), pa.int64())
        fen = pc.cast(pc.utf8_rpad(pc.struct_field(parts, "fen"), 2, "0"), pa.int64())
        return pc.add(pc.multiply(units, 100), fen), _flags(parts.is_valid())
    if kind == Kind.DATETIME and spec.staged.from_utc is not None:
        try:
            instants, good = _timestamps(texts, tz)
        except pa.ArrowInvalid:  # e.g. no time zone database for Arrow: Python parses them all
            return None
        return spec.staged.from_utc(instants), good
    return None


def _flags(values: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy booleans, null as False."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _timestamps(texts: pa.Array, tz: ZoneInfo) -> tuple[pa.Array, np.ndarray]:
    """Wall-clock times in ``tz`` → UTC instants, for the cells in one of ``_DATETIME_FORMATS``
    whose local time is neither repeated nor skipped by a clock change."""
    n = len(texts)
    naive = pa.nulls(n, pa.timestamp("s"))
    for pattern, form in _DATETIME_FORMATS:
        matches = pc.and_(pc.is_null(naive), pc.match_substring_regex(texts, pattern))
        if not pc.any(matches).as_py():
            continue
        candidates = pc.if_else(matches, texts, pa.scalar(None, pa.string()))
        read = pc.strptime(candidates, format=form, unit="s", error_is_null=True)
        # Arrow rolls 2024-02-30 over into March and reads second 60; Python refuses both.
        exact = pc.and_(
            pc.equal(pc.strftime(read, format=form), candidates),
            # Four-digit years that Python, PostgreSQL and SQLite's text all agree on.
            pc.and_(pc.greater_equal(pc.year(read), 1000), pc.less_equal(pc.year(read), 9998)),
        )
        naive = pc.if_else(pc.fill_null(exact, False), read, naive)
    key = getattr(tz, "key", None)
    if key is None or not pc.any(pc.is_valid(naive)).as_py():
        return pa.nulls(n, pa.timestamp("us", tz="UTC")), np.zeros(n, dtype=bool)
    earliest = pc.assume_timezone(naive, timezone=key, ambiguous="earliest", nonexistent="earliest")
    latest = pc.assume_timezone(naive, timezone=key, ambiguous="latest", nonexistent="latest")
    good = _flags(pc.equal(earliest, latest))
    instants = pc.cast(pc.cast(earliest, pa.timestamp("us", tz=key)), pa.timestamp("us", tz="UTC"))
    return instants, good


def sqlite_datetime_text(instants: pa.Array) -> pa.Array:
    """UTC instants as the text Django stores for a ``DateTimeField`` on SQLite, when the
    connection's time zone is UTC: ``str()`` of the naive UTC datetime (whole seconds)."""
    whole = pc.cast(instants, pa.timestamp("s", tz="UTC"), safe=False)
    return pc.strftime(whole, format="%Y-%m-%d %H:%M:%S")
