"""The log has no blind spots (issue 17), through the hub's processes over HTTP: the DPO sees a request
refused before the gate, who opened an item and when, the Art. 15 report's own reads, and an Art. 16
rectification (which reaches the office linked to the original); an unsent default is not named."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from tests.e2e.conftest import assert_problem, consent_body, referral, wait_for
from tests.e2e.test_web_session import signed_in

NOWHERE = "05999999"  # a well-formed municipality no office is competent for


def _log(dpo, person: str, kind: str = "transfer") -> list[dict]:
    response = dpo.get("/audit/transfers", params={"person": person, "kind": kind})
    assert response.status_code == 200, response.text
    return response.json()["records"]


def _delivered(cm, **payload) -> tuple[str, str]:
    """A referral under a fresh consent, delivered to troisdorf-abh: (person, transfer id)."""
    person = cm.post("/consents", json=consent_body()).json()["person"]
    sent = cm.post("/transfers", json=referral(person, person={"given_name": "Amina", "family_name": "K."},
                                               **payload))
    assert sent.status_code == 202, sent.text
    transfer_id = sent.json()["transfer_id"]
    wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered")
    return person, transfer_id


@pytest.mark.parametrize("changes, field, reason", [
    ({"recipient": {"office": "nirgendwo-abh"}}, "recipient.office", "unknown_office"),
    ({"municipality": NOWHERE}, "municipality", "no_competent_office"),
], ids=["unknown-office", "no-competent-office"])
def test_the_dpo_sees_a_request_refused_before_the_gate(cm, dpo, changes, field, reason):
    person = f"p-{uuid.uuid4().hex}"
    problem = assert_problem(cm.post("/transfers", json={**referral(person), **changes}), 422,
                             "urn:kimhub:problem:invalid-input")
    assert problem["errors"][0]["field"] == field
    [record] = _log(dpo, person)
    assert (record["decision"], record["reasons"], record["sender_user"]) == ("refused", [reason], "cm.rsk")
    assert "Prüfung" not in str(record)


def test_the_dpo_sees_who_opened_an_item_and_when(hub, cm, dpo):
    person, transfer_id = _delivered(cm)
    before = datetime.now(timezone.utc)
    with hub.client("clerk.troisdorf-abh") as clerk:
        assert clerk.get("/inbox").status_code == 200  # titles only: not a read of content
        assert _log(dpo, person, "access") == []
        assert clerk.get(f"/inbox/{transfer_id}").status_code == 200
    [read] = _log(dpo, person, "access")
    assert (read["read"], read["transfer_id"], read["user"], read["roles"], read["office"]) == (
        "inbox_item", transfer_id, "clerk.troisdorf-abh", ["clerk"], "troisdorf-abh")
    assert datetime.fromisoformat(read["recorded_at"].replace("Z", "+00:00")) >= before.replace(microsecond=0)
    report = dpo.get(f"/audit/persons/{person}/report")
    assert report.status_code == 200, report.text
    assert [r["read"] for r in report.json()["reads"]] == ["inbox_item"]
    assert [r["read"] for r in _log(dpo, person, "access")] == ["inbox_item", "access_report"]
    with signed_in(hub, "dpo") as page:  # the DPO's web page: "Lesezugriffe"
        shown = page.get("/ui/protokoll", params={"kind": "access", "person": person})
    assert shown.status_code == 200 and "Nachricht geöffnet" in shown.text and "clerk.troisdorf-abh" in shown.text


def test_an_unsent_urgency_is_not_named_as_uncovered(cm):
    provisions = [{"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"], "categories": ["stammdaten"]}]
    person = cm.post("/consents", json=consent_body(provisions=provisions)).json()["person"]
    refused = cm.post("/transfers", json=referral(person))  # no urgency: the contract's default, never sent
    [reason] = assert_problem(refused, 403)["reasons"]
    assert reason["fields"] == ["reason", "requested_action"]


def test_a_rectification_reaches_the_office_linked_to_the_original_and_the_dpo_sees_it(hub, cm, dpo):
    person, original = _delivered(cm)
    sent = cm.post(f"/transfers/{original}/rectifications", json={
        "explanation": "Familienname falsch geschrieben", "person": {"given_name": "Amina", "family_name": "Kaya"},
        "health_notes": "Diabetes"})
    assert sent.status_code == 202, sent.text
    rectification = sent.json()["transfer_id"]
    wait_for(lambda: cm.get(f"/transfers/{rectification}").json()["status"] == "delivered")
    with hub.client("clerk.troisdorf-abh") as clerk:
        item = clerk.get(f"/inbox/{rectification}").json()
        assert (item["message_type"], item["corrects"]) == ("rectification.v1", original)
        assert item["payload"]["person"]["family_name"] == "Kaya" and "health_notes" not in item["payload"]
        assert clerk.get(f"/inbox/{original}").json()["rectifications"] == [rectification]
    with signed_in(hub, "clerk.troisdorf-abh") as page:  # the clerk's web page links both ways
        assert f'href="/ui/posteingang/{original}"' in page.get(f"/ui/posteingang/{rectification}").text
        assert f'href="/ui/posteingang/{rectification}"' in page.get(f"/ui/posteingang/{original}").text
    record = next(r for r in _log(dpo, person) if r["transfer_id"] == rectification)
    assert (record["message_type"], record["decision"]) == ("rectification.v1", "delivered")
    assert record["categories_removed"] == ["besondere_kategorien"] and "Kaya" not in str(record)


def test_a_rectification_must_correct_something_and_only_the_sender_may_send_it(hub, cm, dpo):
    _, original = _delivered(cm)
    empty = assert_problem(cm.post(f"/transfers/{original}/rectifications", json={"explanation": "nichts"}), 422)
    assert "Mindestens ein berichtigtes Feld" in empty["detail"]
    with hub.client("cm.me") as other:
        assert_problem(other.post(f"/transfers/{original}/rectifications", json={
            "explanation": "x", "case_notes": "y"}), 404)
