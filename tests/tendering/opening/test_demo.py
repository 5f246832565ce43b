"""The demo's lots get opening keys, so a visitor can seal, submit and open bids."""

from __future__ import annotations

from sqlalchemy import select

from tendering.app import register_contexts
from tendering.bids.models import LotKey
from tendering.core.auth.models import User
from tendering.core.clock import db_now
from tendering.core.db import make_sessionmaker
from tendering.core.demo import run_demo
from tendering.core.secrecy import Secrecy
from tendering.ledger import deposit_status
from tendering.opening import ceremony
from tendering.opening.demo import DEMO_CUSTODIANS, DEMO_PASSPHRASE

SECRECY = Secrecy.from_seed(bytes(32))


async def test_every_demo_lot_has_a_two_of_three_opening_key_its_custodians_can_unwrap(engine):
    register_contexts()
    maker = make_sessionmaker(engine)
    book = await run_demo(maker, secrecy=SECRECY)
    assert book is not None
    assert any(DEMO_PASSPHRASE in note for note in book.notes)
    async with maker() as session:
        keys = list((await session.scalars(select(LotKey))).all())
        assert len(keys) == 4 and {(k.k, k.n) for k in keys} == {(2, 3)}
        for username in DEMO_CUSTODIANS:
            user = (await session.scalars(select(User).where(User.username == username))).one()
            assert user.id is not None
            lot = await ceremony.lot_of(session, keys[0].lot_id)
            share = await ceremony.custodian_share(
                session, lot=lot, key=keys[0], user_id=user.id, passphrase=DEMO_PASSPHRASE
            )
            assert share is not None
        # and bidder1-3 have paid the first lot's deposit, so each of them can bid
        now = await db_now(session)
        for n in (1, 2, 3):
            org = book.users[f"bidder{n}"].organization_id
            lot = f"lot:JY-{now.year}-0001-01"
            status = await deposit_status(session, org, lot, now, secrecy=SECRECY)
            assert status.state == "received", (n, status)
