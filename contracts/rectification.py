"""Berichtigung (Art. 16 DSGVO): the sending office corrects data it already delivered.

The rectification goes to the office that received the original transfer, through the gate like a
referral (consent-gated for that office, the original's purpose and every category it carries;
minimised; sealed), and names the transfer it corrects. It carries only the corrected fields.
"""
from pydantic import model_validator
from pydantic_core import PydanticCustomError

from contracts.base import Contract, categorised
from contracts.categories import DataCategory as C
from contracts.referral import PersonDetails, SocialSituation

CORRECTED = ("reason", "requested_action", "person", "social_situation", "health_notes", "case_notes")


class RectificationV1(Contract):
    """The corrected fields of a delivered referral (``corrects``: that transfer) and why."""

    corrects: str = categorised(C.FALLDATEN, min_length=3, max_length=40, description="Berichtigte Übermittlung")
    explanation: str = categorised(C.FALLDATEN, min_length=1, max_length=2000,
                                   description="Was berichtigt wird und warum")
    reason: str | None = categorised(C.FALLDATEN, None, max_length=4000, description="Anlass der Überleitung")
    requested_action: str | None = categorised(C.FALLDATEN, None, max_length=4000, description="Erbetene Handlung")
    person: PersonDetails | None = categorised(C.STAMMDATEN, None, description="Stammdaten der Person")
    social_situation: SocialSituation | None = categorised(C.SOZIALDATEN, None, description="Sozialdaten")
    health_notes: str | None = categorised(
        C.BESONDERE_KATEGORIEN, None, max_length=4000, description="Gesundheit, Behinderung, Förderbedarf (Art. 9 DSGVO)"
    )
    case_notes: str | None = categorised(C.FALLDATEN, None, max_length=8000, description="Beratungsverlauf")

    @model_validator(mode="after")
    def _corrects_something(self) -> "RectificationV1":
        if all(getattr(self, name) is None for name in CORRECTED):
            # German: the text reaches the user as it is (gateway/validation_texts.py)
            raise PydanticCustomError("rectification_empty", "Mindestens ein berichtigtes Feld angeben.")
        return self
