"""Revocation notices (issue 17): an office's clerks read theirs and answer them (deleted, or kept on a
legal basis); the data-protection officer lists those of their controller's offices."""
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from gateway.auth import require
from gateway.deps import bus, directory, new_uow
from gateway.params import Int64
from services.delivery import notice_views
from services.delivery.commands import ConfirmNotice, NoticeAnswer
from services.gate import notice_views as hub_notices
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/revocation-notices", tags=["inbox"])
dpo_router = APIRouter(prefix="/audit", tags=["audit"])
clerk = require(Role.CLERK)
dpo = require(Role.DPO)
State = Literal["open", "deleted", "kept"]


@router.get("")
async def list_notices(request: Request, state: State | None = None,
                       limit: Annotated[Int64, Query(ge=1, le=500)] = 500, actor: Actor = Depends(clerk)):
    return await notice_views.notices(new_uow(request), actor, state, limit)


@router.get("/{notice_id}")
async def read_notice(notice_id: str, request: Request, actor: Actor = Depends(clerk)):
    return await notice_views.notice(new_uow(request), actor, notice_id)


@router.post("/{notice_id}/confirmation")
async def confirm_notice(notice_id: str, answer: NoticeAnswer, request: Request, actor: Actor = Depends(clerk)):
    """Deleted: what the notice names is deleted from the office's inbox; kept: the office names its basis."""
    return await bus(request).handle(ConfirmNotice(notice_id=notice_id, **answer.model_dump()), actor)


@dpo_router.get("/revocation-notices")
async def dpo_notices(request: Request, state: State | None = None,
                      limit: Annotated[Int64, Query(ge=1, le=500)] = 500, actor: Actor = Depends(dpo)):
    return await hub_notices.for_dpo(new_uow(request), actor, directory(request), state, limit)
