"""The admin pages of the web interface: dead letters, publishing a checklist version; axe-core on each.
On a hub of its own (created before the browser: its set-up runs the database's event loop)."""
from __future__ import annotations

from datetime import date

import pytest
import yaml

from tests.conftest import create_database, drop_database
from tests.e2e.browser import assert_accessible, browser, screenshot, sign_in  # noqa: F401
from tests.e2e.conftest import start_hub, stop_hub


@pytest.fixture(scope="module")
def own_hub(broker_bootstrap, tmp_path_factory):
    """A hub with a catalogue of its own: a published version must start after every earlier one, so a
    version published here would change what the other tests may publish on the session's hub."""
    url = create_database()
    hub = start_hub({"KIMHUB_DATABASE_URL": url, "KIMHUB_KAFKA_BOOTSTRAP": broker_bootstrap},
                    tmp_path_factory.mktemp("admin-hub"))
    yield hub
    stop_hub(hub)
    drop_database(url)


def test_admin_sees_dead_letters_and_publishes_a_checklist_version(own_hub, browser):
    page = browser.new_context().new_page()
    sign_in(page, own_hub.base_url, "admin.troisdorf-ebh")
    assert page.url.endswith("/ui/admin/fehlgeschlagen")
    assert_accessible(page)
    page.get_by_role("navigation").get_by_role("link", name="Checklisten").click()
    assert_accessible(page)
    page.get_by_label("Vorlage (YAML oder JSON)").fill("nur: [Text")
    page.get_by_role("button", name="Version veröffentlichen").click()
    page.get_by_text("Bitte eine Vorlage in YAML oder JSON angeben.").wait_for()
    with own_hub.client("cm.rsk") as cm:
        current = cm.get("/checklists/einbuergerung-stag-10").json()
    new = {**current, "version": current["version"] + 1, "valid_from": date.today().isoformat(),
           "review_note": "Neue Fassung (Test über die Weboberfläche)"}
    page.get_by_label("Vorlage (YAML oder JSON)").fill(yaml.safe_dump(new, allow_unicode=True))
    page.get_by_role("button", name="Version veröffentlichen").click()
    page.get_by_text("Die neue Version von „einbuergerung-stag-10“ ist veröffentlicht.").wait_for()
    with own_hub.client("cm.rsk") as cm:
        assert cm.get("/checklists/einbuergerung-stag-10").json()["version"] == current["version"] + 1
    assert_accessible(page)
    screenshot(page, "checklisten")
