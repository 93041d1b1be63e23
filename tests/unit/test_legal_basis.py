"""The legal basis a transfer is logged and delivered with names only the articles that apply."""
from services.consent.domain import Decision
from services.gate.evaluate import Evaluation
from services.gate.minimise import PayloadCategories

CATS = PayloadCategories({"falldaten": ("reason",)}, {"besondere_kategorien": ("health_notes",)})


def test_art_9_only_when_art_9_data_goes():
    without = Evaluation(Decision(True, "c-1", 1, frozenset({"falldaten"}), frozenset({"besondere_kategorien"})), CATS)
    with_ = Evaluation(Decision(True, "c-1", 1, frozenset({"falldaten", "besondere_kategorien"})), CATS)
    assert without.legal_basis == "Einwilligung: Art. 6 Abs. 1 lit. a DSGVO"
    assert with_.legal_basis == "Einwilligung: Art. 6 Abs. 1 lit. a, Art. 9 Abs. 2 lit. a DSGVO"
    assert Evaluation(Decision(False), CATS).legal_basis == "Einwilligung: Art. 6 Abs. 1 lit. a DSGVO"  # nothing went


def test_a_statutory_route_names_its_statute():
    ev = Evaluation(Decision(True, sent_categories=frozenset({"besondere_kategorien"})), CATS, statute="§ 73 AufenthV")
    assert ev.legal_basis == "§ 73 AufenthV"
