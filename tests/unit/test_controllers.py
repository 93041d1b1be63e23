"""Each office's controller comes from the directory: the Kreis (first five digits of the AGS) of the
municipalities it serves; a dead letter belongs to the office its topic or its CloudEvent names."""
import pytest

from contracts.agency import DirectoryFile
from services.admin.scope import office_named, visible
from services.directory.model import Directory, DirectoryError, load_directory
from tests.conftest import ROOT_DIR

DEMO = load_directory(ROOT_DIR / "services/directory/data/directory.demo.yaml")


def test_offices_belong_to_the_kreis_of_the_municipalities_they_serve():
    assert DEMO.controller_of("troisdorf-abh") == DEMO.controller_of("rsk-kim") == "05382"
    assert DEMO.controller_of("me-abh") == "05158" and DEMO.controller_names["05158"] == "Kreis Mettmann"
    assert "troisdorf-jugendamt" in DEMO.same_controller("rsk-kim")
    assert not DEMO.same_controller("me-kim") & DEMO.same_controller("rsk-kim")
    assert DEMO.same_controller("nowhere") == frozenset({"nowhere"})


def test_an_office_serving_two_kreise_is_refused():
    data = DirectoryFile.model_validate({"offices": [{"id": "x-abh", "kind": "abh", "name": "X"}], "regions": [
        {"name": "A", "default_offices": {"abh": "x-abh"}, "municipalities": [{"key": "05382004", "name": "a"}]},
        {"name": "B", "default_offices": {"abh": "x-abh"}, "municipalities": [{"key": "05158004", "name": "b"}]}]})
    with pytest.raises(DirectoryError, match="several Kreise"):
        Directory.from_file(data)


def test_a_dead_letter_belongs_to_the_office_it_names():
    mettmann = DEMO.same_controller("me-kim")
    assert office_named("agency.me-abh.inbox.v1", {"ce_recipientoffice": "rsk-abh"}) == "me-abh"
    assert visible("agency.me-abh.inbox.v1", {}, mettmann)
    assert not visible("agency.rsk-abh.inbox.v1", {}, mettmann)
    assert not visible("kim.transfer.requested.v1", {"ce_recipientoffice": "troisdorf-abh"}, mettmann)
    assert visible("kim.transfer.requested.v1", {}, mettmann)  # names no office: the joint operation's
