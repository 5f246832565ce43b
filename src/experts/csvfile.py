"""Reading the provincial expert system's CSV export: pure, no I/O beyond the bytes given.

The file is UTF-8 (with or without a BOM) or GBK (read as GB 18030, its superset); the
header names its columns in Chinese (as exported) or English. Every row is checked in full:
a rejected row is reported with its line number, the column and the reason, and every
rejected row is reported, not only the first::

    parsed = parse_csv(raw_bytes)
    parsed.rows       # ExpertRow, valid
    parsed.rejected   # Rejection(line, field, reason)

Columns (header aliases in ``COLUMNS``): code (optional: the public code), name, id_number,
employer, specialties (``A0801;A0802``), region, title, phone, unavailable (days or ranges:
``2026-12-01;2026-12-10~2026-12-12``), status (``正常``/``暂停``), suspended_until, and
former_employers (``某公司@2021-01-01~2023-06-30;...``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

from experts.personal import id_number_problem, phone_problem

__all__ = ["COLUMNS", "ExpertRow", "Parsed", "Rejection", "decode", "parse_csv", "specialty_keys"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("专家编号", "code"),
    "name": ("姓名", "name"),
    "id_number": ("身份证号", "身份证号码", "id_number"),
    "employer": ("工作单位", "employer"),
    "specialties": ("专业", "评标专业", "specialties"),
    "region": ("地区", "region"),
    "title": ("职称", "title"),
    "phone": ("手机", "手机号码", "phone"),
    "unavailable": ("不可用日期", "unavailable"),
    "status": ("状态", "status"),
    "suspended_until": ("暂停至", "suspended_until"),
    "former_employers": ("曾任职单位", "former_employers"),
}
REQUIRED = ("name", "id_number", "employer", "specialties", "phone")
_SPECIALTY = re.compile(r"[A-Z](\d\d)+")
_CODE = re.compile(r"[A-Za-z0-9-]{1,32}")
_SPLIT = re.compile(r"[;；、|]")
_STATUS = {"正常": "active", "在库": "active", "active": "active", "": "active"}
_SUSPENDED = {"暂停": "suspended", "suspended": "suspended"}
MAX_RANGE_DAYS = 366
LIMITS = {"name": 50, "employer": 200, "region": 50, "title": 50}


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    field: str
    reason: str

    def to_json(self) -> dict[str, str | int]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ExpertRow:
    line: int
    code: str | None
    name: str
    id_number: str
    employer: str
    specialties: tuple[str, ...]
    region: str
    title: str
    phone: str
    unavailable: tuple[date, ...]
    status: str
    suspended_until: date | None
    former_employers: tuple[tuple[str, date | None, date | None], ...]


@dataclass(frozen=True, slots=True)
class Parsed:
    rows: list[ExpertRow]
    rejected: list[Rejection]
    encoding: str


def decode(raw: bytes) -> tuple[str, str] | None:
    """The text and the encoding it was read in: UTF-8 when it decodes so, else GB 18030;
    None when it is neither."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        return None


def specialty_keys(specialties: tuple[str, ...] | list[str]) -> list[str]:
    """Every prefix of every code (``A0801`` gives A, A08, A0801), sorted."""
    keys = {code[:n] for code in specialties for n in range(1, len(code) + 1, 2)}
    return sorted(keys)


class _Bad(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason


def _day(field: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise _Bad(field, f"日期 {text!r} 无效，应为 YYYY-MM-DD (not a date)") from None


def _days(text: str) -> tuple[date, ...]:
    if not text or text.isspace():
        return ()
    found: set[date] = set()
    for part in filter(None, (p.strip() for p in _SPLIT.split(text))):
        if "~" in part:
            start, _, end = part.partition("~")
            first, last = _day("unavailable", start), _day("unavailable", end)
            if not 0 <= (last - first).days < MAX_RANGE_DAYS:
                raise _Bad("unavailable", f"日期区间 {part} 无效 (a range runs forward, ≤ 1 year)")
            found.update(first + timedelta(days=n) for n in range((last - first).days + 1))
        else:
            found.add(_day("unavailable", part))
    return tuple(sorted(found))


def _former(text: str) -> tuple[tuple[str, date | None, date | None], ...]:
    if not text or text.isspace():
        return ()
    out = []
    for part in filter(None, (p.strip() for p in _SPLIT.split(text))):
        org, _, span = part.partition("@")
        start, _, end = span.partition("~")
        if not org.strip() or len(org.strip()) > LIMITS["employer"]:
            raise _Bad("former_employers", f"曾任职单位 {part!r} 缺少单位名称 (no organization)")
        out.append(
            (
                org.strip(),
                _day("former_employers", start) if start.strip() else None,
                _day("former_employers", end) if end.strip() else None,
            )
        )
    return tuple(out)


def _specialties(text: str) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(p.strip().upper() for p in _SPLIT.split(text) if p.strip()))
    if not codes:
        raise _Bad("specialties", "专业不能为空 (at least one specialty code)")
    for code in codes:
        if not _SPECIALTY.fullmatch(code) or len(code) > 20:
            raise _Bad(
                "specialties", f"专业代码 {code} 无效 (a letter, then pairs of digits: A0801)"
            )
    return codes


def _status(cells: dict[str, str]) -> tuple[str, date | None]:
    status = cells.get("status", "").strip()
    until_text = cells.get("suspended_until", "").strip()
    until = _day("suspended_until", until_text) if until_text else None
    if status in _STATUS:
        return _STATUS[status], None
    if status in _SUSPENDED:
        return "suspended", until
    raise _Bad("status", f"状态 {status!r} 无效，应为 正常 或 暂停 (active or suspended)")


def _row(line: int, cells: dict[str, str]) -> ExpertRow:
    for name in REQUIRED:
        if not cells.get(name, "").strip():
            raise _Bad(name, f"{COLUMNS[name][0]}不能为空 (required)")
    for name, limit in LIMITS.items():
        if len(cells.get(name, "").strip()) > limit:
            raise _Bad(name, f"{COLUMNS[name][0]}超过{limit}个字符 (at most {limit} characters)")
    id_number = cells["id_number"].strip().upper()
    phone = cells["phone"].strip()
    for name, problem in (
        ("id_number", id_number_problem(id_number)),
        ("phone", phone_problem(phone)),
    ):
        if problem:
            raise _Bad(name, problem)
    code = cells.get("code", "").strip() or None
    if code is not None and not _CODE.fullmatch(code):
        raise _Bad("code", "专家编号须为1至32位字母、数字或- (letters, digits and -)")
    status, until = _status(cells)
    return ExpertRow(
        line=line,
        code=code,
        name=cells["name"].strip(),
        id_number=id_number,
        employer=cells["employer"].strip(),
        specialties=_specialties(cells["specialties"]),
        region=cells.get("region", "").strip(),
        title=cells.get("title", "").strip(),
        phone=phone,
        unavailable=_days(cells.get("unavailable", "")),
        status=status,
        suspended_until=until,
        former_employers=_former(cells.get("former_employers", "")),
    )


def _header(names: list[str]) -> tuple[dict[int, str], list[Rejection]]:
    aliases = {alias: key for key, found in COLUMNS.items() for alias in found}
    index = {i: aliases[n.strip()] for i, n in enumerate(names) if n.strip() in aliases}
    missing = [k for k in REQUIRED if k not in index.values()]
    return index, [
        Rejection(1, k, f"表头缺少 {COLUMNS[k][0]} 列 (the header has no {k} column)")
        for k in missing
    ]


def parse_csv(raw: bytes) -> Parsed:
    """Every row checked; duplicates of an ID number or code within the file rejected."""
    decoded = decode(raw)
    if decoded is None:
        reason = "文件既不是UTF-8也不是GBK编码 (the file is neither UTF-8 nor GBK)"
        return Parsed([], [Rejection(1, "body", reason)], "unknown")
    text, encoding = decoded
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
    except csv.Error as error:
        return Parsed(
            [], [Rejection(1, "body", f"表头无法读取 (unreadable header: {error})")], encoding
        )
    index, rejected = _header(header)
    if rejected:
        return Parsed([], rejected, encoding)
    rows: list[ExpertRow] = []
    seen_ids: dict[str, int] = {}
    seen_codes: dict[str, int] = {}
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as error:  # a broken quote or a field past csv's limit: stop here
            reason = f"CSV格式错误，其后各行未读取 (malformed CSV, the rest unread: {error})"
            rejected.append(Rejection(reader.line_num, "*", reason))
            break
        if cells is None:
            break
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        try:
            if len(cells) > len(header):
                raise _Bad("*", f"本行有{len(cells)}列，表头只有{len(header)}列 (too many cells)")
            if any("\x00" in c for c in cells):
                raise _Bad("*", "本行含有空字符 (a cell holds a NUL character)")
            row = _row(line, {index[i]: c for i, c in enumerate(cells) if i in index})
        except _Bad as bad:
            rejected.append(Rejection(line, bad.field, bad.reason))
            continue
        if row.id_number in seen_ids:
            rejected.append(_dup(line, "id_number", "身份证号", seen_ids[row.id_number]))
            continue
        if row.code is not None and row.code in seen_codes:
            rejected.append(_dup(line, "code", "专家编号", seen_codes[row.code]))
            continue
        seen_ids[row.id_number] = line
        if row.code is not None:
            seen_codes[row.code] = line
        rows.append(row)
    return Parsed(rows, rejected, encoding)


def _dup(line: int, field: str, label: str, first: int) -> Rejection:
    return Rejection(line, field, f"{label}与第{first}行重复 (the same as line {first})")
