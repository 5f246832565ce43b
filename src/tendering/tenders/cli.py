"""``tendering demo end-bidding LOT``: end bidding on a demo lot now, to try its opening.

    tendering demo                                # the demo county, once
    ... bidder1-3 seal and submit bids for JY-2026-0001-01 ...
    tendering demo end-bidding JY-2026-0001-01    # bidding ends now
    ... staff start the opening; two custodians enter demo-custodian-2026 ...

Runs on the same database as ``serve`` (``DATABASE_URL``, else the embedded one under
``TENDERING_DATA_DIR``, which must exist already) and only on one the demo filled.
"""

from __future__ import annotations

import click

from tendering.core.cli_support import platform_database, run_in_session
from tendering.core.secrecy import Secrecy
from tendering.core.signing import load_platform_key
from tendering.tenders.demo import BiddingEnded, end_demo_bidding
from tendering.tenders.rules import CST

__all__ = ["end_bidding"]


@click.command("end-bidding")
@click.argument("lot")
def end_bidding(lot: str) -> None:
    """演示: end bidding on the demo lot LOT now, so its opening can be tried at once.

    The bid deadline and opening time of LOT's notice become now (and its deposits' deadline
    with them), recorded in the audit chain as notice.demo_bidding_ended. Refused on any
    database `tendering demo` did not fill.
    """
    with platform_database() as settings:
        secrecy = Secrecy.of(load_platform_key(settings))
        ended: BiddingEnded = run_in_session(
            settings,
            lambda session: end_demo_bidding(session, lot_code=lot, secrecy=secrecy),
            writes=True,
        )
    at = ended.ended_at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
    click.echo(
        f"演示: bidding on {', '.join(ended.lots)} (notice {ended.notice_id}) ended at {at} "
        "(Beijing time); staff may start the opening now: "
        f"POST /api/lots/{lot}/opening, then two custodians enter their passphrases."
    )
