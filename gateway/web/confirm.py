"""An action the web pages carry out only after an explicit "Ich bestätige …" checkbox (Art. 17/18 on the
DPO's pages): one command through the bus, a refusal shown on the page, a redirect with the success message."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from gateway.deps import bus
from services.kernel.errors import ServiceError
from services.kernel.identity import Actor

CONFIRM = "bestaetigt"  # the checkbox's name; its value is "ja"
Refusal = Callable[[int, str], Awaitable[Response]]


async def run_confirmed(request: Request, actor: Actor, command, done_url: str, not_confirmed: str,
                        refused: Refusal) -> Response:
    """Without the ticked box nothing happens (422); the command's refusal keeps its status and German text."""
    if (await request.form()).get(CONFIRM) != "ja":
        return await refused(422, not_confirmed)
    try:
        await bus(request).handle(command, actor)
    except ServiceError as exc:
        return await refused(exc.status, exc.message)
    return RedirectResponse(done_url, status_code=303)
