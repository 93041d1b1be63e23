"""The main flow over HTTP: consent -> referral -> delivered -> clerk inbox -> receipt -> status -> DPO."""
from tests.e2e.conftest import consent_body, referral, wait_for


def _status(cm, transfer_id: str) -> str:
    return cm.get(f"/transfers/{transfer_id}").json()["status"]


def test_delivered_and_refused_transfers_end_to_end(hub, cm, dpo):
    consent = cm.post("/consents", json=consent_body())
    assert consent.status_code == 201, consent.text
    person = consent.json()["person"]

    sent = cm.post("/transfers", json=referral(
        person, person={"given_name": "Amina", "family_name": "K."}, health_notes="Diabetes"))
    assert sent.status_code == 202, sent.text
    transfer_id = sent.json()["transfer_id"]
    assert sent.json()["recipient_office"] == "troisdorf-abh"  # Troisdorf has its own ABH

    wait_for(lambda: _status(cm, transfer_id) == "delivered")

    with hub.client("clerk.troisdorf-abh") as clerk:
        items = wait_for(lambda: [i for i in clerk.get("/inbox").json()["items"] if i["transfer_id"] == transfer_id])
        assert items[0]["removed_categories"] == ["besondere_kategorien"]
        item = clerk.get(f"/inbox/{transfer_id}").json()
        assert item["payload"]["person"] == {"given_name": "Amina", "family_name": "K."}
        assert "health_notes" not in item["payload"]  # minimised: Art. 9 data not covered
        assert item["consent_version"] == 1
        receipt = clerk.post(f"/inbox/{transfer_id}/receipt")
        assert receipt.status_code == 200, receipt.text

    wait_for(lambda: _status(cm, transfer_id) == "received")

    refused = cm.post("/transfers", json=referral(person, kind="jobcenter", purpose="arbeitsmarktintegration"))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert [r["code"] for r in refused.json()["reasons"]] == ["recipient_not_covered"]
    refused_id = refused.json()["transfer_id"]
    assert _status(cm, refused_id) == "refused"

    log = dpo.get("/audit/transfers", params={"person": person}).json()
    by_transfer = {r["transfer_id"]: r for r in log["records"]}
    assert by_transfer[transfer_id]["decision"] == "delivered"
    assert by_transfer[transfer_id]["categories_sent"] == ["falldaten", "stammdaten"]
    assert by_transfer[transfer_id]["categories_removed"] == ["besondere_kategorien"]
    # the health note did not go, so Art. 9 is not named
    assert by_transfer[transfer_id]["legal_basis"] == "Einwilligung: Art. 6 Abs. 1 lit. a DSGVO"
    assert by_transfer[refused_id]["decision"] == "refused"
    assert by_transfer[refused_id]["reasons"] == ["recipient_not_covered"]
    receipts = [r for r in log["records"] if r["message_type"] == "receipt.v1"]
    assert [(r["decision"], r["reasons"]) for r in receipts] == [("received", [])]
    # the receipt names the digest of what the office stored: the delivery's, over the ciphertext
    assert receipts[0]["payload_sha256"] == by_transfer[transfer_id]["payload_sha256"]
    assert log["total"] == 3
    # The log holds metadata only: no names, no payload text.
    assert "Amina" not in str(log) and "Diabetes" not in str(log) and "Prüfung" not in str(log)


def test_other_office_clerk_does_not_see_the_message(hub, cm):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    transfer_id = cm.post("/transfers", json=referral(person)).json()["transfer_id"]
    wait_for(lambda: _status(cm, transfer_id) == "delivered")
    with hub.client("clerk.rsk-abh") as other:
        assert transfer_id not in str(other.get("/inbox").json())
        assert other.get(f"/inbox/{transfer_id}").status_code == 404
        assert other.post(f"/inbox/{transfer_id}/receipt").status_code == 404


def test_receipt_is_withheld_after_the_consent_was_revoked(hub, cm, dpo):
    consent = cm.post("/consents", json=consent_body()).json()
    transfer_id = cm.post("/transfers", json=referral(consent["person"])).json()["transfer_id"]
    wait_for(lambda: _status(cm, transfer_id) == "delivered")
    assert cm.post(f"/consents/{consent['consent_id']}/revocation", json={"method": "schriftlich"}).status_code == 200
    with hub.client("clerk.troisdorf-abh") as clerk:
        wait_for(lambda: transfer_id in str(clerk.get("/inbox").json()))
        closed = clerk.get(f"/inbox/{transfer_id}")  # the key service releases no key after the revocation
        assert closed.status_code == 403  # and the office's revocation notice, once stored, says why (issue 17)
        assert any(text in closed.json()["detail"] for text in ("deckt das Lesen nicht mehr ab", "Widerrufshinweis"))
        assert clerk.post(f"/inbox/{transfer_id}/receipt").status_code == 200
    receipt = wait_for(lambda: [r for r in dpo.get("/audit/transfers", params={"person": consent["person"]})
                                .json()["records"] if r["message_type"] == "receipt.v1"])
    assert (receipt[0]["decision"], receipt[0]["reasons"]) == ("withheld", ["consent_revoked"])
    assert _status(cm, transfer_id) == "delivered"  # the sender is not told after the revocation
