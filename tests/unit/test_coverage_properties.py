"""Property-based tests of the consent coverage rule (services/consent/domain.py).

Random consent histories and transfers are checked against an oracle written here from the
definition of the rule. The oracle deliberately uses none of the domain's helpers
(is_active, covered_categories, provision_covers_recipient, ...).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.agency import OfficeKind
from contracts.categories import DataCategory
from contracts.purposes import Purpose
from services.consent.domain import (
    ConsentVersion,
    Decision,
    ProvisionRule,
    ReasonCode,
    Recipient,
    TransferFacts,
    decide,
)

# --------------------------------------------------------------------------- pools

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)

PERSONS = ["p-" + "a" * 32, "p-" + "b" * 32]
SENDERS = ["kim-bonn", "kim-koeln"]
# office id -> kind; recipients and office provisions are drawn from here.
OFFICES = {
    "abh-bonn": OfficeKind.ABH,
    "abh-koeln": OfficeKind.ABH,
    "ebh-bonn": OfficeKind.EBH,
    "jc-bonn": OfficeKind.JOBCENTER,
    "ja-koeln": OfficeKind.JUGENDAMT,
    "kim-bonn": OfficeKind.KIM,
}
MUNICIPALITIES = ["05314000", "05315000", "05382000"]
CONSENT_IDS = ["c-1", "c-2", "c-3"]
CATEGORIES = [c.value for c in DataCategory]
PURPOSES = [p.value for p in Purpose]
KINDS = [k.value for k in OfficeKind]

# Instants around NOW, including the boundaries themselves and one microsecond either side.
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
INSTANTS = [NOW - 30 * _DAY, NOW - _DAY, NOW - _US, NOW, NOW + _US, NOW + _DAY, NOW + 30 * _DAY]

# --------------------------------------------------------------------------- strategies
#
# All strategies are built once, at import: building strategies inside @composite functions makes
# hypothesis slow. Random histories lean towards matching the transfer (its person, sender,
# recipient, purpose, categories; versions in force), so that allow, minimise and every refusal
# reason are all exercised often.


def subsets(pool: list[str], min_size: int = 0) -> st.SearchStrategy[frozenset[str]]:
    """Random subset of pool, drawn as one bitmask (much cheaper for hypothesis than st.frozensets)."""
    lowest = 1 if min_size else 0
    return st.integers(lowest, 2 ** len(pool) - 1).map(
        lambda mask: frozenset(x for i, x in enumerate(pool) if mask >> i & 1)
    )


category_sets = subsets(CATEGORIES, min_size=1)
maybe_category_sets = subsets(CATEGORIES)
purpose_sets = subsets(PURPOSES, min_size=1)
municipality_sets = subsets(MUNICIPALITIES)
# Starts (recorded_at, valid_from) lean to the past, ends (valid_until, superseded_at, revoked_at)
# lean to "none", so that a good share of versions is in force.
starts = st.sampled_from(INSTANTS[:4] * 3 + INSTANTS)
ends = st.sampled_from([None] * 12 + INSTANTS)
_BIAS = 6
_picks: dict[int, st.SearchStrategy[int]] = {}


def biased(draw, preferred, pool):
    """Mostly the preferred value (the one matching the transfer), sometimes anything from pool."""
    pick = _picks.setdefault(len(pool), st.integers(0, _BIAS + len(pool) - 1))
    i = draw(pick)
    return preferred if i < _BIAS else pool[i - _BIAS]


@st.composite
def transfers(draw) -> TransferFacts:
    office = draw(st.sampled_from(sorted(OFFICES)))
    recipient = Recipient(office=office, kind=OFFICES[office].value, competent_for=draw(municipality_sets))
    return TransferFacts(
        sender_office=draw(st.sampled_from(SENDERS)),
        person=draw(st.sampled_from(PERSONS)),
        recipient=recipient,
        purpose=draw(st.sampled_from(PURPOSES)),
        required_categories=draw(category_sets),  # a payload always has required fields
        optional_categories=draw(maybe_category_sets),
    )


def draw_provision(draw, facts: TransferFacts) -> ProvisionRule:
    r = facts.recipient
    purposes = draw(purpose_sets)
    if draw(st.booleans()):
        purposes |= {facts.purpose}
    categories = draw(category_sets)
    if draw(st.booleans()):
        categories |= facts.required_categories
    if draw(st.booleans()):
        return ProvisionRule(purposes=purposes, categories=categories, office=biased(draw, r.office, sorted(OFFICES)))
    return ProvisionRule(purposes=purposes, categories=categories, kind=biased(draw, r.kind, KINDS))


def draw_version(draw, facts: TransferFacts) -> ConsentVersion:
    home = sorted(facts.recipient.competent_for) or MUNICIPALITIES
    n_provisions = draw(st.integers(1, 3))
    return ConsentVersion(
        consent_id=draw(st.sampled_from(CONSENT_IDS)),
        version=draw(st.integers(min_value=1, max_value=3)),
        person=biased(draw, facts.person, PERSONS),
        recorded_office=biased(draw, facts.sender_office, SENDERS),
        municipality=biased(draw, home[0], MUNICIPALITIES),
        provisions=tuple(draw_provision(draw, facts) for _ in range(n_provisions)),
        valid_from=draw(starts),
        valid_until=draw(ends),
        recorded_at=draw(starts),
        superseded_at=draw(ends),
        revoked_at=draw(ends),
    )


@st.composite
def scenarios(draw) -> tuple[list[ConsentVersion], TransferFacts]:
    """A transfer and a (non-empty) consent history leaning towards, but not always, matching it."""
    facts = draw(transfers())
    versions: list[ConsentVersion] = []
    for _ in range(draw(st.integers(1, 5))):
        v = draw_version(draw, facts)
        # A consent version is identified by (consent_id, version): unique within one history.
        if all((v.consent_id, v.version) != (w.consent_id, w.version) for w in versions):
            versions.append(v)
    return versions, facts


# --------------------------------------------------------------------------- independent oracle


def oracle_active(v: ConsentVersion, now: datetime) -> bool:
    if v.recorded_at > now:
        return False
    if v.valid_from > now:
        return False
    if v.valid_until is not None and not (now < v.valid_until):
        return False
    if v.superseded_at is not None and not (now < v.superseded_at):
        return False
    if v.revoked_at is not None and not (now < v.revoked_at):
        return False
    return True


def oracle_candidates(versions: list[ConsentVersion], facts: TransferFacts, now: datetime) -> list[ConsentVersion]:
    """Versions that may be used at all: this person's, recorded by the sender, in force now."""
    return [
        v
        for v in versions
        if v.person == facts.person and v.recorded_office == facts.sender_office and oracle_active(v, now)
    ]


def oracle_allowed_categories(v: ConsentVersion, facts: TransferFacts) -> set[str]:
    """Union of the categories of v's provisions that name this recipient and this purpose."""
    r = facts.recipient
    allowed: set[str] = set()
    for p in v.provisions:
        names_recipient = (p.office is not None and p.office == r.office) or (
            p.office is None and p.kind == r.kind and v.municipality in r.competent_for
        )
        if names_recipient and facts.purpose in p.purposes:
            allowed.update(p.categories)
    return allowed


def find(versions: list[ConsentVersion], consent_id: str | None, version: int | None) -> ConsentVersion:
    matches = [v for v in versions if v.consent_id == consent_id and v.version == version]
    assert len(matches) == 1, f"decision names {consent_id} v{version}, which is not in the history"
    return matches[0]


PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- properties


@PROPERTY_SETTINGS
@given(scenario=scenarios())
def test_allowed_decision_is_backed_by_one_active_covering_version(scenario):
    versions, facts = scenario
    decision = decide(versions, facts, NOW)
    if not decision.allowed:
        return
    required, optional = set(facts.required_categories), set(facts.optional_categories)
    sent, removed = set(decision.sent_categories), set(decision.removed_categories)

    # some single version backs the whole transfer ...
    backing = [v for v in oracle_candidates(versions, facts, NOW) if sent <= oracle_allowed_categories(v, facts)]
    assert backing, "allowed, but no single active version of sender/person covers what is sent"
    # ... and it is the one the decision names
    chosen = find(versions, decision.consent_id, decision.consent_version)
    assert chosen in backing

    assert sent >= required
    assert not (sent & removed)
    assert sent | removed == required | optional
    assert removed == optional - oracle_allowed_categories(chosen, facts)
    assert decision.reasons == ()


@PROPERTY_SETTINGS
@given(scenario=scenarios())
def test_version_covering_everything_allows_without_removal(scenario):
    versions, facts = scenario
    everything = set(facts.required_categories | facts.optional_categories)
    if not any(everything <= oracle_allowed_categories(v, facts) for v in oracle_candidates(versions, facts, NOW)):
        return
    decision = decide(versions, facts, NOW)
    assert decision.allowed
    assert decision.removed_categories == frozenset()
    assert decision.sent_categories == frozenset(everything)


@PROPERTY_SETTINGS
@given(scenario=scenarios())
def test_required_categories_decide_allow_or_refuse(scenario):
    versions, facts = scenario
    candidates = oracle_candidates(versions, facts, NOW)
    coverage = [oracle_allowed_categories(v, facts) for v in candidates]
    covering = [c for c in coverage if set(facts.required_categories) <= c]
    decision = decide(versions, facts, NOW)
    if not covering:
        assert decision.allowed is False
        assert len(decision.reasons) >= 1
        assert decision.consent_id is None and decision.consent_version is None
        assert decision.sent_categories == frozenset()
    else:
        assert decision.allowed is True
        # minimisation: the chosen version removes as few optional categories as any covering one
        fewest_removed = min(len(facts.optional_categories - c) for c in covering)
        assert len(decision.removed_categories) == fewest_removed


@PROPERTY_SETTINGS
@given(scenario=scenarios(), revoked_at=st.sampled_from([NOW - 30 * _DAY, NOW - _US, NOW]))
def test_revoking_every_version_of_sender_and_person_refuses_everything(scenario, revoked_at):
    versions, facts = scenario

    def revoke(v: ConsentVersion) -> ConsentVersion:
        if v.person == facts.person and v.recorded_office == facts.sender_office:
            earliest = revoked_at if v.revoked_at is None else min(v.revoked_at, revoked_at)
            return replace(v, revoked_at=earliest)
        return v

    revoked = [revoke(v) for v in versions]
    decision = decide(revoked, facts, NOW)
    assert decision.allowed is False
    assert decision.reasons
    mine = [v for v in revoked if v.person == facts.person and v.recorded_office == facts.sender_office]
    expected_codes = {ReasonCode.CONSENT_REVOKED} if mine else {ReasonCode.NO_CONSENT}
    assert {r.code for r in decision.reasons} == expected_codes


@PROPERTY_SETTINGS
@given(data=st.data(), scenario=scenarios())
def test_decision_is_deterministic_and_independent_of_version_order(data, scenario):
    versions, facts = scenario
    decision = decide(versions, facts, NOW)
    assert isinstance(decision, Decision)
    assert decide(list(versions), facts, NOW) == decision
    assert decide(list(reversed(versions)), facts, NOW) == decision
    shuffled = data.draw(st.permutations(versions), label="shuffled")
    assert decide(shuffled, facts, NOW) == decision
