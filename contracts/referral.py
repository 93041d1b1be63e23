"""The referral (Überleitung): the payload a case manager sends, field by field with its data category."""
from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from contracts.agency import OFFICE_ID_PATTERN
from contracts.base import Contract, categorised
from contracts.categories import DataCategory as C
from contracts.consent import SHA256_PATTERN


class Urgency(StrEnum):
    NORMAL = "normal"
    HOCH = "hoch"
    DRINGEND = "dringend"


class PersonDetails(Contract):
    given_name: str | None = Field(None, max_length=200)
    family_name: str | None = Field(None, max_length=200)
    date_of_birth: date | None = None
    address: str | None = Field(None, max_length=500)
    phone: str | None = Field(None, max_length=50)
    email: str | None = Field(None, max_length=200)
    family_status: str | None = Field(None, max_length=100)
    education: str | None = Field(None, max_length=1000)


class SocialSituation(Contract):
    housing: str | None = Field(None, max_length=1000)
    benefits: str | None = Field(None, max_length=1000)
    work_permit: str | None = Field(None, max_length=1000)


class DocumentRef(Contract):
    title: str = Field(min_length=1, max_length=200)
    media_type: Literal["application/pdf", "image/jpeg", "image/png"]
    sha256: str = Field(pattern=SHA256_PATTERN)


class ReferralV1(Contract):
    """Überleitung: one office hands a person's concern to another.

    Every field declares the data category it carries. Required fields must be covered by
    consent; optional fields that are not covered are removed before delivery.
    """

    reason: str = categorised(C.FALLDATEN, min_length=1, max_length=4000, description="Anlass der Überleitung")
    requested_action: str = categorised(C.FALLDATEN, min_length=1, max_length=4000, description="Erbetene Handlung")
    urgency: Urgency = categorised(C.FALLDATEN, Urgency.NORMAL, description="Dringlichkeit")
    reply_to: str | None = categorised(C.FALLDATEN, None, pattern=OFFICE_ID_PATTERN, description="Antwort an (Stelle)")
    person: PersonDetails | None = categorised(C.STAMMDATEN, None, description="Stammdaten der Person")
    social_situation: SocialSituation | None = categorised(C.SOZIALDATEN, None, description="Sozialdaten")
    health_notes: str | None = categorised(
        C.BESONDERE_KATEGORIEN, None, max_length=4000, description="Gesundheit, Behinderung, Förderbedarf (Art. 9 DSGVO)"
    )
    case_notes: str | None = categorised(C.FALLDATEN, None, max_length=8000, description="Beratungsverlauf")
    documents: list[DocumentRef] | None = categorised(C.DOKUMENTE, None, max_length=50, description="Unterlagen")
    in_reply_to: str | None = categorised(C.FALLDATEN, None, max_length=40,
                                          description="Antwort auf eine Nachforderung (Übermittlung)")
