"""Totals of transfers by office and month as bar charts (pure): the geometry a page draws as SVG,
and the same numbers as a table. One scale for every office, so their bars compare."""
from __future__ import annotations

from dataclasses import dataclass

DECISIONS = ("delivered", "refused", "withheld")
MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")
LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT, BAR_HEIGHT = 120, 420, 26, 18


@dataclass(frozen=True)
class Segment:
    decision: str
    count: int
    x: float
    width: float


@dataclass(frozen=True)
class Bar:
    month: str  # in words: "Mai 2026"
    y: int
    total: int
    counts: dict[str, int]
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Chart:
    office: str
    name: str
    bars: tuple[Bar, ...]
    height: int
    totals: dict[str, int]  # per decision over all months


def month_label(month: str) -> str:
    """'2026-05' as 'Mai 2026'."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def monthly_charts(rows: list[dict], office_name) -> list[Chart]:
    """``rows``: {office, month, decision, count} (the DPO view's totals); one chart per office, its
    months in order, each bar split into delivered / refused / withheld."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for r in rows:
        month = counts.setdefault(r["office"], {}).setdefault(r["month"], dict.fromkeys(DECISIONS, 0))
        month[r["decision"]] = month.get(r["decision"], 0) + r["count"]
    largest = max((sum(m.values()) for months in counts.values() for m in months.values()), default=0)
    return [_chart(office, office_name(office), months, largest) for office, months in sorted(counts.items())]


def _chart(office: str, name: str, months: dict[str, dict[str, int]], largest: int) -> Chart:
    bars = tuple(_bar(month_label(m), i * ROW_HEIGHT, c, largest) for i, (m, c) in enumerate(sorted(months.items())))
    totals = {d: sum(c.get(d, 0) for c in months.values()) for d in DECISIONS}
    return Chart(office, name, bars, len(bars) * ROW_HEIGHT, totals)


def _bar(month: str, y: int, counts: dict[str, int], largest: int) -> Bar:
    x, segments = float(LABEL_WIDTH), []
    for decision in DECISIONS:
        width = BAR_WIDTH * counts.get(decision, 0) / largest if largest else 0.0
        if width:
            segments.append(Segment(decision, counts[decision], round(x, 1), round(width, 1)))
        x += width
    return Bar(month, y, sum(counts.values()), counts, tuple(segments))
