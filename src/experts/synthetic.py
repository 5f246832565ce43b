"""A generated pool, as the provincial system would export it: for the demo, tests and bench.

Every ID number is well formed (a real region prefix, a birth date, the check character) but
made up; names, employers and phones likewise.
"""

from __future__ import annotations

import io
import random
from datetime import date, timedelta

from tendering.core import csvfile

__all__ = ["EMPLOYERS", "SPECIALTIES", "id_number", "pool_csv"]

SPECIALTIES = ("A0801", "A0802", "A0803", "A0804", "A0901", "A0902", "B0101", "B0102", "C0301")
EMPLOYERS = tuple(f"示范设计研究院{n}有限公司" for n in range(1, 41))
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
HEADER = [
    "专家编号",
    "姓名",
    "身份证号",
    "工作单位",
    "专业",
    "地区",
    "职称",
    "手机",
    "不可用日期",
    "状态",
]


def id_number(serial: int, born: date) -> str:
    """A well-formed made-up ID number, distinct for each serial below 1000 per birth day."""
    body = f"320102{born:%Y%m%d}{serial % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def pool_csv(count: int, *, seed: int = 1, encoding: str = "utf-8") -> bytes:
    """``count`` experts as CSV bytes in ``encoding`` (``utf-8`` or ``gbk``)."""
    rng = random.Random(seed)  # noqa: S311 (made-up data, repeatable on purpose)
    out = io.StringIO()
    writer = csvfile.writer(out)
    writer.writerow(HEADER)
    for n in range(count):
        born = date(1960, 1, 1) + timedelta(days=n // 1000)
        picks = rng.sample(SPECIALTIES, rng.choice((1, 1, 2)))
        writer.writerow(
            [
                f"E{seed:02d}{n:06d}",
                rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN),
                id_number(n, born),
                rng.choice(EMPLOYERS),
                ";".join(picks),
                "南京",
                rng.choice(("高级工程师", "正高级工程师", "教授")),
                f"139{n:08d}",
                "",
                "正常",
            ]
        )
    return out.getvalue().encode(encoding)
