"""The deposit ledger: double-entry money, virtual accounts, bank statements, refunds.

Other contexts use only these functions (each runs in the caller's transaction); those that
find or read an account take the platform's ``secrecy`` (``Secrecy.of(platform_key)``),
because a ``deposit_account`` row names its bidder, subject and terms only by a keyed tag
and a sealed box (``holders.py``)::

    open_deposit_account(session, secrecy=, bidder_org_id=, subject=, amount_due_fen=,
                         deadline=)
    get_deposit(session, secrecy=, number= | bidder_org_id=, subject=)
    deposit_status(session, bidder_org_id, subject, at, secrecy=)   # none / partial / received
    set_deposit_terms(session, secrecy=, subject=, deadline=)  # an amendment moved the deadline
    create_refund_batch(session, secrecy=, subject=, paid_on=, actor=)
    close_deposit(session, secrecy=, bidder_org_id=, subject=, to="forfeited" | "converted",
                  reason=, actor=)
    reveal_deposits(session, secrecy=, subject=, actor=)  # at the opening: who held accounts
"""

from tendering.ledger.closing import close_deposit
from tendering.ledger.eligibility import DepositStatus, deposit_status
from tendering.ledger.refunds import create_refund_batch
from tendering.ledger.service import (
    DepositView,
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
