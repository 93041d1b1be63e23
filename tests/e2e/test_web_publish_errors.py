"""Publishing a checklist version with mistakes: the admin reads in German which item, which field and what
is wrong, on the page and in the API's problem+json (it answered in English before). Nothing is published."""
from __future__ import annotations

import yaml

from tests.e2e.browser import assert_accessible, browser, sign_in  # noqa: F401

PROCEDURE = "einbuergerung-stag-10"


def _broken(current: dict) -> dict:
    items = [dict(i) for i in current["items"]]
    items[1]["documents"] = []
    items[2]["category"] = "urkunden"
    items[0]["applies_if"] = {"fact": "alter", "at_least": 16}
    return {**current, "version": current["version"] + 1, "valid_from": "2099-01-01", "items": items,
            "valid_until": "2098-01-01"}


def test_a_bad_template_is_explained_in_german_on_the_page(hub, browser):
    with hub.client("admin.troisdorf-ebh") as admin:
        current = admin.get(f"/checklists/{PROCEDURE}").json()
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "admin.troisdorf-ebh")
    page.goto(f"{hub.base_url}/ui/admin/checklisten")
    page.get_by_label("Vorlage (YAML oder JSON)").fill(yaml.safe_dump(_broken(current), allow_unicode=True))
    page.get_by_role("button", name="Version veröffentlichen").click()
    alert = page.get_by_role("alert")
    alert.get_by_text("Geeignete Unterlagen (documents) (Punkt 2): Die Liste darf nicht leer sein.").wait_for()
    assert alert.get_by_text("Datenkategorie des Punkts (category) (Punkt 3): Unbekannter Wert.").count() == 1
    assert alert.get_by_text("Bedingung des Punkts (applies_if) (Punkt 1): Unbekannte Angabe zum Fall „alter“").count() == 1
    assert_accessible(page)

    again = {**current, "review_note": current.get("review_note") or "Prüfvermerk"}
    page.get_by_label("Vorlage (YAML oder JSON)").fill(yaml.safe_dump(again, allow_unicode=True))
    page.get_by_role("button", name="Version veröffentlichen").click()
    page.get_by_role("alert").get_by_text(f"Version: {current['version']} ist bereits veröffentlicht").wait_for()


def test_the_api_names_the_same_problems_in_german(hub):
    with hub.client("admin.troisdorf-ebh") as admin:
        current = admin.get(f"/checklists/{PROCEDURE}").json()
        broken = admin.post(f"/checklists/{PROCEDURE}/versions", json=_broken(current))
        assert broken.status_code == 422, broken.text
        detail = broken.json()["detail"]
        assert "Geeignete Unterlagen (documents) (Punkt 2): Die Liste darf nicht leer sein." in detail, detail
        assert "invalid checklist template" not in detail and "item '" not in detail
        assert {e["field"] for e in broken.json()["errors"]} >= {"items.1.documents", "items.2.category"}
        period = admin.post(f"/checklists/{PROCEDURE}/versions",
                            json={**current, "version": current["version"] + 1, "valid_until": "2000-01-01"})
        assert "Das Ende der Gültigkeit (valid_until 2000-01-01) liegt vor ihrem Beginn" in period.json()["detail"]
        twice = admin.post(f"/checklists/{PROCEDURE}/versions", json=current)
        assert twice.status_code == 409 and "ist bereits veröffentlicht" in twice.json()["detail"]
        assert admin.get(f"/checklists/{PROCEDURE}").json()["version"] == current["version"]
