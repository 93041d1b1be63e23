"""Revocation followed up through the hub's processes (issue 17): a revocation after delivery reaches
the office as a notice; its clerks list it, reading the item is refused naming the notice; the office
confirms deletion (the item is gone) or keeps an item on a legal basis (readable again); the case
manager sees the open confirmation, the data-protection officer sees it closed and each step logged.
"""
from __future__ import annotations

from tests.e2e.conftest import assert_problem, consent_body, referral, wait_for


def _delivered_then_revoked(cm) -> tuple[dict, str]:
    consent = cm.post("/consents", json=consent_body()).json()
    transfer_id = cm.post("/transfers", json=referral(consent["person"])).json()["transfer_id"]
    wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered")
    assert cm.post(f"/consents/{consent['consent_id']}/revocation", json={"method": "schriftlich"}).status_code == 200
    return consent, transfer_id


def _notice(clerk, person: str) -> dict:
    return wait_for(lambda: next((n for n in clerk.get("/revocation-notices").json()["notices"]
                                  if n["person"] == person), None), timeout=30)


def test_revoke_notice_refused_read_confirm_deleted_and_the_dpo_sees_it_closed(hub, cm, dpo):
    consent, transfer_id = _delivered_then_revoked(cm)
    person = consent["person"]
    with hub.client("clerk.troisdorf-abh") as clerk, hub.client("clerk.rsk-abh") as other:
        notice = _notice(clerk, person)
        assert (notice["state"], notice["change"], notice["consent_id"]) == ("open", "revoked", consent["consent_id"])
        assert [t["transfer_id"] for t in notice["transfers"]] == [transfer_id]
        refused = assert_problem(clerk.get(f"/inbox/{transfer_id}"), 403)
        assert refused["notice_id"] == notice["notice_id"] and notice["notice_id"] in refused["detail"]
        assert other.get(f"/revocation-notices/{notice['notice_id']}").status_code == 404
        waiting = cm.get(f"/persons/{person}/timeline").json()["open_confirmations"]
        assert [(w["notice_id"], w["office"]) for w in waiting] == [(notice["notice_id"], "troisdorf-abh")]
        assert notice["notice_id"] in str(dpo.get("/audit/revocation-notices", params={"state": "open"}).json())

        url = f"/revocation-notices/{notice['notice_id']}/confirmation"
        problem = assert_problem(clerk.post(url, json={"outcome": "kept"}), 422)
        assert "Rechtsgrundlage" in problem["detail"]
        answered = clerk.post(url, json={"outcome": "deleted"})
        assert answered.status_code == 200 and answered.json()["state"] == "deleted"
        assert_problem(clerk.post(url, json={"outcome": "deleted"}), 409)
        gone = assert_problem(clerk.get(f"/inbox/{transfer_id}"), 410)
        assert "gelöscht" in gone["detail"]

    closed = wait_for(lambda: [n for n in dpo.get("/audit/revocation-notices").json()["notices"]
                               if n["notice_id"] == notice["notice_id"] and n["state"] == "deleted"], timeout=30)
    assert closed[0]["confirmed_by"] == "clerk.troisdorf-abh"
    assert cm.get(f"/persons/{person}/timeline").json()["open_confirmations"] == []
    log = dpo.get("/audit/transfers", params={"person": person, "kind": "revocation"}).json()["records"]
    assert [r["decision"] for r in log] == ["notice_sent", "confirmed_deleted"]
    with hub.client("dpo.me") as other_dpo:  # another controller's DPO sees none of it
        assert notice["notice_id"] not in str(other_dpo.get("/audit/revocation-notices").json())


def test_kept_on_a_legal_basis_reads_again(hub, cm, dpo):
    consent, transfer_id = _delivered_then_revoked(cm)
    with hub.client("clerk.troisdorf-abh") as clerk:
        notice = _notice(clerk, consent["person"])
        answered = clerk.post(f"/revocation-notices/{notice['notice_id']}/confirmation",
                              json={"outcome": "kept", "legal_basis": "§ 86 AufenthG"})
        assert answered.status_code == 200, answered.text
        item = clerk.get(f"/inbox/{transfer_id}")
        assert item.status_code == 200 and item.json()["payload"]["reason"]
    wait_for(lambda: [n for n in dpo.get("/audit/revocation-notices", params={"state": "kept"}).json()["notices"]
                      if n["notice_id"] == notice["notice_id"] and n["legal_basis"] == "§ 86 AufenthG"], timeout=30)
