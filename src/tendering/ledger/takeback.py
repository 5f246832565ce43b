"""Giving back money the bank took back (a reversal), from wherever it is now.

A reversal debit's own transfer took the money out of suspense (``ledger/debits.py``); for
each credit it takes back, :class:`Takeback` moves that credit's money from where it went
into suspense, so suspense nets to nothing and the holder no longer shows it:

* a credit still in suspense: it is there already;
* a credit booked to a deposit (or a part of a suspense line staff assigned to one): from
  a pending refund of the deposit to that credit's payer (it carries that money); then from
  the deposit account as far as it holds money (``deposit.reversed``, keeping the credit's
  value time, so eligibility by the deadline falls back exactly); then from the deposit's
  other pending refunds (each cancelled and reissued for the rest,
  ``returns.cancel_refund``); then from what its forfeit or conversion moved; the rest was
  refunded and paid already and becomes a receivable (``reversal_receivable``, 应收退汇款)
  for staff to recover;
* a part of a suspense line staff refunded: from that refund while pending, else a
  receivable.

Every piece is one transfer keyed ``<prefix>:<n>`` (``reverse:<line>`` for a reversal
booked at once, ``resolve:<line>`` for one that waited in suspense for its credit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.auth.actor import Actor
from tendering.core.secrecy import Secrecy
from tendering.ledger.payers import open_payee, open_payer
from tendering.ledger.postings import TransferSpec, create_transfer
from tendering.ledger.returns import cancel_refund

__all__ = ["Original", "Takeback"]


@dataclass(frozen=True, kw_only=True)
class Original:
    """A credit line the bank took back, as it stood before."""

    id: int
    bank_account: str
    bank_ref: str
    amount_fen: int
    status: str  # booked | suspense | resolved
    deposit_account_id: int | None
    value_at: datetime
    payer: str  # the sealed box


class Takeback:
    def __init__(
        self,
        session: AsyncSession,
        *,
        ids: dict[str, int],
        secrecy: Secrecy,
        actor: Actor,
        prefix: str,
        reference: str,
    ) -> None:
        self.session, self.ids, self.secrecy, self.actor = session, ids, secrecy, actor
        self.prefix, self.reference = prefix, reference
        self.pieces = 0
        self.unrecovered_fen = 0

    async def _move(
        self,
        debit: int,
        amount: int,
        kind: str,
        *,
        value_at: datetime | None = None,
        reference: str | None = None,
    ) -> None:
        self.pieces += 1
        await create_transfer(
            self.session,
            TransferSpec(
                key=f"{self.prefix}:{self.pieces}",
                debit=debit,
                credit=self.ids["suspense"],
                amount_fen=amount,
                kind=kind,
                reference=reference or self.reference,
                value_at=value_at,
            ),
        )

    async def credit(self, c: Original) -> None:
        """Bring ``c``'s money back into suspense."""
        if c.status == "suspense":
            return
        payer = open_payer(
            self.secrecy, bank_account=c.bank_account, bank_ref=c.bank_ref, box=c.payer
        )
        who = (payer.name, payer.account)
        if c.status == "booked" and c.deposit_account_id is not None:
            await self._from_deposit(c.deposit_account_id, c.amount_fen, c, who)
            return
        for key, account, amount in await self._parts(c.id):
            if key.endswith(":refund"):
                rest = await self._from_refunds("statement_line_id", c.id, amount, c, who)
                await self._unrecovered(rest)
                continue
            deposit = (
                await self.session.execute(
                    text("SELECT id FROM deposit_account WHERE ledger_account_id = :a"),
                    {"a": account},
                )
            ).scalar_one()
            await self._from_deposit(deposit, amount, c, who)

    async def _parts(self, line_id: int) -> list[tuple[str, int, int]]:
        """What staff did with a resolved suspense line: (key, credited account, amount)."""
        keys = [f"resolve:{line_id}:{n}" for n in range(1, 51)] + [f"resolve:{line_id}:refund"]
        rows = await self.session.execute(
            text(
                "SELECT idempotency_key, credit_account_id, amount_fen FROM ledger_transfer"
                " WHERE idempotency_key = ANY(:keys) AND state = 'posted' ORDER BY id"
            ),
            {"keys": keys},
        )
        return [(r.idempotency_key, r.credit_account_id, r.amount_fen) for r in rows]

    async def _from_deposit(
        self, deposit_id: int, amount: int, c: Original, who: tuple[str, str]
    ) -> None:
        row = (
            await self.session.execute(
                text(
                    "SELECT d.number, d.state, a.id AS ledger_id,"
                    " a.credits_posted - a.debits_posted - a.debits_pending AS held"
                    " FROM deposit_account d JOIN ledger_account a ON a.id = d.ledger_account_id"
                    " WHERE d.id = :id FOR UPDATE OF a"
                ),
                {"id": deposit_id},
            )
        ).one()
        # Where that payer's money is: its own pending refund carries it, else the account.
        rest = await self._from_refunds("deposit_account_id", deposit_id, amount, c, who, True)
        take = min(rest, max(int(row.held), 0))
        if take:
            await self._move(row.ledger_id, take, "deposit.reversed", value_at=c.value_at)
        rest = await self._from_refunds(
            "deposit_account_id", deposit_id, rest - take, c, who, False
        )
        if rest and row.state in ("forfeited", "converted"):
            rest -= await self._from_closing(deposit_id, row.state, rest)
        await self._unrecovered(rest, reference=f"deposit:{row.number}")

    async def _from_refunds(
        self,
        column: str,
        key: int,
        amount: int,
        c: Original,
        who: tuple[str, str],
        payers: bool | None = None,
    ) -> int:
        """Cut pending refunds by ``amount`` (only those to the payer ``who`` when ``payers``
        is True, only the others when False); returns what is left."""
        if amount <= 0:
            return 0
        lines = (
            await self.session.execute(
                text(
                    f"SELECT instruction_ref, principal_fen, payee FROM refund_line"  # noqa: S608
                    f" WHERE {column} = :key AND status = 'pending' ORDER BY id DESC FOR UPDATE"
                ),
                {"key": key},
            )
        ).all()
        if payers is not None:
            lines = [
                r
                for r in lines
                if (open_payee(self.secrecy, instruction_ref=r.instruction_ref, box=r.payee) == who)
                is payers
            ]
        for line in lines:
            if amount <= 0:
                break
            cut = min(amount, line.principal_fen)
            await cancel_refund(
                self.session,
                secrecy=self.secrecy,
                instruction_ref=line.instruction_ref,
                cut_fen=cut,
                taken_back_line=c.id,
                reason=f"银行冲正 the bank took back {self.reference}",
                actor=self.actor,
                ids=self.ids,
            )
            await self._move(
                self.ids["refunds_payable"], cut, "refund.reversed", reference=line.instruction_ref
            )
            amount -= cut
        return amount

    async def _from_closing(self, deposit_id: int, state: str, amount: int) -> int:
        """From what a forfeit or conversion moved, less what reversals took from it."""
        close_key = f"{state}:{deposit_id}"
        account = self.ids["forfeited" if state == "forfeited" else "payments"]
        left = (
            await self.session.execute(
                text(
                    "SELECT coalesce((SELECT amount_fen FROM ledger_transfer WHERE"
                    " idempotency_key = :key AND state = 'posted'), 0) - coalesce((SELECT"
                    " sum(amount_fen) FROM ledger_transfer WHERE kind = 'deposit.close_reversed'"
                    " AND reference = :key AND debit_account_id = :acct AND state = 'posted'), 0)"
                ),
                {"key": close_key, "acct": account},
            )
        ).scalar_one()
        take = min(amount, max(int(left), 0))
        if take:
            await self._move(account, take, "deposit.close_reversed", reference=close_key)
        return take

    async def _unrecovered(self, amount: int, *, reference: str | None = None) -> None:
        if amount > 0:
            self.unrecovered_fen += amount
            await self._move(
                self.ids["reversal_receivable"],
                amount,
                "reversal.unrecovered",
                reference=reference,
            )
