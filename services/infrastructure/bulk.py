"""Several tables' writes as ONE PostgreSQL statement.

Each statement is a network round trip, and under load round trips are what a hot path mostly
waits for, and a good part of the CPU it spends (docs/benchmarks.md). A single statement is
atomic on its own, so on a connection in autocommit mode ``write_together`` writes rows for
several tables without BEGIN and COMMIT: one round trip instead of two per table plus two; inside
a transaction it still saves one round trip per table but one. The rows travel as one array per
column (``unnest``), so the statement text depends only on the tables and columns, never on the
number of rows: PostgreSQL prepares it once per connection.

``write_each`` does the same writes as ordinary statements, for SQLite (the embedded default).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import JSON, String, Table, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator

_PG = postgresql.dialect()
_DIALECT_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_skipping_conflicts(conn: AsyncConnection, table: Table):
    """``INSERT … ON CONFLICT DO NOTHING`` for the connection's database."""
    return _DIALECT_INSERT[conn.dialect.name](table).on_conflict_do_nothing()


@dataclass(frozen=True)
class Insert:
    """Rows for ``table``; all with the same keys. A column left out gets its scalar Python-side
    default (``Column(default=…)``), as with SQLAlchemy's own inserts. With ``skip_conflicts`` a
    row whose key is taken (by an earlier row or one of the same write) is left out
    (``ON CONFLICT DO NOTHING``)."""

    table: Table
    rows: list[dict]
    skip_conflicts: bool = False


@dataclass(frozen=True)
class Update:
    """Set each row's columns on the row of ``table`` whose ``key`` column equals the row's ``key``
    value; all rows with the same keys. No two rows may name the same table row."""

    table: Table
    rows: list[dict]
    key: str = "id"


Write = Insert | Update


async def write(conn: AsyncConnection, writes: list[Write]) -> None:
    """The writes in one statement on PostgreSQL, one statement each elsewhere."""
    if conn.dialect.name == "postgresql":
        await write_together(conn, writes)
    else:
        await write_each(conn, writes)


async def write_each(conn: AsyncConnection, writes: list[Write]) -> None:
    for w in writes:
        if not w.rows:
            continue
        if isinstance(w, Insert):
            stmt = insert(w.table)
            if w.skip_conflicts:
                stmt = insert_skipping_conflicts(conn, w.table)
            await conn.execute(stmt, w.rows)
        else:
            b_key = f"b_{w.key}"  # the key's parameter may not share the column's name
            await conn.execute(update(w.table).where(w.table.c[w.key] == bindparam(b_key)),
                               [{**{c: v for c, v in row.items() if c != w.key}, b_key: row[w.key]} for row in w.rows])


async def write_together(conn: AsyncConnection, writes: list[Write], returning: str | None = None) -> list:
    """PostgreSQL: every write in one statement. With ``returning`` (a serial column of the last
    write, an ``Insert``) that column's values for its rows, in the order of those rows."""
    writes = [w for w in writes if w.rows]
    if not writes:
        return []
    if returning and not isinstance(writes[-1], Insert):
        raise ValueError("returning needs an Insert with rows last")
    spec, params = [], {}
    for n, w in enumerate(writes):
        json_columns, defaults, binds = _table_facts(w.table)
        missing = {c: v for c, v in defaults.items() if c not in w.rows[0]} if isinstance(w, Insert) else {}
        columns = (*w.rows[0], *missing)
        spec.append((type(w), w.table, columns, getattr(w, "key", None), getattr(w, "skip_conflicts", False)))
        for i, c in enumerate(columns):
            values = [row[c] for row in w.rows] if c not in missing else [missing[c]] * len(w.rows)
            if c in json_columns:
                values = [None if v is None else json.dumps(v) for v in values]
            elif c in binds:
                values = [binds[c](v, _PG) for v in values]
            params[f"p{n}_{i}"] = values
    result = await conn.execute(_statement(tuple(spec), returning), params)
    return sorted(result.scalars()) if returning else []


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
def _table_facts(table: Table) -> tuple[frozenset[str], dict, dict]:
    """The table's JSON columns, its columns' scalar Python-side defaults, and the columns whose
    type has a bind step of its own (``UtcDateTime`` refuses naive datetimes) with that step."""
    json_columns = frozenset(c.name for c in table.c if _is_json(c))
    defaults = {c.name: c.default.arg for c in table.c if c.default is not None and c.default.is_scalar}
    binds = {c.name: c.type.process_bind_param for c in table.c if isinstance(c.type, TypeDecorator)}
    return json_columns, defaults, binds


@lru_cache(maxsize=128)
def _statement(spec: tuple, returning: str | None):
    """``WITH w0 AS (INSERT … | UPDATE …), … <last write> [RETURNING …]`` for (kind, table,
    columns, key, skip_conflicts) tuples.

    With ``returning``, the last table's rows are inserted in array order (``ORDER BY``
    ordinality), so its serial ids grow in that order: the caller sorts the ids it gets back
    (what SQLAlchemy itself relies on for ``sort_by_parameter_order`` on PostgreSQL)."""
    parts = []
    for n, (kind, table, columns, key, skip_conflicts) in enumerate(spec):
        cols = ", ".join(columns)
        arrays = ", ".join(f"CAST(:p{n}_{i} AS {_array_type(table.c[c])}[])" for i, c in enumerate(columns))
        source = f"unnest({arrays}) WITH ORDINALITY AS u({cols}, ord)"

        def value(c: str) -> str:
            return f"CAST(u.{c} AS JSONB)" if _is_json(table.c[c]) else f"u.{c}"

        if kind is Insert:
            order = " ORDER BY ord" if returning and n == len(spec) - 1 else ""
            parts.append(f"INSERT INTO {table.name} ({cols}) "
                         f"SELECT {', '.join(value(c) for c in columns)} FROM {source}{order}"
                         + (" ON CONFLICT DO NOTHING" if skip_conflicts else ""))
        else:
            sets = ", ".join(f"{c} = {value(c)}" for c in columns if c != key)
            parts.append(f"UPDATE {table.name} SET {sets} FROM {source} WHERE {table.name}.{key} = u.{key}")
    *ctes, last = parts
    head = "WITH " + ", ".join(f"w{n} AS ({sql})" for n, sql in enumerate(ctes)) + " " if ctes else ""
    return text(head + last + (f" RETURNING {returning}" if returning else ""))
