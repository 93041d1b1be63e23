"""The data subject's rights, carried out by the DPO: erasure (Art. 17), restriction (Art. 18), the
person's own data as JSON (Art. 20). Each is logged in the transfer log."""
from fastapi import APIRouter, Depends, Path, Request

from contracts.consent import PERSON_PATTERN
from gateway.auth import require
from gateway.deps import bus
from services.kernel.identity import Actor, Role
from services.rights.commands import ErasePerson, ExportPersonData, LiftRestriction, RestrictProcessing

router = APIRouter(prefix="/rights/persons/{person}", tags=["rights"])
dpo = require(Role.DPO)
PERSON = Path(pattern=PERSON_PATTERN)


@router.post("/erasure")
async def erase_person(request: Request, person: str = PERSON, actor: Actor = Depends(dpo)):
    return await bus(request).handle(ErasePerson(person=person), actor)


@router.put("/restriction")
async def restrict(request: Request, person: str = PERSON, actor: Actor = Depends(dpo)):
    return await bus(request).handle(RestrictProcessing(person=person), actor)


@router.delete("/restriction")
async def lift_restriction(request: Request, person: str = PERSON, actor: Actor = Depends(dpo)):
    return await bus(request).handle(LiftRestriction(person=person), actor)


@router.get("/data")
async def own_data(request: Request, person: str = PERSON, actor: Actor = Depends(dpo)):
    return await bus(request).handle(ExportPersonData(person=person), actor)
