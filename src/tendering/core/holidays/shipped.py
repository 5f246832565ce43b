"""The calendar rows the platform ships: 2025 and 2026 from the State Council's notices
(国务院办公厅关于2025年部分节假日安排的通知 国办发明电〔2024〕12号; 关于2026年部分节假日安排的
通知 国办发明电〔2025〕7号). Later years are entered by staff. Fixed data: the migration
that seeds them imports this module, so never edit a shipped year, add a new one instead.
"""

from __future__ import annotations

from datetime import date, timedelta

__all__ = ["SHIPPED_DAYS", "SHIPPED_YEARS"]

# The years shipped whole, with the notice each comes from.
SHIPPED_YEARS: dict[int, str] = {
    2025: "国办发明电〔2024〕12号",
    2026: "国办发明电〔2025〕7号",
}


def _run(first: date, days: int, name: str) -> list[tuple[date, str, str]]:
    return [(first + timedelta(days=n), "holiday", name) for n in range(days)]


def _work(day: date, name: str) -> tuple[date, str, str]:
    return (day, "workday", f"{name}调休上班")


# (day, kind, name): kind "holiday" rests even on a weekday, "workday" works on a weekend.
SHIPPED_DAYS: list[tuple[date, str, str]] = [
    *_run(date(2025, 1, 1), 1, "元旦"),
    *_run(date(2025, 1, 28), 8, "春节"),
    _work(date(2025, 1, 26), "春节"),
    _work(date(2025, 2, 8), "春节"),
    *_run(date(2025, 4, 4), 3, "清明节"),
    *_run(date(2025, 5, 1), 5, "劳动节"),
    _work(date(2025, 4, 27), "劳动节"),
    *_run(date(2025, 5, 31), 3, "端午节"),
    *_run(date(2025, 10, 1), 8, "国庆节、中秋节"),
    _work(date(2025, 9, 28), "国庆节、中秋节"),
    _work(date(2025, 10, 11), "国庆节、中秋节"),
    *_run(date(2026, 1, 1), 3, "元旦"),
    _work(date(2026, 1, 4), "元旦"),
    *_run(date(2026, 2, 15), 9, "春节"),
    _work(date(2026, 2, 14), "春节"),
    _work(date(2026, 2, 28), "春节"),
    *_run(date(2026, 4, 4), 3, "清明节"),
    *_run(date(2026, 5, 1), 5, "劳动节"),
    _work(date(2026, 5, 9), "劳动节"),
    *_run(date(2026, 6, 19), 3, "端午节"),
    *_run(date(2026, 9, 25), 3, "中秋节"),
    *_run(date(2026, 10, 1), 7, "国庆节"),
    _work(date(2026, 9, 20), "国庆节"),
    _work(date(2026, 10, 10), "国庆节"),
]
