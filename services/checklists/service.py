"""Compatibility only, to be deleted: the two reads other contexts made with a connection, until
their callers (services/gate/requests.py, gateway/routes/inbox.py) pass their unit of work to
``services.checklists.views.prechecked_payload`` / ``document_for_office`` instead."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.checklist import PrecheckedReferralV1
from contracts.referral import ReferralV1
from services.checklists import views
from services.checklists.repository import ChecklistRepository
from services.kernel.identity import Actor


class _Repositories:
    """The part of a unit of work the two reads use, on the caller's connection and transaction."""

    def __init__(self, conn: AsyncConnection):
        self.checklists = ChecklistRepository(conn)


async def prechecked_payload(conn: AsyncConnection, actor: Actor, person: str, precheck_id: str,
                             referral: ReferralV1) -> tuple[PrecheckedReferralV1, bool]:
    return await views.prechecked_payload(_Repositories(conn), actor, person, precheck_id, referral)


async def document_for_office(conn: AsyncConnection, office: str, sha256: str) -> tuple[bytes, str, str]:
    return await views.document_for_office(_Repositories(conn), office, sha256)
