"""The purposes a transfer may serve. A consent names the purposes it allows."""
from enum import StrEnum


class Purpose(StrEnum):
    EINBUERGERUNG = "einbuergerung"
    AUFENTHALTSPERSPEKTIVE = "aufenthaltsperspektive"
    ARBEITSMARKTINTEGRATION = "arbeitsmarktintegration"
    JUGENDHILFE = "jugendhilfe"
    FALLMANAGEMENT = "fallmanagement"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Purpose.EINBUERGERUNG: "Unterstützung im Einbürgerungsverfahren (StAG)",
    Purpose.AUFENTHALTSPERSPEKTIVE: "Prüfung einer Aufenthaltsperspektive (§§ 25a, 25b, 104c AufenthG)",
    Purpose.ARBEITSMARKTINTEGRATION: "Arbeitsmarktintegration (SGB II / SGB III)",
    Purpose.JUGENDHILFE: "Kinder- und Jugendhilfe (SGB VIII)",
    Purpose.FALLMANAGEMENT: "Rechtskreisübergreifendes Case Management (KIM)",
}
