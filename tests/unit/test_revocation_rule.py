"""Who hears of a revocation or narrowing, about which transfers (services/gate/revocation.py, pure)."""
from __future__ import annotations

from datetime import datetime, timezone

from services.consent.domain import ConsentVersion, ProvisionRule, Recipient
from services.gate.revocation import Affected, Delivered, no_longer_covered

UTC = timezone.utc
NOW = datetime(2026, 1, 1, tzinfo=UTC)
PERSON = "p-" + "a" * 32
BONN = "05314000"
PARTIES = {"kim-bonn": Recipient("kim-bonn", "kim", frozenset({BONN})),
           "abh-bonn": Recipient("abh-bonn", "abh", frozenset({BONN})),
           "jc-bonn": Recipient("jc-bonn", "jobcenter", frozenset({BONN}))}
PURPOSE = "aufenthaltsperspektive"


def delivered(transfer_id: str, office: str, *categories: str) -> Delivered:
    return Delivered(transfer_id, "kim-bonn", office, PERSON, PURPOSE, frozenset(categories), 1)


def version(*provisions: ProvisionRule, valid_from: datetime = datetime(2025, 1, 1, tzinfo=UTC)) -> ConsentVersion:
    return ConsentVersion("c-1", 2, PERSON, "kim-bonn", BONN, provisions, valid_from, None,
                          datetime(2025, 6, 1, tzinfo=UTC))


def to(kind: str, *categories: str, purposes=(PURPOSE,)) -> ProvisionRule:
    return ProvisionRule(frozenset(purposes), frozenset(categories), kind=kind)


def rule(transfers, latest, noticed=None):
    return no_longer_covered(transfers, latest, PARTIES.__getitem__, noticed or {}, NOW)


def test_a_revocation_names_every_transfer_with_all_its_categories_per_office():
    out = rule([delivered("t-2", "abh-bonn", "stammdaten", "falldaten"), delivered("t-1", "jc-bonn", "falldaten")],
               None)
    assert out == {"abh-bonn": [Affected("t-2", "abh-bonn", 1, PURPOSE, ("falldaten", "stammdaten"))],
                   "jc-bonn": [Affected("t-1", "jc-bonn", 1, PURPOSE, ("falldaten",))]}


def test_a_narrowing_names_only_transfers_that_carried_a_dropped_category():
    latest = version(to("abh", "falldaten"), to("jobcenter", "falldaten"))
    out = rule([delivered("t-1", "abh-bonn", "stammdaten", "falldaten"), delivered("t-2", "abh-bonn", "falldaten"),
                delivered("t-3", "jc-bonn", "falldaten")], latest)
    assert out == {"abh-bonn": [Affected("t-1", "abh-bonn", 1, PURPOSE, ("stammdaten",))]}


def test_an_office_or_purpose_that_fell_out_takes_every_category():
    assert rule([delivered("t-1", "jc-bonn", "falldaten")], version(to("abh", "falldaten")))["jc-bonn"][0].categories \
        == ("falldaten",)
    other_purpose = version(to("abh", "falldaten", purposes=("einbuergerung",)))
    assert rule([delivered("t-1", "abh-bonn", "falldaten")], other_purpose)["abh-bonn"][0].categories == ("falldaten",)


def test_a_version_not_yet_valid_covers_nothing():
    later = version(to("abh", "falldaten"), valid_from=datetime(2027, 1, 1, tzinfo=UTC))
    assert rule([delivered("t-1", "abh-bonn", "falldaten")], later) == {
        "abh-bonn": [Affected("t-1", "abh-bonn", 1, PURPOSE, ("falldaten",))]}


def test_categories_an_earlier_notice_named_are_not_named_again():
    transfers = [delivered("t-1", "abh-bonn", "stammdaten", "falldaten")]
    assert rule(transfers, None, {"t-1": frozenset({"stammdaten"})}) == {
        "abh-bonn": [Affected("t-1", "abh-bonn", 1, PURPOSE, ("falldaten",))]}
    assert rule(transfers, None, {"t-1": frozenset({"stammdaten", "falldaten"})}) == {}
