"""A revocation that commits between request and delivery withholds the message.

Production-shaped: the gateway runs alone first (so nothing is relayed yet), the consent is
revoked, then relay, gate and delivery start as their own process. Own database and broker, so
the session hub's consumers cannot take these messages.
"""

from tests.e2e.conftest import consent_body, referral, start_hub, stop_hub, wait_for


def test_revocation_between_request_and_delivery_withholds(isolated, tmp_path):
    gateway = start_hub(isolated, tmp_path / "gateway", args=("serve", "gateway"))
    workers = None
    try:
        with gateway.client("cm.rsk") as cm, gateway.client("dpo") as dpo:
            revoked = cm.post("/consents", json=consent_body()).json()
            kept = cm.post("/consents", json=consent_body()).json()
            t_revoked = cm.post("/transfers", json=referral(revoked["person"])).json()["transfer_id"]
            t_kept = cm.post("/transfers", json=referral(kept["person"])).json()["transfer_id"]
            assert cm.post(f"/consents/{revoked['consent_id']}/revocation",
                           json={"method": "schriftlich"}).status_code == 200
            assert cm.get(f"/transfers/{t_revoked}").json()["status"] == "requested"

            workers = start_hub(isolated, tmp_path / "workers", args=("serve", "relay", "gate", "delivery"))
            status = wait_for(lambda: (s := cm.get(f"/transfers/{t_revoked}").json())["status"] != "requested" and s,
                              timeout=60)
            assert status["status"] == "withheld"
            assert [r["code"] for r in status["reasons"]] == ["consent_revoked"]
            wait_for(lambda: cm.get(f"/transfers/{t_kept}").json()["status"] == "delivered", timeout=30)

            log = dpo.get("/audit/transfers", params={"person": revoked["person"]}).json()
            assert [(r["decision"], r["stage"], r["reasons"], r["consent_id"], r["consent_version"])
                    for r in log["records"]] == [
                ("withheld", "delivery", ["consent_revoked"], revoked["consent_id"], 1)]
        with gateway.client("clerk.troisdorf-abh") as clerk:
            inbox = wait_for(lambda: clerk.get("/inbox").json()["items"])
            assert [i["transfer_id"] for i in inbox] == [t_kept]
    finally:
        if workers:
            stop_hub(workers)
        stop_hub(gateway)
