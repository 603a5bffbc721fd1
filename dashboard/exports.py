"""CSV and TSV downloads of dashboard tables, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-` or `@` would be read as a formula by Excel, LibreOffice and
Google Sheets (a tracked URL like `=HYPERLINK(...)` could run on an analyst's machine), so such
text cells get a leading apostrophe. Numbers are written as numbers: durations in seconds and
shares as ratios, with the unit in the column header ("Avg. visit (s)", "Bounce rate (ratio)").
An export holds every row of its table for the range (up to MAX_ROWS), not the screen's top rows,
and its file is named after the site, page, table and dates.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from django.utils.text import slugify

from dashboard.pages import Table
from dashboard.scope import Scope

FORMULA_START = ("=", "+", "-", "@")
MAX_ROWS = 100_000
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
    writer.writerow([neutralise(c) for c in table.export_columns()])
    for row in table.rows:
        writer.writerow(["" if cell is None else neutralise(cell) for cell in row])
    return out.getvalue()


def file_name(*, table: Table, fmt: str, page: str, scope: Scope) -> str:
    """E.g. `spoken-tutorial-pages-pages-2026-11-27-to-2026-12-03.csv`."""
    site = slugify(scope.site.name) or slugify(scope.site.site_id) or "site"
    parts = [site, slugify(page), slugify(table.key), scope.start.isoformat(), "to", scope.end.isoformat()]
    return "-".join(p for p in parts if p) + f".{fmt}"


def table_response(*, table: Table, fmt: str, page: str, scope: Scope) -> HttpResponse:
    """A download of one table; `fmt` must be a key of FORMATS."""
    _, content_type = FORMATS[fmt]
    response = HttpResponse(table_text(table=table, fmt=fmt), content_type=f"{content_type}; charset=utf-8")
    name = file_name(table=table, fmt=fmt, page=page, scope=scope)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
