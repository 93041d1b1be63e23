"""What a case manager asks of the consent context (validated at the HTTP edge)."""
from pydantic import Field

from contracts.base import Contract
from contracts.consent import PERSON_PATTERN, ConsentTerms, RevocationMethod


class RecordConsent(Contract):
    terms: ConsentTerms
    person: str | None = Field(None, pattern=PERSON_PATTERN,
                               description="Pseudonym einer bereits erfassten Person; leer = neue Person")


class AmendConsent(Contract):
    consent_id: str
    terms: ConsentTerms


class RevokeConsent(Contract):
    consent_id: str
    method: RevocationMethod
