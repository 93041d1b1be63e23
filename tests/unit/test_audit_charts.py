"""The DPO's bar charts (services/audit/charts.py): months in order, one scale for all offices."""
from datetime import datetime, timezone

from gateway.web.dpo_charts import first_of_month
from services.audit.charts import BAR_WIDTH, LABEL_WIDTH, month_label, monthly_charts

ROWS = [{"office": "rsk-kim", "month": "2026-06", "decision": "withheld", "count": 2},
        {"office": "rsk-kim", "month": "2026-05", "decision": "delivered", "count": 6},
        {"office": "rsk-kim", "month": "2026-05", "decision": "refused", "count": 2},
        {"office": "troisdorf-abh", "month": "2026-05", "decision": "delivered", "count": 4}]


def test_one_chart_per_office_its_months_in_order_split_by_decision():
    kim, abh = monthly_charts(ROWS, {"rsk-kim": "KIM", "troisdorf-abh": "ABH"}.get)
    assert (kim.name, [b.month for b in kim.bars]) == ("KIM", ["Mai 2026", "Juni 2026"])
    may = kim.bars[0]
    assert may.total == 8 and may.counts == {"delivered": 6, "refused": 2, "withheld": 0}
    assert [(s.decision, s.x, s.width) for s in may.segments] == [
        ("delivered", LABEL_WIDTH, BAR_WIDTH * 6 / 8), ("refused", LABEL_WIDTH + BAR_WIDTH * 6 / 8, BAR_WIDTH * 2 / 8)]
    assert kim.totals == {"delivered": 6, "refused": 2, "withheld": 2} and kim.bars[1].y > may.y
    assert abh.bars[0].segments[0].width == BAR_WIDTH / 2  # the same scale as the largest bar (8)


def test_no_rows_no_charts_and_month_names_in_german():
    assert monthly_charts([], str) == []
    assert month_label("2026-03") == "März 2026" and month_label("2025-12") == "Dezember 2025"


def test_the_period_starts_on_the_first_of_a_month_back():
    assert first_of_month(datetime(2026, 2, 15, tzinfo=timezone.utc), 11) == datetime(2025, 3, 1, tzinfo=timezone.utc)
    assert first_of_month(datetime(2026, 12, 31, tzinfo=timezone.utc), 0) == datetime(2026, 12, 1, tzinfo=timezone.utc)
