"""The data-category vocabulary of the KIM privacy notice (plus Dokumente)."""
from enum import StrEnum


class DataCategory(StrEnum):
    """Kinds of personal data a consent can cover. Values are stable wire identifiers."""

    STAMMDATEN = "stammdaten"
    BESONDERE_KATEGORIEN = "besondere_kategorien"
    SOZIALDATEN = "sozialdaten"
    FALLDATEN = "falldaten"
    DOKUMENTE = "dokumente"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    DataCategory.STAMMDATEN: "Stammdaten (Name, Geburtsdatum, Anschrift, Kontakt, Familienstand, Bildung)",
    DataCategory.BESONDERE_KATEGORIEN: "Besondere Kategorien nach Art. 9 DSGVO (z. B. Gesundheit, Behinderung)",
    DataCategory.SOZIALDATEN: "Sozialdaten (Wohnsituation, Sozialleistungen, Arbeitserlaubnis)",
    DataCategory.FALLDATEN: "Falldaten (Beratungsinhalte, Termine, Verlauf, besprochene Maßnahmen)",
    DataCategory.DOKUMENTE: "Dokumente (Kopien von Unterlagen)",
}
