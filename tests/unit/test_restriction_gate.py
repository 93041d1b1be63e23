"""Art. 18 at the gate, with fake ports: a restricted person is refused whatever the legal basis, on a
statutory route (its own query) and under consent (read with the consents, one query)."""
from datetime import datetime, timezone

from services.directory.model import load_directory
from services.gate.evaluate import Question, evaluate_many
from services.gate.minimise import PayloadCategories
from services.kernel.settings import Settings

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
CATS = PayloadCategories({"falldaten": ("reason",)}, {})
DIRECTORY = load_directory(Settings().directory_file)


class Consents:
    def __init__(self):
        self.asked = []

    async def versions_for_many(self, persons, offices):
        self.asked.append("versions")
        return {}

    async def versions_and_restrictions(self, persons, offices, restricted_of):
        self.asked.append("versions_and_restrictions")
        return {}, {"p-restricted"} & set(restricted_of)


class Restrictions:
    def __init__(self):
        self.asked = 0

    async def restricted(self, persons):
        self.asked += 1
        return {"p-restricted"} & set(persons)


def notice(person: str) -> Question:
    return Question("troisdorf-ebh", person, "troisdorf-abh", "einbuergerung", CATS, "notice.einbuergerung.v1")


def referral(person: str) -> Question:
    return Question("rsk-kim", person, "troisdorf-abh", "aufenthaltsperspektive", CATS)


async def test_a_statutory_route_is_refused_for_a_restricted_person():
    consents, restrictions = Consents(), Restrictions()
    kept, refused = await evaluate_many(consents, DIRECTORY, [notice("p-other"), notice("p-restricted")], NOW,
                                        restrictions)
    assert kept.allowed and not refused.allowed
    assert refused.reason_codes() == ("processing_restricted",) and "Art. 18 DSGVO" in refused.reasons()[0]["message"]
    assert (consents.asked, restrictions.asked) == ([], 1)


async def test_under_consent_the_restriction_is_read_with_the_consents():
    consents, restrictions = Consents(), Restrictions()
    [ev] = await evaluate_many(consents, DIRECTORY, [referral("p-restricted")], NOW, restrictions)
    assert "processing_restricted" in ev.reason_codes()
    assert (consents.asked, restrictions.asked) == (["versions_and_restrictions"], 0)
    [ev] = await evaluate_many(consents, DIRECTORY, [referral("p-restricted")], NOW)  # no port: not checked
    assert "processing_restricted" not in ev.reason_codes() and consents.asked[-1] == "versions"
