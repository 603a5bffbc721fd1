"""CSV and TSV downloads of dashboard tables, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-` or `@` would be read as a formula by Excel, LibreOffice and
Google Sheets (a tracked URL like `=HYPERLINK(...)` could run on an analyst's machine), so such
text cells get a leading apostrophe. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from django.http import HttpResponse

from dashboard.pages import Table

FORMULA_START = ("=", "+", "-", "@")
FORMATS = {"csv": (",", "text/csv"), "tsv": ("\t", "text/tab-separated-values")}


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet will show it, never as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def table_text(*, table: Table, fmt: str) -> str:
    """The table (header row first) as CSV or TSV text with every formula neutralised."""
    delimiter, _ = FORMATS[fmt]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()


def table_response(*, table: Table, fmt: str, page: str) -> HttpResponse:
    """A download of one table; `fmt` must be a key of FORMATS."""
    _, content_type = FORMATS[fmt]
    name = re.sub(r"[^a-z0-9-]+", "-", f"{page}-{table.key}".lower())
    response = HttpResponse(table_text(table=table, fmt=fmt), content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
