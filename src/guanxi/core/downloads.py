"""CSV files a page streams to the browser: the customer export and an import's row errors.

Every cell goes through ``csv_cell``: a spreadsheet runs a cell that starts with ``=``, ``@`` or
a sign followed by text as a formula (CSV injection), and both files carry text people typed.
The file starts with a byte order mark so that Excel reads it as UTF-8 (Chinese stays legible).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse

# Phone numbers like "+86 …" and negative numbers are left alone.
_FORMULA_START = ("=", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """``value`` as the text of one cell, with formulas defused by a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(_FORMULA_START) or (
        text[:1] in ("+", "-") and not text[1:2].isdigit() and text[1:2] != " "
    ):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The lines of a CSV file: the byte order mark and ``header``, then each row's cells."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_response(lines: Iterable[str], *, filename: str) -> StreamingHttpResponse:
    """Stream ``lines`` as an attachment; never cached (the files hold personal data)."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
