"""The consent form's fields as consent terms (gateway/web/forms.py): a kind or a named office, and the
provisions an amendment keeps."""
from starlette.datastructures import FormData

from contracts.consent import ConsentTerms
from gateway.web.forms import consent_terms

FIELDS = [("municipality", "05382068"), ("purposes", "einbuergerung"), ("categories", "stammdaten"),
          ("categories", "dokumente"), ("direction", "both"), ("valid_from", "2026-01-01"), ("valid_until", ""),
          ("form_version", "KIM-EW-2025-1"), ("language", "de")]
KEPT = {"recipient": {"kind": "jobcenter"}, "purposes": ["fallmanagement"], "categories": ["sozialdaten"],
        "direction": "outbound"}


def test_a_kind_or_a_named_office_and_the_kept_provisions():
    by_kind = ConsentTerms.model_validate(consent_terms(FormData([("recipient_kind", "abh"), *FIELDS]), "a" * 64))
    assert by_kind.provisions[0].recipient.kind == "abh" and by_kind.valid_until is None
    named = consent_terms(FormData([("recipient_kind", "office:troisdorf-abh"), *FIELDS]), "b" * 64, [KEPT])
    terms = ConsentTerms.model_validate(named)
    assert terms.provisions[0].recipient.office == "troisdorf-abh" and terms.provisions[0].recipient.kind is None
    assert terms.provisions[1].model_dump(mode="json", exclude_none=True) == KEPT
    assert [str(c) for c in terms.provisions[0].categories] == ["stammdaten", "dokumente"]
