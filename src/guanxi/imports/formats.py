"""CSV and XLSX files, read and written one row at a time so memory stays flat for any file size.

Readers yield ``(row_number, cells)`` with the row number a person sees in Excel (the header is
row 1). CSV files are decoded as UTF-8, UTF-8 with a byte-order mark, UTF-16 with a byte-order mark
or GB18030 (what Excel on a Chinese Windows machine writes); see ``encoding_detect``.
"""

import codecs
import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from guanxi.core.errors import GuanxiError
from guanxi.imports.parsing import join_tags

FORMATS = ("csv", "xlsx")
CSV_EXPORT_ENCODING = "utf-8-sig"
_SCAN_CHUNK = 1 << 20
# Excel keeps 15 significant digits: larger amounts are written as text to stay exact.
XLSX_EXACT_CENTS = 10**15


class ImportFileError(GuanxiError):
    """A problem with the file as a whole (format, encoding, header), not with one row."""


class Kind:
    """How a column's values are typed; decides parsing, staging type and rendering."""

    TEXT = "text"
    EMAIL = "email"
    INT = "int"
    MONEY = "money"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"
    TAGS = "tags"


def format_from_path(path: Path, override: str | None = None) -> str:
    if override:
        if override not in FORMATS:
            raise ImportFileError(
                _("Unknown format '%(format)s'; use csv or xlsx.") % {"format": override}
            )
        return override
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    raise ImportFileError(
        _(
            "Cannot tell the format of '%(name)s' from its extension; name it .csv or .xlsx, or "
            "pass --format csv|xlsx."
        )
        % {"name": path.name}
    )


def encoding_detect(stream: BinaryIO) -> str:
    """BOM → UTF-8 or UTF-16; else strict UTF-8 on the first non-ASCII bytes; else GB18030.

    Scans only as far as the first chunk with non-ASCII bytes, so a large ASCII-only file costs
    one pass over bytes the OS already has cached, and a Chinese file is decided at once.
    """
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(_SCAN_CHUNK):
            if chunk.isascii():
                continue
            decoder.decode(chunk, final=False)
            return "utf-8"
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"
    finally:
        stream.seek(start)


class _CountingReader(io.RawIOBase):
    """Counts the bytes read, so progress can follow a CSV file through the text decoder."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n


@dataclass
class TableReader:
    """An open file: its header cells, its data rows and how far reading has got."""

    header: list[str]
    rows: Iterator[tuple[int, Sequence[Any]]]
    format: str
    encoding: str | None = None
    total: int | None = None  # bytes (CSV) or rows (XLSX), for progress
    done: Callable[[], int] = field(default=lambda: 0)
    path: Path | None = None
    delimiter: str | None = None  # CSV: the one taken from the header line


@contextmanager
def table_open(
    path: Path, *, fmt: str | None = None, encoding: str | None = None, sheet: str | None = None
) -> Iterator[TableReader]:
    fmt = format_from_path(path, fmt)
    if not path.is_file():
        raise ImportFileError(_("There is no file at %(path)s.") % {"path": path})
    if fmt == "csv":
        with path.open("rb") as raw:
            yield _csv_open(raw, path, encoding)
    else:
        yield from _xlsx_open(path, sheet)


def _csv_open(raw: BinaryIO, path: Path, encoding: str | None) -> TableReader:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ImportFileError(
                _("Unknown encoding '%(encoding)s'; try utf-8, utf-8-sig or gb18030.")
                % {"encoding": encoding}
            ) from None
    else:
        encoding = encoding_detect(raw)
    counter = _CountingReader(raw)
    text = io.TextIOWrapper(io.BufferedReader(counter, 1 << 16), encoding=encoding, newline="")
    first_line = _decoded(text.readline, encoding, 1)
    if not first_line.strip():
        raise ImportFileError(
            _("The file %(name)s is empty: row 1 must hold the column names.") % {"name": path.name}
        )
    delimiter = max(",\t;", key=first_line.count)
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    reader = csv.reader(text, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        row_no = 1
        iterator = iter(reader)
        while True:
            try:
                cells = next(iterator)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise _encoding_error(encoding, row_no + 1) from None
            except csv.Error as error:
                raise ImportFileError(
                    _("Row %(row)s cannot be read as CSV (%(error)s); check the quoting.")
                    % {"row": row_no + 1, "error": error}
                ) from None
            row_no += 1
            yield row_no, cells

    return TableReader(
        header=header,
        rows=rows(),
        format="csv",
        encoding=encoding,
        total=path.stat().st_size,
        done=lambda: counter.count,
        path=path,
        delimiter=delimiter,
    )


def _decoded(read: Callable[[], str], encoding: str, row: int) -> str:
    try:
        return read()
    except UnicodeDecodeError:
        raise _encoding_error(encoding, row) from None


def _encoding_error(encoding: str, row: int) -> ImportFileError:
    if codecs.lookup(encoding).name == "gb18030":
        hint = _(
            "Save the file as UTF-8 (in Excel: CSV UTF-8), or give its encoding with --encoding."
        )
    else:
        hint = _(
            "If the file was saved by Excel on a Chinese Windows machine, add --encoding gb18030; "
            "otherwise save it as UTF-8."
        )
    return ImportFileError(
        _("Row %(row)s is not valid %(encoding)s text.") % {"row": row, "encoding": encoding}
        + " "
        + hint
    )


def _xlsx_open(path: Path, sheet: str | None) -> Iterator[TableReader]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError):
        raise ImportFileError(
            _("%(name)s is not an Excel .xlsx workbook; save it as .xlsx or as CSV.")
            % {"name": path.name}
        ) from None
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif sheet in workbook.sheetnames:
            worksheet = workbook[sheet]
        else:
            raise ImportFileError(
                _("The workbook has no sheet called '%(sheet)s'; its sheets are: %(sheets)s.")
                % {"sheet": sheet, "sheets": ", ".join(workbook.sheetnames)}
            )
        iterator = worksheet.iter_rows(values_only=True)
        first = next(iterator, None)
        if first is None or all(cell is None or str(cell).strip() == "" for cell in first):
            raise ImportFileError(
                _("The file %(name)s is empty: row 1 must hold the column names.")
                % {"name": path.name}
            )
        state = {"row": 1}

        def rows() -> Iterator[tuple[int, Sequence[Any]]]:
            for row_no, cells in enumerate(iterator, start=2):
                state["row"] = row_no
                yield row_no, cells

        yield TableReader(
            header=["" if cell is None else str(cell) for cell in first],
            rows=rows(),
            format="xlsx",
            total=worksheet.max_row,
            done=lambda: state["row"],
        )
    finally:
        workbook.close()


def render_text(kind: str, value: Any, tz: ZoneInfo) -> str:
    """One value as CSV text that the importer reads back to the same value."""
    if value is None:
        return ""
    if kind == Kind.MONEY:
        return str(Decimal(value).scaleb(-2))
    if kind == Kind.DATETIME:
        return datetime_text(value, tz)
    if kind == Kind.DATE:
        return value.isoformat()
    if kind == Kind.BOOL:
        return "yes" if value else "no"
    if kind == Kind.TAGS:
        return join_tags(value)
    return str(value)


def datetime_text(value: dt.datetime, tz: ZoneInfo) -> str:
    """Wall-clock time in ``tz``; the offset is added only where the wall clock is ambiguous
    (the repeated hour when clocks go back), so the text always names one instant."""
    local = value.astimezone(tz)
    text = local.replace(tzinfo=None).isoformat(sep=" ")
    if local.fold:
        text += local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    return text


class TableWriter:
    """Writes a header and typed rows to CSV or XLSX; ``kinds`` says how to render each column."""

    def __init__(
        self,
        path: Path,
        *,
        fmt: str,
        kinds: Sequence[str],
        tz: ZoneInfo,
        encoding: str | None = None,
    ):
        self.path = path
        self.format = fmt
        self.kinds = list(kinds)
        self.tz = tz
        if fmt == "csv":
            self._file = path.open("w", encoding=encoding or CSV_EXPORT_ENCODING, newline="")
            self._csv = csv.writer(self._file)
        else:
            from openpyxl import Workbook

            self._workbook = Workbook(write_only=True)
            self._sheet = self._workbook.create_sheet()

    def write_header(self, names: Sequence[str]) -> None:
        if self.format == "csv":
            self._csv.writerow(names)
        else:
            self._sheet.append([self._text_cell(name) for name in names])

    def write_row(self, values: Sequence[Any]) -> None:
        if self.format == "csv":
            self._csv.writerow(
                [render_text(k, v, self.tz) for k, v in zip(self.kinds, values, strict=True)]
            )
        else:
            self._sheet.append(
                [self._xlsx_cell(k, v) for k, v in zip(self.kinds, values, strict=True)]
            )

    def close(self) -> None:
        if self.format == "csv":
            self._file.close()
        else:
            self._workbook.save(self.path)

    def _xlsx_cell(self, kind: str, value: Any) -> Any:
        from openpyxl.cell import WriteOnlyCell

        if value is None:
            return None
        if kind == Kind.MONEY:
            if abs(value) >= XLSX_EXACT_CENTS:
                return self._text_cell(render_text(kind, value, self.tz))
            cell = WriteOnlyCell(self._sheet, Decimal(value).scaleb(-2))
            cell.number_format = "0.00"
            return cell
        if kind == Kind.DATE:
            cell = WriteOnlyCell(self._sheet, value)
            cell.number_format = "yyyy-mm-dd"
            return cell
        if kind == Kind.DATETIME:
            local = value.astimezone(self.tz)
            if local.microsecond or local.fold:
                # Excel keeps milliseconds at best and has no offsets: write such instants as text.
                return self._text_cell(datetime_text(value, self.tz))
            cell = WriteOnlyCell(self._sheet, local.replace(tzinfo=None))
            cell.number_format = "yyyy-mm-dd hh:mm:ss"
            return cell
        if kind in (Kind.BOOL, Kind.INT):
            return value
        if kind == Kind.TAGS:
            return self._text_cell(join_tags(value))
        return self._text_cell(str(value))

    def _text_cell(self, text: str) -> Any:
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self._sheet, text)
        cell.data_type = "s"  # text starting with "=" stays text, never becomes a formula
        return cell


def errors_write_csv(path: Path, errors: Sequence[Any], *, omitted: int = 0) -> None:
    """The row-level error report, UTF-8 with BOM so Excel shows Chinese text correctly."""
    with path.open("w", encoding=CSV_EXPORT_ENCODING, newline="") as file:
        writer = csv.writer(file)
        writer.writerow([_("row"), _("column"), _("value"), _("message")])
        for error in errors:
            writer.writerow([error.row or "", error.column, error.value, error.message])
        if omitted:
            writer.writerow(
                ["", "", "", _("… and %(count)s more errors not listed.") % {"count": omitted}]
            )
