"""Reading cases: the case manager their office's, the DPO their controller's (as other DPO views)."""
from __future__ import annotations

from services.cases.domain import Case, CaseStatus
from services.directory.model import Directory
from services.kernel.errors import NotFound
from services.kernel.identity import Actor, Role
from services.unit_of_work import HubUnitOfWork

NOT_FOUND = "Fall nicht gefunden."


def as_dict(case: Case, erased_persons: set[str] = frozenset()) -> dict:
    return {"case_id": case.id, "office": case.office, "status": case.status.value, "created_at": case.created_at,
            "archived_at": case.archived_at, "erased_at": case.erased_at,
            "persons": [{"person": p, "erased": p in erased_persons} for p in case.persons]}


def offices_of(actor: Actor, directory: Directory) -> frozenset[str]:
    """The offices whose cases the actor sees: the DPO their controller's, anyone else their own."""
    return directory.same_controller(actor.office) if actor.has(Role.DPO) else frozenset({actor.office})


async def visible_case(uow: HubUnitOfWork, actor: Actor, directory: Directory, case_id: str,
                       lock: bool = False) -> Case:
    """The case, if the actor may see it (in an open unit of work); another's is not found."""
    case = await uow.cases.get(case_id, lock=lock)
    if case is None or case.office not in offices_of(actor, directory):
        raise NotFound(NOT_FOUND, field="case_id")
    return case


async def show(uow: HubUnitOfWork, actor: Actor, directory: Directory, case_id: str) -> dict:
    async with uow:
        case = await visible_case(uow, actor, directory, case_id)
        return as_dict(case, await uow.cases.erased_persons(case.id))


async def list_cases(uow: HubUnitOfWork, actor: Actor, directory: Directory, status: CaseStatus | None = None,
                     limit: int = 100) -> dict:
    async with uow:
        cases = await uow.cases.of_offices(offices_of(actor, directory), status.value if status else None, limit)
    return {"cases": [as_dict(c) for c in cases]}
