"""Consents in and out as HL7 FHIR R4: one person's consents exported as a Bundle of Consent
resources; one imported, recorded as any other consent; a bad one refused with problem+json."""
from fhir.resources.R4B.bundle import Bundle

from tests.e2e.conftest import assert_problem, consent_body


def test_export_import_round_trip(cm):
    body = consent_body(provisions=[
        {"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"], "categories": ["stammdaten"]},
        {"recipient": {"office": "troisdorf-ebh"}, "purposes": ["einbuergerung"],
         "categories": ["stammdaten", "dokumente"], "direction": "both"}])
    granted = cm.post("/consents", json=body).json()
    person, consent_id = granted["person"], granted["consent_id"]
    amended = body | {"valid_until": "2098-01-01T00:00:00Z"}
    assert cm.post(f"/consents/{consent_id}/versions", json=amended).status_code == 201

    exported = cm.get(f"/persons/{person}/consents/fhir")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/fhir+json"
    bundle = Bundle.model_validate(exported.json())
    statuses = [(e.resource.id, e.resource.status) for e in bundle.entry]
    assert statuses == [(f"{consent_id}-v1", "inactive"), (f"{consent_id}-v2", "active")]

    latest = exported.json()["entry"][1]["resource"]
    imported = cm.post("/consents/fhir", json=latest)
    assert imported.status_code == 201, imported.text
    again = imported.json()
    assert again["person"] == person and again["consent_id"] != consent_id
    assert again["versions"][0]["terms"] == granted["versions"][0]["terms"] | {"valid_until": "2098-01-01T00:00:00Z"}


def test_a_bad_fhir_consent_is_refused(cm):
    problem = assert_problem(cm.post("/consents/fhir", json={"resourceType": "Consent", "status": "active"}), 422)
    assert problem["errors"][0]["field"] in ("scope", "category")
    assert "FHIR" in problem["errors"][0]["message"]
