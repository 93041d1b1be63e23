"""Both layers together: a payload sealed for its person, then for the recipient office.

The outer token is what the hub stores and publishes (its digest is :func:`seal.sealed_digest`); only
the recipient office's private ring removes the office layer, and only an existing person key removes
the person layer, so destroying the person's keys shreds every copy.
"""
from __future__ import annotations

from datetime import datetime

from services.crypto.errors import SealBroken
from services.crypto.office_keys import OfficeKeyRing
from services.crypto.person_keys import KeyRelease, PersonKey, PersonKeys
from services.crypto.seal import (open_for_office, open_for_person, person_key_id, seal_for_office,
                                  seal_for_person)


def seal_layers(plaintext: bytes, person_key: PersonKey, ring: OfficeKeyRing, now: datetime) -> str:
    """The office-layer token around the person-layer token around ``plaintext``."""
    return seal_for_office(seal_for_person(plaintext, person_key).encode("ascii"), ring, now)


def open_office_layer(token: str, ring: OfficeKeyRing) -> str:
    """The inner person-layer token (still sealed for the person); SealBroken if the office layer fails."""
    try:
        return open_for_office(token, ring).decode("ascii")
    except UnicodeDecodeError:
        raise SealBroken("malformed", "the office layer holds no person-layer token") from None


async def open_layers(token: str, ring: OfficeKeyRing, person_keys: PersonKeys,
                      release: KeyRelease | None = None) -> bytes:
    """The plaintext: office layer with the ring, then person layer with the person key its kid names
    (KeyDestroyed once that key is gone; KeyReleaseRefused when ``release`` refuses)."""
    inner = open_office_layer(token, ring)
    return open_for_person(inner, await person_keys.for_opening(person_key_id(inner), release))
