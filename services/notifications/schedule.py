"""When an overdue notice is due: the day after a Nachforderung's deadline (UTC), as the case
timeline counts a task overdue (``gate/views.py``: deadline before today)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from pydantic import BaseModel

from contracts.feedback import NachforderungV1
from contracts.transfer import TransferStatus
from services.notifications.mail import OVERDUE_REPLY


def overdue_from(deadline: date) -> datetime:
    """The first moment a reply to a Nachforderung with this deadline is overdue."""
    return datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=timezone.utc)


def schedule_overdue_notice(uow, payload: BaseModel, outcome, office: str) -> None:
    """In the sending unit of work: the notice for ``office`` (which has to answer), staged only for
    an accepted Nachforderung. Only its due time is kept, not the deadline's request itself."""
    if isinstance(payload, NachforderungV1) and outcome.status == TransferStatus.REQUESTED:
        uow.notifications.add(OVERDUE_REPLY, [(office, outcome.transfer_id)], overdue_from(payload.deadline))
