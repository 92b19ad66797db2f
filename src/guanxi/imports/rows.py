"""One row of a file → the tuple staged for it, with an error for every cell that cannot be read."""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from guanxi.imports.formats import Kind
from guanxi.imports.parsing import (
    EnumSpec,
    ParseError,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_email,
    parse_int,
    parse_money_cents,
    parse_tags,
    parse_text,
)
from guanxi.imports.schemas import Column, EntitySchema, HeaderMap

STAGING_META = (("row_no", Kind.INT), ("row_ok", Kind.BOOL))


@dataclass(frozen=True)
class RowError:
    """One problem: the row as the user numbers it (header = 1), the column as the file names
    it, the cell's value and what to do about it."""

    row: int
    column: str
    value: str
    message: str


def cell_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, dt.datetime):
        return raw.isoformat(sep=" ")
    return str(raw)


class _Blank:
    def __repr__(self) -> str:
        return "BLANK"


BLANK: Any = _Blank()  # what a cell parser returns for an empty cell
REQUIRED = object()


def _text_parser(max_length: int | None) -> Callable[[Any], Any]:
    def parse(raw: Any) -> Any:
        if raw.__class__ is str:
            text = raw.strip()
            if not text:
                return BLANK
            if max_length is None or len(text) <= max_length:
                return text
        elif raw is None:
            return BLANK
        return parse_text(raw, max_length=max_length)

    return parse


def _typed_parser(column: Column, tz: ZoneInfo) -> Callable[[Any], Any]:
    kind = column.kind
    if kind == Kind.EMAIL:
        return partial(parse_email, max_length=column.max_length)
    if kind == Kind.INT:
        return partial(parse_int, min_value=column.min_value)
    if kind == Kind.MONEY:
        return parse_money_cents
    if kind == Kind.BOOL:
        return parse_bool
    if kind == Kind.DATE:
        return parse_date
    if kind == Kind.DATETIME:
        return partial(parse_datetime, tz=tz)
    if kind == Kind.ENUM:
        return EnumSpec(column.choices).parse
    if kind == Kind.TAGS:
        return partial(parse_tags, max_length=column.max_length)
    raise ValueError(f"unknown column kind {kind!r}")


# Kinds whose cells repeat a lot (prices, quantities, timestamps, codes): their parsed text is
# cached per import, which is most of the speed on a large order file.
_CACHED_KINDS = frozenset({Kind.INT, Kind.MONEY, Kind.BOOL, Kind.DATE, Kind.DATETIME, Kind.ENUM})


def cell_parser(column: Column, tz: ZoneInfo, *, text_only: bool = False) -> Callable[[Any], Any]:
    """A function from one cell to its value, ``BLANK`` for an empty cell, or ``ParseError``.

    ``text_only`` (CSV) lets it assume every cell is a ``str``.
    """
    if column.kind == Kind.TEXT:
        return _text_parser(column.max_length)
    typed = _typed_parser(column, tz)

    def from_text(raw: str) -> Any:
        text = raw.strip()
        return typed(text) if text else BLANK

    if column.kind in _CACHED_KINDS:
        from_text = lru_cache(maxsize=8192)(from_text)
    if text_only:
        return from_text

    def parse(raw: Any) -> Any:
        if raw.__class__ is str:
            return from_text(raw)
        return BLANK if raw is None else typed(raw)

    return parse


def staged_columns(schema: EntitySchema) -> list[Column]:
    """The columns kept in the staging table (tags are staged apart, one row per tag)."""
    return [c for c in schema.columns if c.kind != Kind.TAGS]


# (column, position of its cell in the padded row, parser)
_Spec = tuple[Column, int, Callable[[Any], Any]]
_Problem = tuple[Column, Any, Any]


class RowParser:
    """Parses rows of one file. Order-level columns of an order file are parsed once per run of
    identical cells — the lines of an order repeat them — which is most of an order file."""

    def __init__(
        self, schema: EntitySchema, header: HeaderMap, *, tz: ZoneInfo, text_only: bool = False
    ):
        self.schema = schema
        self.header = header
        columns = staged_columns(schema)
        self.names = [c.name for c in columns]
        # Rows are padded to ``self.width`` cells plus one empty cell, which columns the file
        # does not have read (so they get their default like any empty cell).
        self.width = max(header.positions.values(), default=-1) + 1
        specs: list[_Spec] = [
            (c, header.positions.get(c.name, self.width), cell_parser(c, tz, text_only=text_only))
            for c in columns
        ]
        group = [spec for spec in specs if spec[0].order_level]
        self._group = group
        self._own = [spec for spec in specs if not spec[0].order_level]
        if [c for c, _, _ in group + self._own] != columns:
            raise ValueError("order-level columns must come first in an orders schema")
        positions = [p for _, p, _ in group]
        self._group_key = itemgetter(*positions) if len(positions) > 1 else None
        self._last_key: Any = None
        self._last: tuple[list[Any], list[_Problem]] = ([], [])
        tags = [c for c in schema.columns if c.kind == Kind.TAGS]
        self.tags_spec: _Spec | None = (
            (tags[0], header.positions[tags[0].name], cell_parser(tags[0], tz))
            if tags and header.present(tags[0].name)
            else None
        )
        self.key_index = self.names.index(schema.key[0])

    def parse(
        self, row_no: int, cells: Sequence[Any]
    ) -> tuple[tuple[Any, ...], Sequence[RowError], tuple[str, ...]]:
        """(staged row, errors, tag names) for one row of cells."""
        width = self.width
        if len(cells) == width and cells.__class__ is list:
            cells.append("")
        else:
            cells = [*cells[:width], *([""] * (width - len(cells))), ""]
        problems: list[_Problem] = []
        group_key = self._group_key
        if group_key is not None:
            key = group_key(cells)
            if key != self._last_key:
                group_values: list[Any] = []
                group_problems: list[_Problem] = []
                _parse_cells(self._group, cells, group_values, group_problems)
                self._last_key, self._last = key, (group_values, group_problems)
            last_values, last_problems = self._last
            values = last_values.copy()
            if last_problems:
                problems.extend(last_problems)
        else:
            values = []
            if self._group:
                _parse_cells(self._group, cells, values, problems)
        _parse_cells(self._own, cells, values, problems)
        if self.schema.derive is not None:
            named = dict(zip(self.names, values, strict=True))
            self.schema.derive(named)
            values = [named[n] for n in self.names]
        tags: tuple[str, ...] = ()
        if self.tags_spec is not None:
            tag_values: list[Any] = []
            _parse_cells([self.tags_spec], cells, tag_values, problems)
            tags = tag_values[0] or ()
        if not problems:
            return (row_no, True, *values), (), tags
        errors = [
            RowError(
                row_no,
                self.header.header(c.name),
                cell_text(raw),
                _("This column is required; fill it in.") if message is REQUIRED else message,
            )
            for c, raw, message in problems
        ]
        return (row_no, False, *values), errors, tags


def _parse_cells(
    specs: list[_Spec], cells: Sequence[Any], values: list[Any], problems: list[_Problem]
) -> None:
    # Fast path for the usual row: every cell parses and none is empty.
    try:
        parsed = [parse(cells[position]) for _, position, parse in specs]
    except ParseError:
        pass
    else:
        if BLANK not in parsed:
            values.extend(parsed)
            return
    for column, position, parse in specs:
        raw = cells[position]
        try:
            value = parse(raw)
        except ParseError as error:
            problems.append((column, raw, str(error)))
            values.append(None)
            continue
        if value is BLANK:
            if column.required:
                problems.append((column, raw, REQUIRED))
            value = column.default
        values.append(value)
