"""Person keys (wrapped) and the documents sealed per transfer, in the database."""
from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.crypto.person_keys import WrappedKey
from services.infrastructure.bulk import Insert
from services.keys.tables import person_keys, transfer_documents


def _wrapped(row) -> WrappedKey:
    return WrappedKey(kid=row.kid, person=row.person, master_kid=row.master_kid, wrapped=bytes(row.wrapped),
                      created_at=row.created_at)


class PersonKeyRepository:
    """``services.crypto.person_keys.PersonKeyRepository`` on the unit of work's connection; new keys
    are staged (written at the commit with the unit's other rows) when the unit stages."""

    def __init__(self, conn: AsyncConnection, stage=None):
        self.conn = conn
        self._stage = stage

    async def current_many(self, persons: list[str]) -> dict[str, WrappedKey]:
        """Each person's newest key, one query."""
        if not persons:
            return {}
        rows = (await self.conn.execute(select(person_keys).where(person_keys.c.person.in_(persons))
                                        .order_by(person_keys.c.created_at))).all()
        return {r.person: _wrapped(r) for r in rows}  # the newest last, so it stays

    async def current(self, person: str) -> WrappedKey | None:
        row = (await self.conn.execute(select(person_keys).where(person_keys.c.person == person)
                                       .order_by(person_keys.c.created_at.desc()).limit(1))).first()
        return _wrapped(row) if row else None

    async def by_kid(self, kid: str) -> WrappedKey | None:
        row = (await self.conn.execute(select(person_keys).where(person_keys.c.kid == kid))).first()
        return _wrapped(row) if row else None

    async def add(self, wrapped: WrappedKey) -> None:
        row = dict(kid=wrapped.kid, person=wrapped.person, wrapped=wrapped.wrapped, master_kid=wrapped.master_kid,
                   created_at=wrapped.created_at)
        if self._stage is not None:
            self._stage(Insert(person_keys, [row]))
        else:
            await self.conn.execute(insert(person_keys).values(**row))

    async def destroy(self, person: str) -> int:
        return (await self.conn.execute(delete(person_keys).where(person_keys.c.person == person))).rowcount

    async def all_wrapped_by(self, master_kid: str) -> list[WrappedKey]:
        rows = (await self.conn.execute(select(person_keys).where(person_keys.c.master_kid == master_kid))).all()
        return [_wrapped(r) for r in rows]

    async def replace(self, wrapped: WrappedKey) -> None:
        await self.conn.execute(update(person_keys).where(person_keys.c.kid == wrapped.kid).values(
            wrapped=wrapped.wrapped, master_kid=wrapped.master_kid))


class TransferDocumentRepository:
    def __init__(self, conn: AsyncConnection, stage):
        self.conn = conn
        self._stage = stage

    def add(self, rows: list[dict]) -> None:
        """Staged: written at the commit with the transfers' rows."""
        if rows:
            self._stage(Insert(transfer_documents, rows))

    async def delete(self, transfer_ids: list[str]) -> int:
        """The office's sealed copies of these transfers' documents, deleted (a revocation confirmed)."""
        if not transfer_ids:
            return 0
        return (await self.conn.execute(delete(transfer_documents)
                                        .where(transfer_documents.c.transfer_id.in_(transfer_ids)))).rowcount

    async def sealed(self, transfer_id: str, sha256: str) -> bytes | None:
        value = (await self.conn.execute(select(transfer_documents.c.sealed).where(
            transfer_documents.c.transfer_id == transfer_id, transfer_documents.c.sha256 == sha256))).scalar()
        return bytes(value) if value is not None else None
