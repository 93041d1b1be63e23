"""Several tables' inserts as ONE PostgreSQL statement.

Each statement is a network round trip, and under load a round trip is what a hot path mostly
waits for (docs/benchmarks.md). A single statement is atomic on its own, so on a connection in
autocommit mode ``insert_together`` writes rows for several tables without BEGIN and COMMIT: one
round trip instead of two per table plus two. The rows travel as one array per column
(``unnest``), so the statement text depends only on the tables and columns, never on the number
of rows: PostgreSQL prepares it once per connection.

PostgreSQL only; SQLite (the embedded default) keeps the ordinary statements.
"""
from __future__ import annotations

import json
from functools import lru_cache

from sqlalchemy import JSON, String, Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

_PG = postgresql.dialect()


def _is_json(column) -> bool:
    return isinstance(column.type.dialect_impl(_PG), JSON)


def _array_type(column) -> str:
    """The SQL type of the array a column's values travel in. Strings travel as TEXT: an explicit
    cast to VARCHAR(n) would cut a value that is too long, while the insert into the column
    refuses it, as an ordinary insert does. JSON travels as text too."""
    if _is_json(column) or isinstance(column.type.dialect_impl(_PG), String):
        return "TEXT"
    return column.type.compile(dialect=_PG)


@lru_cache(maxsize=64)
def _table_facts(table: Table) -> tuple[frozenset[str], dict]:
    """The table's JSON columns, and its columns' scalar Python-side defaults."""
    json_columns = frozenset(c.name for c in table.c if _is_json(c))
    defaults = {c.name: c.default.arg for c in table.c if c.default is not None and c.default.is_scalar}
    return json_columns, defaults


@lru_cache(maxsize=64)
def _statement(spec: tuple[tuple[Table, tuple[str, ...]], ...], returning: str | None):
    """``WITH t1 AS (INSERT …), … INSERT INTO tn … [RETURNING id]`` for (table, columns) pairs.

    With ``returning``, the last table's rows are inserted in array order (``ORDER BY``
    ordinality), so its serial ids grow in that order: the caller sorts the ids it gets back.
    """
    parts = []
    for n, (table, columns) in enumerate(spec):
        cols = ", ".join(columns)
        arrays = ", ".join(f"CAST(:p{n}_{i} AS {_array_type(table.c[c])}[])" for i, c in enumerate(columns))
        values = ", ".join(f"CAST({c} AS JSONB)" if _is_json(table.c[c]) else c for c in columns)
        order = " ORDER BY ord" if returning and n == len(spec) - 1 else ""
        parts.append(f"INSERT INTO {table.name} ({cols}) SELECT {values} "
                     f"FROM unnest({arrays}) WITH ORDINALITY AS u({cols}, ord){order}")
    *ctes, last = parts
    head = "WITH " + ", ".join(f"ins_{n} AS ({sql})" for n, sql in enumerate(ctes)) + " " if ctes else ""
    return text(head + last + (f" RETURNING {returning}" if returning else ""))


async def insert_together(conn: AsyncConnection, writes: list[tuple[Table, list[dict]]],
                          returning: str | None = None) -> list:
    """Insert every table's rows in one statement; with ``returning`` (a serial column of the
    last table) its values for the last table's rows, in the order of those rows.

    All rows of a table must have the same keys; a column left out gets its scalar Python-side
    default (``Column(default=…)``), as with SQLAlchemy's own inserts."""
    writes = [(table, rows) for table, rows in writes if rows]
    if not writes:
        return []
    spec, params = [], {}
    for n, (table, rows) in enumerate(writes):
        json_columns, defaults = _table_facts(table)
        missing = {c: v for c, v in defaults.items() if c not in rows[0]}
        columns = (*rows[0], *missing)
        spec.append((table, columns))
        for i, c in enumerate(columns):
            values = [row[c] for row in rows] if c not in missing else [missing[c]] * len(rows)
            if c in json_columns:
                values = [None if v is None else json.dumps(v) for v in values]
            params[f"p{n}_{i}"] = values
    result = await conn.execute(_statement(tuple(spec), returning), params)
    return sorted(result.scalars()) if returning else []
