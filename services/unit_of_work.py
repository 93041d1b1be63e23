"""The hub's unit of work: one transaction and every context's repositories in it, plus the
transfer log and the outbox (``services/infrastructure/uow.py`` does the transaction)."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.admin.repository import DeadLetterRepository
from services.audit.log import AuditLog, BoundLog
from services.audit.repository import AuditRepository
from services.cases.erasure import ErasureRepository
from services.cases.repository import CaseRepository
from services.checklists.repository import ChecklistRepository
from services.consent.repository import ConsentRepository
from services.delivery.repository import InboxRepository, OfficeNoticeRepository
from services.gate.repository import NoticeRepository, TransferRepository
from services.infrastructure.dispatch import OutboxDispatch
from services.infrastructure.uow import UnitOfWork
from services.keys.repository import PersonKeyRepository, TransferDocumentRepository
from services.notifications.repository import NotificationRepository
from services.rights.repository import PersonDataRepository, RestrictionRepository


class HubUnitOfWork(UnitOfWork):
    consents: ConsentRepository
    transfers: TransferRepository
    checklists: ChecklistRepository
    inbox: InboxRepository
    dead_letters: DeadLetterRepository
    log: BoundLog
    person_keys: PersonKeyRepository
    sealed_documents: TransferDocumentRepository
    notices: NoticeRepository  # revocation notices the hub sent
    office_notices: OfficeNoticeRepository  # revocation notices the offices received
    notifications: NotificationRepository
    cases: CaseRepository
    erasure: ErasureRepository
    restrictions: RestrictionRepository
    person_data: PersonDataRepository

    def __init__(self, engine: AsyncEngine | None, audit: AuditLog, dispatch: OutboxDispatch | None = None,
                 joining: AsyncConnection | None = None, consumer: str | None = None):
        super().__init__(engine, dispatch, joining, consumer)
        self.audit = audit

    def _start(self, conn: AsyncConnection) -> None:
        self.consents = ConsentRepository(conn)
        self.transfers = TransferRepository(conn, self.stage)
        self.checklists = ChecklistRepository(conn)
        self.inbox = InboxRepository(conn, self.stage)
        self.dead_letters = DeadLetterRepository(conn)
        self.audit_log = AuditRepository(conn)
        self.log = self.audit.bound(conn, self.stage)
        self.person_keys = PersonKeyRepository(conn, self.stage)
        self.sealed_documents = TransferDocumentRepository(conn, self.stage)
        self.notices = NoticeRepository(conn, self.stage)
        self.office_notices = OfficeNoticeRepository(conn, self.stage)
        self.notifications = NotificationRepository(conn, self.stage)
        self.cases = CaseRepository(conn)
        self.erasure = ErasureRepository(conn)
        self.restrictions = RestrictionRepository(conn)
        self.person_data = PersonDataRepository(conn)
