"""Pre-checked cases end to end over HTTP: checklist, pre-checked referral, the way back, the timeline,
the open-items policy, expired templates, the consent for the way back, and the statutory notice."""
from datetime import date

import pytest

from tests.e2e.conftest import consent_body, wait_for

PDF = b"%PDF-1.7\n% kimhub test document\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FACTS = {"date_of_birth": "1990-04-02", "entry_date": "2017-03-15", "family_status": "ledig",
         "has_children": False, "has_passport": True, "receives_benefits": False,
         "german_school_certificate": False}
ALL_PRESENT = {i: {"status": "present"} for i in
               ("pass", "aufenthaltstitel", "meldebescheinigung", "geburtsurkunde", "lebensunterhalt",
                "sprachnachweis", "einbuergerungstest")}


def naturalisation_consent(way_back: bool = True) -> dict:
    provisions = [{"recipient": {"kind": "ebh"}, "purposes": ["einbuergerung"],
                   "categories": ["stammdaten", "falldaten", "dokumente"],
                   "direction": "both" if way_back else "outbound"}]
    return consent_body(provisions=provisions)


def referral(person: str, precheck_id: str | None = None, **payload) -> dict:
    body = {"person": person, "municipality": "05382068", "recipient": {"kind": "ebh"}, "purpose": "einbuergerung",
            "payload": {"reason": "Einbürgerung nach § 10 StAG, Unterlagen vorgeprüft",
                        "requested_action": "Antrag annehmen und prüfen",
                        "person": {"given_name": "Amina", "family_name": "Beispiel"}, **payload}}
    if precheck_id:
        body["precheck_id"] = precheck_id
    return body


def upload(cm, person: str, content: bytes, title: str, content_type: str = "application/pdf"):
    return cm.post("/documents", params={"person": person, "title": title}, content=content,
                   headers={"Content-Type": content_type})


def delivered(cm, transfer_id: str) -> None:
    wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered")


def test_naturalisation_case_there_and_back(hub, cm, dpo):
    person = cm.post("/consents", json=naturalisation_consent()).json()["person"]
    passport = upload(cm, person, PDF, "Reisepass")
    assert passport.status_code == 201, passport.text
    statuses = {**ALL_PRESENT, "pass": {"status": "verified", "documents": [passport.json()["document_id"]]},
                "lebensunterhalt": {"status": "missing", "reason": "Arbeitgeberbescheinigung folgt"}}
    pc = cm.post("/prechecks", json={"person": person, "procedure": "einbuergerung-stag-10", "facts": FACTS,
                                     "items": statuses})
    assert pc.status_code == 201, pc.text
    assert pc.json()["complete"] is True  # missing WITH a reason still counts as pre-checked
    assert any("keine Entscheidung" in h for h in pc.json()["hints"])
    assert "eligible" not in pc.text.lower()

    sent = cm.post("/transfers", json=referral(person, pc.json()["precheck_id"]))
    assert sent.status_code == 202, sent.text
    assert sent.json()["recipient_office"] == "troisdorf-ebh"
    referral_id = sent.json()["transfer_id"]
    delivered(cm, referral_id)

    with hub.client("clerk.troisdorf-ebh") as ebh:
        item = wait_for(lambda: (r := ebh.get(f"/inbox/{referral_id}")).status_code == 200 and r.json())
        assert item["message_type"] == "prechecked-referral.v1"
        checklist = item["payload"]["checklist"]
        assert (checklist["procedure"], checklist["version"], checklist["complete"]) == ("einbuergerung-stag-10", 1,
                                                                                          True)
        [doc] = item["payload"]["documents"]
        assert ebh.get(f"/inbox/{referral_id}/documents/{doc['sha256']}").content == PDF

        asked = ebh.post(f"/inbox/{referral_id}/replies/nachforderung", json={
            "items": [{"item_id": "lebensunterhalt", "label": "Arbeitgeberbescheinigung"}], "deadline": "2030-01-31"})
        assert asked.status_code == 202, asked.text
        nachforderung_id = asked.json()["transfer_id"]
        assert asked.json()["recipient_office"] == "rsk-kim"

    timeline = wait_for(lambda: (t := cm.get(f"/persons/{person}/timeline").json())["open_tasks"] and t)
    [task] = timeline["open_tasks"]
    assert (task["transfer_id"], task["items"][0]["item_id"]) == (nachforderung_id, "lebensunterhalt")

    employer = upload(cm, person, PNG, "Arbeitgeberbescheinigung", "image/png").json()["document_id"]
    pc2 = cm.post("/prechecks", json={"person": person, "procedure": "einbuergerung-stag-10", "facts": FACTS,
                                      "items": {**ALL_PRESENT, "lebensunterhalt": {"status": "present",
                                                                                   "documents": [employer]}}})
    answer = cm.post("/transfers", json=referral(person, pc2.json()["precheck_id"], in_reply_to=nachforderung_id))
    assert answer.status_code == 202, answer.text
    delivered(cm, answer.json()["transfer_id"])
    assert cm.get(f"/persons/{person}/timeline").json()["open_tasks"] == []

    with hub.client("clerk.troisdorf-ebh") as ebh:
        wait_for(lambda: ebh.get(f"/inbox/{answer.json()['transfer_id']}").status_code == 200)
        outcome = ebh.post(f"/inbox/{referral_id}/replies/ergebnis",
                           json={"outcome": "einbuergerungszusicherung", "decided_on": "2026-11-20"})
        assert outcome.status_code == 202, outcome.text

    def outcome_in_timeline():
        events = cm.get(f"/persons/{person}/timeline").json()["events"]
        return [e for e in events if e["message_type"] == "feedback.ergebnis.v1" and e["direction"] == "received"]

    [event] = wait_for(outcome_in_timeline)
    assert event["payload"]["outcome"] == "einbuergerungszusicherung" and event["office"] == "troisdorf-ebh"
    log = dpo.get("/audit/transfers", params={"person": person}).json()["records"]
    assert [r["message_type"] for r in log] == ["prechecked-referral.v1", "feedback.nachforderung.v1",
                                                "prechecked-referral.v1", "feedback.ergebnis.v1"]
    assert all(r["decision"] == "delivered" for r in log)


def test_referral_with_open_items_is_refused_where_not_accepted(cm, dpo):
    person = cm.post("/consents", json=naturalisation_consent()).json()["person"]
    incomplete = {k: v for k, v in ALL_PRESENT.items() if k != "sprachnachweis"}
    pc = cm.post("/prechecks", json={"person": person, "procedure": "einbuergerung-stag-10", "facts": FACTS,
                                     "items": incomplete}).json()
    assert pc["complete"] is False and pc["result"]["open_items"] == ["sprachnachweis"]
    refused = cm.post("/transfers", json=referral(person, pc["precheck_id"]))
    assert refused.status_code == 403
    [reason] = refused.json()["reasons"]
    assert (reason["code"], reason["open_items"]) == ("open_items_not_accepted", ["sprachnachweis"])
    [record] = dpo.get("/audit/transfers", params={"person": person}).json()["records"]
    assert (record["decision"], record["reasons"]) == ("refused", ["open_items_not_accepted"])
    # The same case as a plain referral (no checklist) is not subject to the policy.
    assert cm.post("/transfers", json=referral(person)).status_code == 202


def test_expired_template_cannot_be_used_for_new_checklists(cm):
    person = cm.post("/consents", json=naturalisation_consent()).json()["person"]
    r = cm.post("/prechecks", json={"person": person, "procedure": "aufenthg-104c", "facts": FACTS, "items": {}})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert "abgelaufen" in r.json()["detail"]
    listed = {t["procedure"]: t for t in cm.get("/checklists").json()["templates"]}
    assert listed["aufenthg-104c"]["expired"] is True and listed["einbuergerung-stag-10"]["current_version"] == 1


def test_reply_is_refused_when_consent_does_not_cover_the_way_back(hub, cm, dpo):
    person = cm.post("/consents", json=naturalisation_consent(way_back=False)).json()["person"]
    transfer_id = cm.post("/transfers", json=referral(person)).json()["transfer_id"]
    delivered(cm, transfer_id)
    with hub.client("clerk.troisdorf-ebh") as ebh:
        wait_for(lambda: ebh.get(f"/inbox/{transfer_id}").status_code == 200)
        r = ebh.post(f"/inbox/{transfer_id}/replies/sachstand", json={"status_text": "In Bearbeitung"})
        assert r.status_code == 403
        assert [x["code"] for x in r.json()["reasons"]] == ["recipient_not_covered"]
        # An office can only answer what it received.
        with hub.client("clerk.troisdorf-abh") as abh:
            assert abh.post(f"/inbox/{transfer_id}/replies/sachstand",
                            json={"status_text": "x"}).status_code == 404
    log = dpo.get("/audit/transfers", params={"person": person}).json()["records"]
    assert [(r["message_type"], r["decision"]) for r in log] == [("referral.v1", "delivered"),
                                                                 ("feedback.sachstand.v1", "refused")]


def test_naturalisation_notice_passes_on_its_statute_and_is_logged_with_it(hub, cm, dpo):
    person = cm.post("/consents", json=consent_body()).json()["person"]  # no consent for this notice
    notice = {"person": person, "municipality": "05382068",
              "payload": {"person": {"given_name": "Amina", "family_name": "Beispiel"},
                          "naturalised_on": "2026-11-01"}}
    with hub.client("clerk.troisdorf-ebh") as ebh:
        r = ebh.post("/notices/einbuergerung", json=notice)
        assert r.status_code == 202, r.text
        assert r.json()["recipient_office"] == "troisdorf-abh" and r.json()["consent_id"] is None
        wait_for(lambda: ebh.get(f"/transfers/{r.json()['transfer_id']}").json()["status"] == "delivered")
    with hub.client("clerk.troisdorf-abh") as abh:
        item = wait_for(lambda: (x := abh.get(f"/inbox/{r.json()['transfer_id']}")).status_code == 200 and x.json())
        assert "§ 73 AufenthV" in item["legal_basis"]
        # The same notice from an office the statute does not name is refused: anything else needs consent.
        refused = abh.post("/notices/einbuergerung", json=notice)
        assert refused.status_code == 403 and refused.json()["reasons"][0]["code"] == "no_legal_basis"
    records = dpo.get("/audit/transfers", params={"person": person}).json()["records"]
    notices = [x for x in records if x["message_type"] == "notice.einbuergerung.v1"]
    assert [(x["decision"], x["consent_id"]) for x in notices] == [("delivered", None), ("refused", None)]
    assert "§ 73 AufenthV" in notices[0]["legal_basis"]


def test_owning_office_admin_publishes_a_new_template_version(hub, cm):
    current = cm.get("/checklists/einbuergerung-stag-10").json()
    new = {**current, "version": current["version"] + 1, "valid_from": date.today().isoformat(),
           "review_note": "Neue Fassung (Test)"}
    with hub.client("admin") as other_admin:  # the KIM office does not own this template
        assert other_admin.post("/checklists/einbuergerung-stag-10/versions", json=new).status_code == 403
    with hub.client("admin.troisdorf-ebh") as admin:
        r = admin.post("/checklists/einbuergerung-stag-10/versions", json=new)
        assert r.status_code == 201, r.text
        assert admin.post("/checklists/einbuergerung-stag-10/versions", json=new).status_code == 409
    person = cm.post("/consents", json=naturalisation_consent()).json()["person"]
    pc = cm.post("/prechecks", json={"person": person, "procedure": "einbuergerung-stag-10", "facts": FACTS,
                                     "items": ALL_PRESENT}).json()
    assert pc["version"] == current["version"] + 1


@pytest.mark.parametrize("content,content_type,status", [
    (b"GIF89a" + b"\x00" * 20, "image/gif", 415),  # not an accepted type, by content
    (PNG, "application/pdf", 422),  # declared type does not match the content
])
def test_document_type_is_checked_by_content(cm, content, content_type, status):
    person = cm.post("/consents", json=naturalisation_consent()).json()["person"]
    r = upload(cm, person, content, "Scan", content_type)
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json"


def test_immigration_office_refers_a_person_into_case_management(hub):
    """The § 104c pilot: the ABH identifies a person and refers them to the KIM office, on the
    consent the ABH obtained itself."""
    consent = consent_body(provisions=[{"recipient": {"kind": "kim"}, "purposes": ["fallmanagement"],
                                        "categories": ["stammdaten", "falldaten"]}])
    with hub.client("clerk.troisdorf-abh") as abh:
        person = abh.post("/consents", json=consent).json()["person"]
        r = abh.post("/transfers", json={
            "person": person, "municipality": "05382068", "recipient": {"kind": "kim"}, "purpose": "fallmanagement",
            "payload": {"reason": "Duldung seit 2019, Perspektive nach § 104c AufenthG prüfen",
                        "requested_action": "Aufnahme in das Case Management"}})
        assert r.status_code == 202, r.text
        assert r.json()["recipient_office"] == "rsk-kim"
        wait_for(lambda: abh.get(f"/transfers/{r.json()['transfer_id']}").json()["status"] == "delivered")
    with hub.client("clerk.rsk-kim") as kim:
        item = wait_for(lambda: (x := kim.get(f"/inbox/{r.json()['transfer_id']}")).status_code == 200 and x.json())
        assert item["sender_office"] == "troisdorf-abh" and item["purpose"] == "fallmanagement"
