"""The office inbox: a clerk sees only their own office's messages."""
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from gateway.auth import require
from gateway.deps import unit_of_work
from gateway.params import Int64
from services.checklists.service import document_for_office
from services.delivery import service
from services.kernel.errors import NotFound
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/inbox", tags=["inbox"])
clerk = require(Role.CLERK)


@router.get("")
async def list_inbox(request: Request, unread: bool = False, limit: Annotated[Int64, Query(ge=1, le=500)] = 100,
                     actor: Actor = Depends(clerk)):
    async with unit_of_work(request) as conn:
        return {"office": actor.office, "items": await service.list_inbox(conn, actor, unread, limit)}


@router.get("/{transfer_id}")
async def read_item(transfer_id: str, request: Request, actor: Actor = Depends(clerk)):
    async with unit_of_work(request) as conn:
        return await service.read_item(conn, actor, transfer_id)


@router.post("/{transfer_id}/receipt")
async def confirm_receipt(transfer_id: str, request: Request, actor: Actor = Depends(clerk)):
    async with unit_of_work(request) as conn:
        return await service.confirm_receipt(conn, actor, transfer_id)


@router.get("/{transfer_id}/documents/{sha256}")
async def document(transfer_id: str, sha256: str, request: Request, actor: Actor = Depends(clerk)):
    """A document copy named in a message this office received (and only then)."""
    async with unit_of_work(request) as conn:
        item = await service.read_item(conn, actor, transfer_id)
        if sha256 not in {d.get("sha256") for d in item["payload"].get("documents", [])}:
            raise NotFound("Dokument nicht gefunden.", field="sha256")
        content, media_type, _title = await document_for_office(conn, actor.office, sha256)
    return Response(content, media_type=media_type)
