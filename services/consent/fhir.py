"""Consents as HL7 FHIR R4 ``Consent`` resources, both ways (pure: no database, no framework).

Why R4: German health and social IT is on R4 (the KBV and gematik profiles, ISiK, the consent module
of the Medizininformatik-Initiative), so an R4 Consent is what a partner system can read. R5 rebuilt
Consent (``decision``, ``grantee``, ``controller``, ``regulatoryBasis``); an R5 export would be a
second mapping, worth it once a partner asks for R5. Validation uses ``fhir.resources``' R4B models
(the package ships R5, R4B and STU3, no R4): Consent is unchanged between R4 and R4B.

The mapping (deny by default, as the hub decides):

- ``provision`` (root): ``type: deny``, ``period`` = the consent's validity; each KIM provision is a
  nested ``permit`` provision: ``actor`` = the other office (``urn:kimhub:office``) or an office kind
  (``urn:kimhub:office-kind``) with role IRCP (it receives: outbound), INF (it informs the
  recording office: inbound) or both; ``purpose`` and ``class`` = purposes and data categories,
  codes of the hub's vocabularies (``urn:kimhub:fhir:purpose``, ``urn:kimhub:fhir:data-category``).
- ``patient`` = the person's pseudonym (``urn:kimhub:person``), never a name; ``organization`` = the
  recording office; the municipality (AGS) an extension; ``sourceAttachment`` = the evidence: the
  form version as title, the language it was explained in as language, the SHA-256 of the signed
  scan as an extension (FHIR R4's ``Attachment.hash`` is SHA-1).
- ``status``: active, or inactive when revoked or superseded by a later version.
"""
from __future__ import annotations

import re
from datetime import datetime

from fhir.resources.R4B.consent import Consent
from pydantic import ValidationError

from contracts.consent import PERSON_PATTERN, ConsentTerms
from services.kernel.errors import InvalidInput

PERSON, OFFICE, OFFICE_KIND = "urn:kimhub:person", "urn:kimhub:office", "urn:kimhub:office-kind"
PURPOSE, CATEGORY = "urn:kimhub:fhir:purpose", "urn:kimhub:fhir:data-category"
MUNICIPALITY_EXT = "urn:kimhub:fhir:StructureDefinition/municipality"
AGS = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:ags"  # the XÖV code list of the AGS
SHA256_EXT = "urn:kimhub:fhir:StructureDefinition/form-sha256"
ROLE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ROLES = {"outbound": ("IRCP",), "inbound": ("INF",), "both": ("IRCP", "INF")}
_SCOPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]}
_CATEGORY = {"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}
_POLICY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]}


def to_fhir(terms: ConsentTerms, *, resource_id: str | None = None, person: str | None = None,
            office: str | None = None, recorded_at: datetime | None = None, active: bool = True) -> dict:
    """The consent terms (one version) as a validated FHIR R4 Consent, as JSON-ready data."""
    resource = {
        "resourceType": "Consent", "status": "active" if active else "inactive", "scope": _SCOPE,
        "category": [_CATEGORY], "policyRule": _POLICY,
        "extension": [{"url": MUNICIPALITY_EXT, "valueCoding": {"system": AGS, "code": terms.municipality}}],
        "sourceAttachment": {"title": terms.evidence.form_version, "language": terms.evidence.language,
                             "extension": [{"url": SHA256_EXT, "valueString": terms.evidence.form_sha256}]},
        "provision": {"type": "deny", "period": _period(terms), "provision": [_permit(p) for p in terms.provisions]},
    }
    if resource_id:
        resource["id"] = resource_id
    if person:
        resource["patient"] = {"identifier": {"system": PERSON, "value": person}}
    if office:
        resource["organization"] = [{"identifier": {"system": OFFICE, "value": office}}]
    if recorded_at:
        resource["dateTime"] = recorded_at.isoformat()
    return Consent.model_validate(resource).model_dump(mode="json", exclude_none=True)


def _period(terms: ConsentTerms) -> dict:
    period = {"start": terms.valid_from.isoformat()}
    if terms.valid_until is not None:
        period["end"] = terms.valid_until.isoformat()
    return period


def _permit(p) -> dict:
    who = {"system": OFFICE, "value": p.recipient.office} if p.recipient.office else \
        {"system": OFFICE_KIND, "value": p.recipient.kind.value}
    return {
        "type": "permit",
        "actor": [{"role": {"coding": [{"system": ROLE, "code": code}]}, "reference": {"identifier": who}}
                  for code in ROLES[p.direction.value]],
        "purpose": [{"system": PURPOSE, "code": purpose.value, "display": purpose.label} for purpose in p.purposes],
        "class": [{"system": CATEGORY, "code": c.value, "display": c.label} for c in p.categories],
    }


def bundle(resources: list[dict]) -> dict:
    """One person's consents as a FHIR collection Bundle."""
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def from_fhir(data: dict) -> tuple[ConsentTerms, str | None]:
    """The consent terms (and the person's pseudonym, if given) of a FHIR R4 Consent; InvalidInput
    (German, naming the element) when it is no valid Consent or says what the hub cannot keep."""
    if not isinstance(data, dict) or data.get("resourceType") != "Consent":
        raise InvalidInput("Das ist keine FHIR-Ressource vom Typ Consent.", field="resourceType")
    try:
        consent = Consent.model_validate(data).model_dump(mode="json", exclude_none=True)
    except (ValidationError, TypeError, ValueError) as exc:
        where = _where(exc.errors()[0]["loc"]) if isinstance(exc, ValidationError) else "resource"
        raise InvalidInput(f"Keine gültige FHIR-Consent-Ressource (R4): das Element '{where}' fehlt oder "
                           f"ist ungültig.", field=where) from None
    if consent.get("status") != "active":
        raise InvalidInput("Nur eine aktive Einwilligung (status: active) kann übernommen werden.", field="status")
    root = consent.get("provision") or {}
    if root.get("type") != "deny":
        raise InvalidInput("Die Einwilligung muss alles ablehnen, was sie nicht ausdrücklich erlaubt (provision.type: "
                           "deny, die Erlaubnisse als enthaltene Bestimmungen).", field="provision.type")
    raw = {
        "municipality": _municipality(consent),
        "provisions": [_provision(p, i) for i, p in enumerate(root.get("provision") or [])],
        "valid_from": (root.get("period") or {}).get("start"),
        "valid_until": (root.get("period") or {}).get("end"),
        "evidence": _evidence(consent.get("sourceAttachment") or {}),
    }
    try:
        terms = ConsentTerms.model_validate(raw)
    except ValidationError as exc:
        where = _fhir_path(exc.errors()[0]["loc"])
        raise InvalidInput(f"Die Einwilligung ist unvollständig oder ungültig: das Element '{where}' fehlt oder "
                           f"ist ungültig.", field=where) from None
    return terms, _person(consent)


def _person(consent: dict) -> str | None:
    identifier = (consent.get("patient") or {}).get("identifier") or {}
    if identifier.get("system") != PERSON:
        return None  # another system's patient id: the hub gives the person a pseudonym of its own
    if not re.fullmatch(PERSON_PATTERN, identifier.get("value") or ""):
        raise InvalidInput("Das Pseudonym der Person hat nicht die Form p-<32 Hexziffern>.",
                           field="patient.identifier.value")
    return identifier["value"]


def _municipality(consent: dict) -> str | None:
    for ext in consent.get("extension") or []:
        if ext.get("url") == MUNICIPALITY_EXT:
            return (ext.get("valueCoding") or {}).get("code")
    return None


def _evidence(attachment: dict) -> dict:
    sha = next((e.get("valueString") for e in attachment.get("extension") or [] if e.get("url") == SHA256_EXT), None)
    return {"form_sha256": sha, "form_version": attachment.get("title"), "language": attachment.get("language")}


def _provision(p: dict, i: int) -> dict:
    if p.get("type") != "permit":
        raise InvalidInput("Jede enthaltene Bestimmung muss eine Erlaubnis (type: permit) sein.",
                           field=f"provision.provision.{i}.type")
    roles, who = set(), None
    for actor in p.get("actor") or []:
        roles |= {c.get("code") for c in (actor.get("role") or {}).get("coding") or [] if c.get("system") == ROLE}
        who = ((actor.get("reference") or {}).get("identifier")) or who
    direction = next((d for d, codes in ROLES.items() if set(codes) == roles), None)
    if direction is None or who is None or who.get("system") not in (OFFICE, OFFICE_KIND):
        raise InvalidInput("Die Bestimmung nennt keine Stelle oder Art von Stelle mit Rolle IRCP und/oder INF.",
                           field=f"provision.provision.{i}.actor")
    return {"recipient": {"office" if who["system"] == OFFICE else "kind": who.get("value")},
            "purposes": [c.get("code") for c in p.get("purpose") or [] if c.get("system") == PURPOSE],
            "categories": [c.get("code") for c in p.get("class") or [] if c.get("system") == CATEGORY],
            "direction": direction}


def _where(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "resource"


def _fhir_path(loc: tuple) -> str:
    """Where in the FHIR resource a field of the terms came from."""
    head = loc[0] if loc else ""
    return {"municipality": "extension", "valid_from": "provision.period.start", "valid_until": "provision.period.end",
            "evidence": "sourceAttachment"}.get(head, "provision.provision" if head == "provisions" else str(head))
