"""Administration: dead-lettered messages (metadata only) and their replay."""
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from gateway.auth import require
from gateway.deps import bus, directory, new_uow
from gateway.params import Int64
from services.admin import views
from services.admin.commands import ReplayDeadLetter
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/admin", tags=["admin"])
admin = require(Role.ADMIN)


@router.get("/dead-letters")
async def list_dead_letters(request: Request, include_replayed: bool = False,
                            limit: Annotated[Int64, Query(ge=1, le=1000)] = 100, actor: Actor = Depends(admin)):
    return await views.dead_letters(new_uow(request), actor, directory(request), include_replayed, limit)


@router.post("/dead-letters/{dead_letter_id}/replay")
async def replay(dead_letter_id: Int64, request: Request, actor: Actor = Depends(admin)):
    return await bus(request).handle(ReplayDeadLetter(dead_letter_id=dead_letter_id), actor)
