"""Many-row INSERT and UPDATE statements for the rollup tables, one round trip per chunk.

PostgreSQL gets one array per column and `unnest()` (a statement of a dozen parameters, whatever
the number of rows: the driver's client-side parsing of a statement with thousands of `%s` costs
more than the database's work). SQLite gets a multi-row `VALUES` list, within its limit on
parameters per statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

# PostgreSQL's array type per kind of column: the `unnest()` arguments are cast to these.
PG_TYPES = {"int": "bigint[]", "float": "double precision[]", "date": "date[]", "text": "text[]", "bytes": "bytea[]"}
PG_CHUNK = 20_000
SQLITE_PARAMETERS = 30_000


def _execute_as_arrays(cursor, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run `sql` once per chunk of rows, with one array parameter per column (PostgreSQL)."""
    for start in range(0, len(rows), PG_CHUNK):
        chunk = rows[start : start + PG_CHUNK]
        cursor.execute(sql, [list(column) for column in zip(*chunk, strict=True)])


def insert(
    *, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]], on_conflict: str = ""
) -> None:
    """INSERT `rows` (tuples in the order of `columns`, given as (name, kind)) into `table`.

    `on_conflict` is appended as is (e.g. `ON CONFLICT (...) DO UPDATE SET ...`); rows of one call
    must not share a conflict key, as PostgreSQL updates a row at most once per statement.
    """
    if not rows:
        return
    names = ", ".join(name for name, _ in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{PG_TYPES[kind]}" for _, kind in columns)
            _execute_as_arrays(
                cursor, f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {on_conflict}", rows
            )
            return
        per_statement = max(1, SQLITE_PARAMETERS // len(columns))
        placeholder = f"({', '.join(['%s'] * len(columns))})"
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([placeholder] * len(chunk))} {on_conflict}",
                [value for row in chunk for value in row],
            )


def update(*, table: str, key: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> None:
    """UPDATE `table` rows by primary key `key`: each row is (key value, *values of `columns`)."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(["%s::bigint[]", *(f"%s::{PG_TYPES[kind]}" for _, kind in columns)])
            names = ", ".join(["k", *(name for name, _ in columns)])
            sets = ", ".join(f"{name} = v.{name}" for name, _ in columns)
            _execute_as_arrays(
                cursor, f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({names}) WHERE {table}.{key} = v.k", rows
            )
            return
        sets = ", ".join(f"{name} = %s" for name, _ in columns)
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE {key} = %s", [(*row[1:], row[0]) for row in rows])
