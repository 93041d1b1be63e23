"""The office inbox: a clerk sees only their own office's messages."""
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from gateway.auth import require
from gateway.deps import bus, directory, keys, new_uow
from gateway.params import Int64
from services.delivery import views
from services.delivery.commands import ConfirmReceipt
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/inbox", tags=["inbox"])
clerk = require(Role.CLERK)


@router.get("")
async def list_inbox(request: Request, unread: bool = False, limit: Annotated[Int64, Query(ge=1, le=500)] = 100,
                     actor: Actor = Depends(clerk)):
    return await views.inbox(new_uow(request), actor, unread, limit)


@router.get("/{transfer_id}")
async def read_item(transfer_id: str, request: Request, actor: Actor = Depends(clerk)):
    return await views.item(new_uow(request), actor, transfer_id, keys(request), directory(request))


@router.post("/{transfer_id}/receipt")
async def confirm_receipt(transfer_id: str, request: Request, actor: Actor = Depends(clerk)):
    return await bus(request).handle(ConfirmReceipt(transfer_id=transfer_id), actor)


@router.get("/{transfer_id}/documents/{sha256}")
async def document(transfer_id: str, sha256: str, request: Request, actor: Actor = Depends(clerk)):
    """A document copy named in a message this office received (and only then)."""
    found = await views.document(new_uow(request), actor, transfer_id, sha256, keys(request), directory(request))
    return Response(found.content, media_type=found.media_type)
