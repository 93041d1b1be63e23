"""Example-based tests of the consent coverage rule (services/consent/domain.py).

One test per rule or edge. All clocks are fixed, aware UTC datetimes; nothing reads the wall clock.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from contracts.agency import OfficeKind
from contracts.categories import DataCategory as C
from contracts.purposes import Purpose as P
from services.consent.domain import (
    ConsentVersion,
    Decision,
    ProvisionRule,
    Reason,
    ReasonCode,
    Recipient,
    TransferFacts,
    decide,
)

# --------------------------------------------------------------------------- fixtures & builders

UTC = timezone.utc
T_GRANTED = datetime(2025, 6, 1, tzinfo=UTC)  # consent recorded and valid from here
T_AMENDED = datetime(2025, 9, 1, tzinfo=UTC)  # amendment recorded here
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # decision time
LATER = datetime(2026, 6, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)

PERSON = "p-" + "a" * 32
OTHER_PERSON = "p-" + "b" * 32

SENDER = "kim-bonn"  # case-management office that records consents
OTHER_SENDER = "kim-koeln"

BONN = "05314000"
KOELN = "05315000"

ABH_BONN = Recipient(office="abh-bonn", kind=OfficeKind.ABH, competent_for=frozenset({BONN}))
ABH_KOELN = Recipient(office="abh-koeln", kind=OfficeKind.ABH, competent_for=frozenset({KOELN}))
JOBCENTER_BONN = Recipient(office="jc-bonn", kind=OfficeKind.JOBCENTER, competent_for=frozenset({BONN}))


def to_kind(kind: OfficeKind, purposes=(P.AUFENTHALTSPERSPEKTIVE,), categories=(C.STAMMDATEN,)) -> ProvisionRule:
    return ProvisionRule(purposes=frozenset(purposes), categories=frozenset(categories), kind=kind)


def to_office(office: str, purposes=(P.AUFENTHALTSPERSPEKTIVE,), categories=(C.STAMMDATEN,)) -> ProvisionRule:
    return ProvisionRule(purposes=frozenset(purposes), categories=frozenset(categories), office=office)


def consent(
    *provisions: ProvisionRule,
    consent_id: str = "c-1",
    version: int = 1,
    person: str = PERSON,
    recorded_office: str = SENDER,
    municipality: str = BONN,
    valid_from: datetime = T_GRANTED,
    valid_until: datetime | None = None,
    recorded_at: datetime = T_GRANTED,
    superseded_at: datetime | None = None,
    revoked_at: datetime | None = None,
) -> ConsentVersion:
    if not provisions:
        provisions = (to_kind(OfficeKind.ABH),)
    return ConsentVersion(
        consent_id=consent_id,
        version=version,
        person=person,
        recorded_office=recorded_office,
        municipality=municipality,
        provisions=tuple(provisions),
        valid_from=valid_from,
        valid_until=valid_until,
        recorded_at=recorded_at,
        superseded_at=superseded_at,
        revoked_at=revoked_at,
    )


def transfer(
    required=(C.STAMMDATEN,),
    optional=(),
    *,
    recipient: Recipient = ABH_BONN,
    purpose: str = P.AUFENTHALTSPERSPEKTIVE,
    person: str = PERSON,
    sender: str = SENDER,
) -> TransferFacts:
    return TransferFacts(
        sender_office=sender,
        person=person,
        recipient=recipient,
        purpose=purpose,
        required_categories=frozenset(required),
        optional_categories=frozenset(optional),
    )


def refused(code: ReasonCode, consent_id: str | None = "c-1", version: int | None = 1, categories=()) -> Decision:
    if code is ReasonCode.NO_CONSENT:
        consent_id, version = None, None
    return Decision(False, reasons=(Reason(code, consent_id, version, tuple(categories)),))


def allowed(sent, removed=(), consent_id: str = "c-1", version: int = 1) -> Decision:
    return Decision(True, consent_id, version, frozenset(sent), frozenset(removed))


# --------------------------------------------------------------------------- baseline


def test_matching_active_consent_allows_transfer():
    assert decide([consent()], transfer(), NOW) == allowed({C.STAMMDATEN})


# --------------------------------------------------------------------------- whose consent counts


def test_no_consent_at_all_refuses_with_no_consent():
    assert decide([], transfer(), NOW) == refused(ReasonCode.NO_CONSENT)


def test_consent_recorded_by_another_office_does_not_count():
    versions = [consent(recorded_office=OTHER_SENDER)]
    assert decide(versions, transfer(), NOW) == refused(ReasonCode.NO_CONSENT)


def test_consent_of_another_person_does_not_count():
    versions = [consent(person=OTHER_PERSON)]
    assert decide(versions, transfer(), NOW) == refused(ReasonCode.NO_CONSENT)


def test_own_consent_counts_even_among_unrelated_ones():
    versions = [
        consent(consent_id="c-other-person", person=OTHER_PERSON),
        consent(consent_id="c-other-office", recorded_office=OTHER_SENDER),
        consent(consent_id="c-mine"),
    ]
    assert decide(versions, transfer(), NOW) == allowed({C.STAMMDATEN}, consent_id="c-mine")


# --------------------------------------------------------------------------- validity period


def test_consent_expiring_exactly_now_is_expired():
    versions = [consent(valid_until=NOW)]
    assert decide(versions, transfer(), NOW) == refused(ReasonCode.CONSENT_EXPIRED)


def test_consent_expiring_just_after_now_is_still_active():
    versions = [consent(valid_until=NOW + TICK)]
    assert decide(versions, transfer(), NOW) == allowed({C.STAMMDATEN})


def test_consent_expired_long_ago_is_expired():
    versions = [consent(valid_until=NOW - timedelta(days=30))]
    assert decide(versions, transfer(), NOW) == refused(ReasonCode.CONSENT_EXPIRED)


def test_consent_valid_from_the_future_is_not_yet_valid():
    versions = [consent(valid_from=NOW + TICK)]
    assert decide(versions, transfer(), NOW) == refused(ReasonCode.CONSENT_NOT_YET_VALID)


def test_consent_valid_from_exactly_now_is_active():
    versions = [consent(valid_from=NOW)]
    assert decide(versions, transfer(), NOW) == allowed({C.STAMMDATEN})


def test_consent_recorded_after_now_is_not_yet_valid():
    versions = [consent(recorded_at=NOW + TICK)]
    assert decide(versions, transfer(), NOW) == refused(ReasonCode.CONSENT_NOT_YET_VALID)


# --------------------------------------------------------------------------- revocation


def test_consent_revoked_exactly_now_refuses():
    versions = [consent(revoked_at=NOW)]
    assert decide(versions, transfer(), NOW) == refused(ReasonCode.CONSENT_REVOKED)


def test_consent_revoked_before_now_refuses():
    versions = [consent(revoked_at=NOW - timedelta(days=1))]
    assert decide(versions, transfer(), NOW) == refused(ReasonCode.CONSENT_REVOKED)


def test_consent_revoked_after_now_is_still_active():
    versions = [consent(revoked_at=NOW + TICK)]
    assert decide(versions, transfer(), NOW) == allowed({C.STAMMDATEN})


def test_revocation_takes_precedence_over_expiry_in_the_reason():
    versions = [consent(valid_until=NOW - timedelta(days=2), revoked_at=NOW - timedelta(days=1))]
    assert decide(versions, transfer(), NOW) == refused(ReasonCode.CONSENT_REVOKED)


# --------------------------------------------------------------------------- amendments


def _amended_pair(old_categories, new_categories) -> list[ConsentVersion]:
    v1 = consent(to_kind(OfficeKind.ABH, categories=old_categories), version=1, superseded_at=T_AMENDED)
    v2 = consent(to_kind(OfficeKind.ABH, categories=new_categories), version=2, recorded_at=T_AMENDED)
    return [v1, v2]


def test_superseded_version_no_longer_counts_after_amendment():
    # v1 would have allowed Sozialdaten; only v2 (Stammdaten) is in force now.
    versions = _amended_pair(old_categories={C.SOZIALDATEN}, new_categories={C.STAMMDATEN})
    decision = decide(versions, transfer(required={C.SOZIALDATEN}), NOW)
    assert decision == refused(ReasonCode.CATEGORY_NOT_COVERED, version=2, categories=(C.SOZIALDATEN,))


def test_new_version_counts_after_amendment():
    versions = _amended_pair(old_categories={C.STAMMDATEN}, new_categories={C.SOZIALDATEN})
    assert decide(versions, transfer(required={C.SOZIALDATEN}), NOW) == allowed({C.SOZIALDATEN}, version=2)


def test_superseded_version_still_counts_before_the_amendment_was_recorded():
    versions = _amended_pair(old_categories={C.STAMMDATEN}, new_categories={C.SOZIALDATEN})
    before = T_AMENDED - TICK
    assert decide(versions, transfer(required={C.STAMMDATEN}), before) == allowed({C.STAMMDATEN}, version=1)


def test_superseded_exactly_now_no_longer_counts():
    versions = _amended_pair(old_categories={C.STAMMDATEN}, new_categories={C.SOZIALDATEN})
    decision = decide(versions, transfer(required={C.STAMMDATEN}), T_AMENDED)
    assert decision == refused(ReasonCode.CATEGORY_NOT_COVERED, version=2, categories=(C.STAMMDATEN,))


def test_amendment_that_narrows_categories_refuses_what_old_version_allowed():
    versions = _amended_pair(
        old_categories={C.STAMMDATEN, C.BESONDERE_KATEGORIEN},
        new_categories={C.STAMMDATEN},
    )
    facts = transfer(required={C.STAMMDATEN, C.BESONDERE_KATEGORIEN})
    assert decide(versions, facts, T_AMENDED - TICK) == allowed(facts.required_categories, version=1)
    assert decide(versions, facts, NOW) == refused(
        ReasonCode.CATEGORY_NOT_COVERED, version=2, categories=(C.BESONDERE_KATEGORIEN,)
    )


def test_only_versions_of_revoked_consent_reports_the_latest_version():
    v1 = consent(version=1, superseded_at=T_AMENDED, revoked_at=NOW - timedelta(days=1))
    v2 = consent(version=2, recorded_at=T_AMENDED, revoked_at=NOW - timedelta(days=1))
    assert decide([v1, v2], transfer(), NOW) == refused(ReasonCode.CONSENT_REVOKED, version=2)


# --------------------------------------------------------------------------- recipient


def test_provision_for_specific_office_covers_that_office():
    versions = [consent(to_office("abh-bonn"))]
    assert decide(versions, transfer(recipient=ABH_BONN), NOW) == allowed({C.STAMMDATEN})


def test_provision_for_specific_office_covers_it_even_outside_the_consent_municipality():
    # A named office is covered by name; jurisdiction only matters for kind provisions.
    versions = [consent(to_office("abh-koeln"), municipality=BONN)]
    assert decide(versions, transfer(recipient=ABH_KOELN), NOW) == allowed({C.STAMMDATEN})


def test_provision_for_specific_office_does_not_cover_another_office_of_same_kind():
    versions = [consent(to_office("abh-koeln"))]
    decision = decide(versions, transfer(recipient=ABH_BONN), NOW)
    assert decision == refused(ReasonCode.RECIPIENT_NOT_COVERED)


def test_provision_for_office_kind_covers_competent_office_of_that_kind():
    versions = [consent(to_kind(OfficeKind.ABH), municipality=BONN)]
    assert decide(versions, transfer(recipient=ABH_BONN), NOW) == allowed({C.STAMMDATEN})


def test_kind_provision_with_recipient_not_competent_for_municipality_is_other_jurisdiction():
    versions = [consent(to_kind(OfficeKind.ABH), municipality=BONN)]
    decision = decide(versions, transfer(recipient=ABH_KOELN), NOW)
    assert decision == refused(ReasonCode.OTHER_JURISDICTION)


def test_kind_provision_for_wrong_kind_is_recipient_not_covered():
    versions = [consent(to_kind(OfficeKind.ABH))]
    decision = decide(versions, transfer(recipient=JOBCENTER_BONN), NOW)
    assert decision == refused(ReasonCode.RECIPIENT_NOT_COVERED)


# --------------------------------------------------------------------------- purpose


def test_purpose_not_covered_refuses():
    versions = [consent(to_kind(OfficeKind.ABH, purposes={P.EINBUERGERUNG}))]
    decision = decide(versions, transfer(purpose=P.AUFENTHALTSPERSPEKTIVE), NOW)
    assert decision == refused(ReasonCode.PURPOSE_NOT_COVERED)


def test_purpose_of_provision_for_another_recipient_does_not_count():
    versions = [
        consent(
            to_kind(OfficeKind.ABH, purposes={P.EINBUERGERUNG}),
            to_kind(OfficeKind.JOBCENTER, purposes={P.AUFENTHALTSPERSPEKTIVE}),
        )
    ]
    decision = decide(versions, transfer(purpose=P.AUFENTHALTSPERSPEKTIVE), NOW)
    assert decision == refused(ReasonCode.PURPOSE_NOT_COVERED)


def test_one_of_several_purposes_suffices():
    versions = [consent(to_kind(OfficeKind.ABH, purposes={P.EINBUERGERUNG, P.AUFENTHALTSPERSPEKTIVE}))]
    assert decide(versions, transfer(purpose=P.EINBUERGERUNG), NOW) == allowed({C.STAMMDATEN})


# --------------------------------------------------------------------------- categories


def test_missing_required_categories_are_named_exactly_and_sorted():
    versions = [consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN, C.FALLDATEN}))]
    facts = transfer(required={C.STAMMDATEN, C.SOZIALDATEN, C.BESONDERE_KATEGORIEN, C.FALLDATEN})
    assert decide(versions, facts, NOW) == refused(
        ReasonCode.CATEGORY_NOT_COVERED, categories=("besondere_kategorien", "sozialdaten")
    )


def test_uncovered_optional_category_is_removed_not_sent():
    versions = [consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN, C.FALLDATEN}))]
    facts = transfer(required={C.FALLDATEN}, optional={C.STAMMDATEN, C.BESONDERE_KATEGORIEN, C.DOKUMENTE})
    assert decide(versions, facts, NOW) == allowed(
        sent={C.FALLDATEN, C.STAMMDATEN}, removed={C.BESONDERE_KATEGORIEN, C.DOKUMENTE}
    )


def test_fully_covered_optional_categories_are_all_sent():
    versions = [consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN, C.FALLDATEN, C.DOKUMENTE}))]
    facts = transfer(required={C.FALLDATEN}, optional={C.STAMMDATEN, C.DOKUMENTE})
    assert decide(versions, facts, NOW) == allowed(sent={C.FALLDATEN, C.STAMMDATEN, C.DOKUMENTE})


def test_categories_combine_across_provisions_of_one_version():
    versions = [
        consent(
            to_kind(OfficeKind.ABH, categories={C.STAMMDATEN}),
            to_office("abh-bonn", categories={C.FALLDATEN}),
        )
    ]
    facts = transfer(required={C.STAMMDATEN, C.FALLDATEN})
    assert decide(versions, facts, NOW) == allowed({C.STAMMDATEN, C.FALLDATEN})


def test_categories_of_provision_for_other_purpose_are_not_combined():
    versions = [
        consent(
            to_kind(OfficeKind.ABH, categories={C.STAMMDATEN}),
            to_kind(OfficeKind.ABH, purposes={P.EINBUERGERUNG}, categories={C.FALLDATEN}),
        )
    ]
    facts = transfer(required={C.STAMMDATEN, C.FALLDATEN})
    assert decide(versions, facts, NOW) == refused(ReasonCode.CATEGORY_NOT_COVERED, categories=(C.FALLDATEN,))


def test_categories_never_combine_across_two_consents():
    versions = [
        consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN}), consent_id="c-1"),
        consent(to_kind(OfficeKind.ABH, categories={C.FALLDATEN}), consent_id="c-2"),
    ]
    decision = decide(versions, transfer(required={C.STAMMDATEN, C.FALLDATEN}), NOW)
    # Each consent misses exactly one category (equally close); the lowest consent id explains it.
    assert decision == refused(ReasonCode.CATEGORY_NOT_COVERED, consent_id="c-1", categories=(C.FALLDATEN,))


def test_categories_never_combine_across_two_versions_of_one_consent():
    # Overlapping validity of two versions (v1 not marked superseded) must still not be merged.
    versions = [
        consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN}), version=1),
        consent(to_kind(OfficeKind.ABH, categories={C.FALLDATEN}), version=2, recorded_at=T_AMENDED),
    ]
    decision = decide(versions, transfer(required={C.STAMMDATEN, C.FALLDATEN}), NOW)
    assert decision.allowed is False
    assert [r.code for r in decision.reasons] == [ReasonCode.CATEGORY_NOT_COVERED]


def test_optional_categories_are_not_filled_in_from_another_consent():
    versions = [
        consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN}), consent_id="c-1"),
        consent(to_kind(OfficeKind.ABH, categories={C.DOKUMENTE}), consent_id="c-2"),
    ]
    facts = transfer(required={C.STAMMDATEN}, optional={C.DOKUMENTE})
    assert decide(versions, facts, NOW) == allowed({C.STAMMDATEN}, removed={C.DOKUMENTE}, consent_id="c-1")


# --------------------------------------------------------------------------- choice between versions


def test_version_removing_fewest_optional_categories_is_chosen():
    versions = [
        consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN}), consent_id="c-narrow"),
        consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN, C.DOKUMENTE, C.FALLDATEN}), consent_id="c-wide"),
        consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN, C.DOKUMENTE}), consent_id="c-middle"),
    ]
    facts = transfer(required={C.STAMMDATEN}, optional={C.DOKUMENTE, C.FALLDATEN})
    expected = allowed({C.STAMMDATEN, C.DOKUMENTE, C.FALLDATEN}, consent_id="c-wide")
    assert decide(versions, facts, NOW) == expected
    assert decide(list(reversed(versions)), facts, NOW) == expected


def test_covering_version_wins_over_non_covering_one():
    versions = [
        consent(to_kind(OfficeKind.ABH, categories={C.FALLDATEN}), consent_id="c-1"),
        consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN}), consent_id="c-2", version=3),
    ]
    assert decide(versions, transfer(), NOW) == allowed({C.STAMMDATEN}, consent_id="c-2", version=3)


def test_tie_between_equally_good_consents_prefers_the_most_recently_recorded():
    versions = [
        consent(consent_id="c-old", recorded_at=T_GRANTED),
        consent(consent_id="c-new", recorded_at=T_AMENDED),
    ]
    expected = allowed({C.STAMMDATEN}, consent_id="c-new")
    assert decide(versions, transfer(), NOW) == expected
    assert decide(list(reversed(versions)), transfer(), NOW) == expected


def test_decision_carries_consent_id_and_version():
    versions = [consent(consent_id="c-42", version=7)]
    decision = decide(versions, transfer(), NOW)
    assert decision.allowed is True
    assert decision.consent_id == "c-42"
    assert decision.consent_version == 7
    assert decision.reasons == ()


def test_refusal_reason_carries_consent_id_and_version():
    versions = [consent(to_kind(OfficeKind.JUGENDAMT), consent_id="c-42", version=7)]
    decision = decide(versions, transfer(), NOW)
    assert decision == refused(ReasonCode.RECIPIENT_NOT_COVERED, consent_id="c-42", version=7)
    assert decision.consent_id is None and decision.consent_version is None


# --------------------------------------------------------------------------- explanations


def test_inactive_consents_are_each_explained_by_their_latest_version_sorted_by_id():
    versions = [
        consent(consent_id="c-b", valid_until=NOW - timedelta(days=1)),
        consent(consent_id="c-a", revoked_at=NOW - timedelta(days=1)),
        consent(consent_id="c-c", valid_from=LATER),
    ]
    decision = decide(versions, transfer(), NOW)
    assert decision == Decision(
        False,
        reasons=(
            Reason(ReasonCode.CONSENT_REVOKED, "c-a", 1),
            Reason(ReasonCode.CONSENT_EXPIRED, "c-b", 1),
            Reason(ReasonCode.CONSENT_NOT_YET_VALID, "c-c", 1),
        ),
    )


def test_active_but_uncovering_consent_is_explained_instead_of_inactive_ones():
    versions = [
        consent(consent_id="c-expired", valid_until=NOW - timedelta(days=1)),
        consent(to_kind(OfficeKind.JUGENDAMT), consent_id="c-active"),
    ]
    decision = decide(versions, transfer(), NOW)
    assert decision == refused(ReasonCode.RECIPIENT_NOT_COVERED, consent_id="c-active")


def test_closest_active_consent_explains_the_refusal():
    versions = [
        consent(to_kind(OfficeKind.JUGENDAMT), consent_id="c-recipient"),
        consent(to_kind(OfficeKind.ABH, purposes={P.EINBUERGERUNG}), consent_id="c-purpose"),
        consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN}), consent_id="c-category"),
    ]
    facts = transfer(required={C.STAMMDATEN, C.FALLDATEN})
    assert decide(versions, facts, NOW) == refused(
        ReasonCode.CATEGORY_NOT_COVERED, consent_id="c-category", categories=(C.FALLDATEN,)
    )


# --------------------------------------------------------------------------- order independence


def test_refusal_reason_does_not_depend_on_order_of_versions():
    # Two active consents, neither names the recipient: equally close, so a tie to break.
    versions = [
        consent(to_kind(OfficeKind.JUGENDAMT), consent_id="c-2"),
        consent(to_kind(OfficeKind.EBH), consent_id="c-1"),
    ]
    expected = refused(ReasonCode.RECIPIENT_NOT_COVERED, consent_id="c-1")
    assert decide(versions, transfer(), NOW) == expected
    assert decide(list(reversed(versions)), transfer(), NOW) == expected


def test_tie_between_versions_of_one_consent_recorded_at_the_same_instant_prefers_the_latest_version():
    # Malformed history (both versions in force, same recorded_at): the choice must still be stable.
    versions = [
        consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN, C.FALLDATEN}), version=1),
        consent(to_kind(OfficeKind.ABH, categories={C.STAMMDATEN, C.DOKUMENTE}), version=2),
    ]
    facts = transfer(required={C.STAMMDATEN}, optional={C.FALLDATEN, C.DOKUMENTE})
    expected = allowed({C.STAMMDATEN, C.DOKUMENTE}, removed={C.FALLDATEN}, version=2)
    assert decide(versions, facts, NOW) == expected
    assert decide(list(reversed(versions)), facts, NOW) == expected
