"""Who paid a bank statement line, kept from whoever reads the database.

A line's counterparty (the payer of money in, the payee of money out), their bank account
and the memo (附言) would tell a reader of ``statement_line`` who paid a deposit before the
lot's opening, and the memo often names the lot (招标投标法第二十二条). The row keeps them
only in ``payer``: AES-256-GCM (``core/secrecy.py``) sealed for
``"statement_line:<bank account>:<bank_ref>"``, the line's own unique key, so a box moved into
another row does not open there (swapping boxes cannot steer a refund to another payer's
account). The sealed JSON is padded to a multiple of :data:`PAD` bytes, so the box's length
does not tell a short payer name from a long one.

    box = seal_payer(secrecy, "1100...", "PAY-1", Payer("某某公司", "6222...", "投标保证金"))
    payer = open_payer(secrecy, bank_account="1100...", bank_ref="PAY-1", box=box)
    name, account = await latest_payer(session, secrecy, deposit_id)   # 原路退回

Amount, bank reference and value time stay in clear: the ledger sums and reconciles them.

A refund goes back to that payer, so ``refund_line`` keeps its payee's name and account the
same way, in ``payee``, sealed for ``"refund_line:<instruction_ref>"`` and padded alike::

    box = seal_payee(secrecy, "RB-...-0001", ("某某公司", "6222..."))
    name, account = open_payee(secrecy, instruction_ref="RB-...-0001", box=box)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.errors import ErrorCode, PlatformError
from tendering.core.secrecy import Secrecy

__all__ = [
    "PAD",
    "Payer",
    "SealedPayeeBroken",
    "SealedPayerBroken",
    "latest_payer",
    "open_payee",
    "open_payer",
    "seal_payee",
    "seal_payer",
]

# JSON writes a Chinese character as six bytes (\uXXXX): 512 holds a 40-character name, an
# account and a memo of 30 characters and 20 letters, so nearly every box is as long as any.
PAD = 512


class SealedPayerBroken(PlatformError):
    """A line's sealed payer does not open with the platform key, or not as its own line's:
    the row was altered in the database, or the platform runs with another key than it
    wrote with. Nothing the caller sent can fix it: a 500 naming the line."""

    default_code = ErrorCode.LEDGER_SEALED_PAYER


class SealedPayeeBroken(PlatformError):
    """As :class:`SealedPayerBroken`, for a refund line's sealed payee."""

    default_code = ErrorCode.LEDGER_SEALED_PAYEE


@dataclass(frozen=True)
class Payer:
    name: str
    account: str
    memo: str


def _purpose(bank_account: str, bank_ref: str) -> str:
    return f"statement_line:{bank_account}:{bank_ref}"


def _padded(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` with a ``pad`` of spaces that makes its canonical JSON (as ``Secrecy.seal``
    writes it) a multiple of :data:`PAD` bytes long."""
    plain = json.dumps(value | {"pad": ""}, sort_keys=True, separators=(",", ":"))
    return value | {"pad": " " * (-len(plain.encode()) % PAD)}


def seal_payer(secrecy: Secrecy, bank_account: str, bank_ref: str, payer: Payer) -> str:
    value = {"name": payer.name, "account": payer.account, "memo": payer.memo}
    return secrecy.seal(_purpose(bank_account, bank_ref), _padded(value))


def open_payer(secrecy: Secrecy, *, bank_account: str, bank_ref: str, box: str) -> Payer:
    """The payer sealed in the line (``bank_account``, ``bank_ref``)'s row."""
    try:
        value = secrecy.open(_purpose(bank_account, bank_ref), box)
        return Payer(name=value["name"], account=value["account"], memo=value["memo"])
    except (InvalidTag, ValueError, KeyError, TypeError):
        raise SealedPayerBroken(
            f"银行流水 {bank_ref} 的付款人信息无法打开 (the sealed payer of statement line"
            f" {bank_ref} on {bank_account} does not open with the platform key as this line's"
            " own: the row was altered in the database, or the platform runs with another"
            " signing key)"
        ) from None


async def latest_payer(session: AsyncSession, secrecy: Secrecy, deposit_id: int) -> tuple[str, str]:
    """Refunds go back the way they came (原路退回): (name, account) of the latest payer into
    the account, or two empty strings when no line paid into it."""
    row = (
        await session.execute(
            text(
                "SELECT bank_account, bank_ref, payer FROM statement_line"
                " WHERE deposit_account_id = :id AND direction = 'C'"
                " AND status IN ('booked', 'resolved')"
                " ORDER BY value_at DESC, id DESC LIMIT 1"
            ),
            {"id": deposit_id},
        )
    ).one_or_none()
    if row is None:
        return ("", "")
    payer = open_payer(secrecy, bank_account=row.bank_account, bank_ref=row.bank_ref, box=row.payer)
    return (payer.name, payer.account)


def seal_payee(secrecy: Secrecy, instruction_ref: str, payee: tuple[str, str]) -> str:
    value = {"name": payee[0], "account": payee[1]}
    return secrecy.seal(f"refund_line:{instruction_ref}", _padded(value))


def open_payee(secrecy: Secrecy, *, instruction_ref: str, box: str) -> tuple[str, str]:
    """(name, account) sealed in the refund line ``instruction_ref``'s row."""
    try:
        value = secrecy.open(f"refund_line:{instruction_ref}", box)
        return (value["name"], value["account"])
    except (InvalidTag, ValueError, KeyError, TypeError):
        raise SealedPayeeBroken(
            f"退款指令 {instruction_ref} 的收款人信息无法打开 (the sealed payee of refund line"
            f" {instruction_ref} does not open with the platform key as this line's own: the"
            " row was altered in the database, or the platform runs with another signing key)"
        ) from None
