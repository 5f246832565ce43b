"""The deposit ledger: double-entry money, virtual accounts, bank statements, refunds.

Other contexts use only these functions (each runs in the caller's transaction)::

    open_deposit_account(session, bidder_org_id=, subject=, amount_due_fen=, deadline=)
    deposit_status(session, bidder_org_id, subject, at)   # none / partial / received
    set_deposit_terms(session, subject=, deadline=)       # an amendment moved the deadline
    create_refund_batch(session, subject=, paid_on=, actor=)
    close_deposit(session, bidder_org_id=, subject=, to="forfeited" | "converted", reason=,
                  actor=)
    reveal_deposits(session, subject=, actor=)            # at the opening: who held accounts
"""

from tendering.ledger.closing import close_deposit
from tendering.ledger.refunds import create_refund_batch
from tendering.ledger.service import (
    DepositStatus,
    DepositView,
    deposit_status,
    get_deposit,
    open_deposit_account,
    reveal_deposits,
    set_deposit_terms,
)

__all__ = [
    "DepositStatus",
    "DepositView",
    "close_deposit",
    "create_refund_batch",
    "deposit_status",
    "get_deposit",
    "open_deposit_account",
    "reveal_deposits",
    "set_deposit_terms",
]
