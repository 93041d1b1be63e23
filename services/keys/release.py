"""The cryptographic consent gate: a recipient office gets the person key for an item only against a
consent that covers it, checked at the moment of opening.

The inbox item names the consent it was delivered under. The key service checks that reference
against the gate's own record of the transfer (a forged or swapped reference is refused), then
decides again, now, whether that consent still covers this office, purpose and every category of
the item: a revocation, expiry or narrowing ends the reading of items already delivered. A
transfer on a statutory route opens on its statute. Only then is the person key unwrapped.
"""
from __future__ import annotations

import json
from datetime import datetime

from contracts.transfer import SealedPayloadV1, TransferStatus
from services.crypto.layers import open_office_layer
from services.crypto.office_keys import OfficeKeyRing
from services.crypto.person_keys import PersonKeys
from services.crypto.seal import open_for_person, person_key_id
from services.directory.model import Directory
from services.gate.evaluate import Question, evaluate_many
from services.gate.sealing import categories_of
from services.kernel.errors import Forbidden

NOT_COVERED = ("Die Einwilligung, unter der diese Nachricht übermittelt wurde, deckt das Lesen nicht mehr ab "
               "(widerrufen, abgelaufen oder eingeschränkt). Der Inhalt bleibt verschlossen.")
NO_SUCH_TRANSFER = "Für diese Nachricht ist keine Übermittlung an Ihre Stelle verzeichnet."
RESTRICTED = ("Die Verarbeitung der Daten dieser Person ist nach Art. 18 DSGVO eingeschränkt: die Nachricht "
              "bleibt gespeichert, kann aber nicht gelesen werden, bis die Einschränkung aufgehoben ist.")
FORGED = "Die Nachricht nennt nicht die Einwilligung, unter der sie übermittelt wurde."


async def check_release(uow, directory: Directory, office: str, item, now: datetime, kept: bool = False) -> None:
    """Raises Forbidden unless ``office`` may open ``item`` (an inbox row) now. ``kept``: the office keeps
    it on a legal basis it named after a revocation notice (``delivery/notices.py``), not on the consent."""
    transfer = await uow.transfers.get(item.transfer_id)
    if transfer is None or transfer.recipient_office != office or transfer.person != item.person or \
            transfer.status not in (TransferStatus.DELIVERED, TransferStatus.RECEIVED):
        raise Forbidden(NO_SUCH_TRANSFER, code_detail="no_transfer")
    if (item.consent_id, item.consent_version) != (transfer.consent_id, transfer.consent_version):
        raise Forbidden(FORGED, code_detail="consent_reference_mismatch")
    if await uow.restrictions.restricted([item.person]):
        raise Forbidden(RESTRICTED, code_detail="processing_restricted")
    if transfer.consent_id is None or kept:
        return  # a statutory route opens on its statute, which the gate checked; a kept item on its basis
    sealed = SealedPayloadV1.model_validate(item.sealed)
    [ev] = await evaluate_many(uow.consents, directory, [Question(
        transfer.sender_office, transfer.person, office, transfer.purpose, categories_of(sealed),
        transfer.message_type)], now)
    if not ev.allowed or ev.decision.consent_id != transfer.consent_id:
        raise Forbidden(NOT_COVERED, code_detail="consent_no_longer_covers")


async def open_token(token: str, ring: OfficeKeyRing, person_keys: PersonKeys, person: str) -> bytes:
    """Both layers of one sealed part or document copy; the person key must be the item's person's."""
    inner = open_office_layer(token, ring)
    key = await person_keys.for_opening(person_key_id(inner))
    if key.person != person:
        raise Forbidden(FORGED, code_detail="person_key_mismatch")
    return open_for_person(inner, key)


async def open_parts(sealed: SealedPayloadV1, ring: OfficeKeyRing, person_keys: PersonKeys, person: str) -> dict:
    """The payload: every part opened and joined."""
    data: dict = {}
    for token in sealed.parts.values():
        data.update(json.loads(await open_token(token, ring, person_keys, person)))
    return data
