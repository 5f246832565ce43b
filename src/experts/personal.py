"""An expert's personal data: the ID number and phone, sealed; the ID masked for display.

The row keeps ``personal``, sealed (``core/secrecy.py``) for ``"expert:<id_tag>"`` so a box
moved into another expert's row does not open there, and padded to :data:`PAD` bytes so its
length tells nothing; ``id_tag`` is the keyed HMAC of the ID number, to find a person again
on the next import without storing the number in clear::

    tag = id_tag(secrecy, "110101199003074514")
    box = seal_personal(secrecy, tag, Personal("110101199003074514", "13800138000"))
    open_personal(secrecy, tag, box).phone == "13800138000"
    mask_id("110101199003074514") == "1101**********4514"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from operator import mul

from cryptography.exceptions import InvalidTag

from tendering.core.errors import ErrorCode, PlatformError
from tendering.core.secrecy import Secrecy

__all__ = [
    "PAD",
    "Personal",
    "SealedPersonalBroken",
    "id_number_problem",
    "id_tag",
    "mask_id",
    "open_personal",
    "phone_problem",
    "seal_personal",
]

PAD = 96
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID = re.compile(r"\d{17}[\dX]")
_PHONE = re.compile(r"1[3-9]\d{9}")


class SealedPersonalBroken(PlatformError):
    """An expert's sealed personal data does not open with the platform key as its own."""

    default_code = ErrorCode.EXPERT_SEALED_BROKEN


@dataclass(frozen=True, slots=True)
class Personal:
    id_number: str
    phone: str


def id_number_problem(value: str) -> str | None:
    """Why ``value`` is not a resident ID number (GB 11643-1999), or None."""
    if not _ID.fullmatch(value):
        return "身份证号须为18位，末位可为X (18 characters: 17 digits, then a digit or X)"
    total = sum(map(mul, map(int, value[:17]), _WEIGHTS))
    if _CHECK[total % 11] != value[17]:
        return "身份证号校验位不符 (the check character does not match: a digit is mistyped)"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效 (the birth date in it is not a date)"
    if born.year < 1900:
        return "身份证号中的出生日期无效 (the birth date in it is before 1900)"
    return None


def phone_problem(value: str) -> str | None:
    if not _PHONE.fullmatch(value):
        return "手机号须为11位数字，以1开头 (a mobile number: 11 digits starting with 1)"
    return None


def mask_id(id_number: str) -> str:
    """The first 4 and last 4 characters (region and check), the rest starred."""
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def id_tag(secrecy: Secrecy, id_number: str) -> str:
    return secrecy.tag("expert_id", id_number)


def _purpose(tag: str) -> str:
    return f"expert:{tag}"


def seal_personal(secrecy: Secrecy, tag: str, personal: Personal) -> str:
    value = {"id_number": personal.id_number, "phone": personal.phone}
    # Both fields have a fixed length already; the pad keeps it so if a format grows.
    size = len(f'{{"id_number":"{personal.id_number}","pad":"","phone":"{personal.phone}"}}')
    value["pad"] = " " * max(0, PAD - size)
    return secrecy.seal(_purpose(tag), value)


def open_personal(secrecy: Secrecy, tag: str, box: str) -> Personal:
    try:
        value = secrecy.open(_purpose(tag), box)
        return Personal(str(value["id_number"]), str(value["phone"]))
    except (InvalidTag, ValueError, KeyError, TypeError):
        raise SealedPersonalBroken(
            "专家个人信息无法打开 (an expert's sealed personal data does not open with the"
            " platform key as this expert's own: the row was altered, or another key is used)"
        ) from None
