"""Migration 0027 re-keys every tag and sealed box from the v1 keys to the HKDF ones (and
back): on a database holding rows of every kind, each row reads the same after, under the
keys of its revision."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tendering.core.embedded import with_database
from tendering.core.migrate import downgrade, upgrade
from tendering.core.secrecy import Secrecy
from tendering.settings import asyncpg_url

SEED = bytes(range(100, 132))


async def _sql(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect("postgresql://" + url.split("://", 1)[1])
    try:
        if sql.lstrip().upper().startswith("SELECT"):
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        await conn.execute(sql, *args)
        return []
    finally:
        await conn.close()


def sql(url: str, statement: str, *args: Any) -> list[tuple[Any, ...]]:
    return asyncio.run(_sql(url, statement, *args))


@pytest.fixture
def fresh_url(servers: Any) -> Iterator[str]:
    """An empty database of its own (async URL), dropped afterwards."""
    name = f"tendering_rekey_{secrets.token_hex(4)}"
    asyncio.run(_sql(servers.postgres_url, f'CREATE DATABASE "{name}"'))
    plain = with_database(servers.postgres_url, name)
    yield asyncpg_url(plain)
    asyncio.run(_sql(servers.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _fill(url: str) -> None:
    """The whole demo (registrations, deposits, a bank statement, experts and their draws,
    agencies and theirs), made by the code under the current keys."""
    from tendering.app import register_contexts
    from tendering.core import demo
    from tendering.core.db import make_engine, make_sessionmaker
    from tendering.core.signing import load_platform_key
    from tendering.settings import Settings

    register_contexts()

    async def run() -> None:
        engine = make_engine(url, pool_size=1)
        try:
            key = load_platform_key(Settings.from_env())
            book = await demo.run_demo(make_sessionmaker(engine), secrecy=Secrecy.of(key), key=key)
            assert book is not None
        finally:
            await engine.dispose()

    asyncio.run(run())


def _add_bids_and_a_refund(url: str, secrecy: Secrecy) -> dict[str, Any]:
    """Bid rows of an opened lot (one named by its opening result, one found by trying every
    bidder, one decoy left by a terminated notice) and a refund line: kinds the demo lacks."""
    from tendering.ledger.payers import seal_payee

    lots = sql(url, "SELECT lot_id FROM opening_lot_key ORDER BY lot_id")
    assert len(lots) >= 2, "the demo publishes lots, and each gets its opening key"
    opened, other = lots[0][0], lots[1][0]
    bidders = sql(url, "SELECT id FROM organization WHERE kind = 'bidder' ORDER BY id")
    # the first is named by the opening's result; the last registered for nothing in the
    # demo, so its bid is found only by trying every lot with every bidder
    orgs = [bidders[0][0], bidders[-1][0]]
    for org in orgs:
        sql(
            url,
            "INSERT INTO bidder_key (organization_id, public_key, label, registered_by)"
            " VALUES ($1, $2, '', (SELECT min(id) FROM app_user))",
            org,
            base64.b64encode(secrets.token_bytes(32)).decode(),
        )
    tags = {
        "named": secrecy.tag(opened, orgs[0]),
        "tried": secrecy.tag(opened, orgs[1]),
        "decoy": secrecy.tag("decoy", other, 3),
    }
    # The named bidder's first version, replaced: it carries the same tag.
    rows = [("replaced", tags["named"]), *(("current", tag) for tag in tags.values())]
    for seq, (state, tag) in enumerate(rows, start=1):
        sql(
            url,
            "INSERT INTO bid (bidder_tag, seq, state, sha256, size, received_at, evidence)"
            " VALUES ($1, $2, $3, $4, 100, now(), 'e30=')",
            tag,
            seq,
            state,
            secrets.token_hex(32),
        )
    named_id = sql(
        url, f"SELECT id FROM bid WHERE bidder_tag = '{tags['named']}' AND state = 'current'"
    )[0][0]
    sql(
        url,
        "INSERT INTO opening_result (lot_id, bid_id, organization_id, bidder, seq,"
        f" receipt_sha256, outcome, reason, price_fen, form) VALUES ({opened}, {named_id},"
        f" {orgs[0]}, 'BID-X', 1, repeat('a', 64), 'valid', '', 100, '{{}}')",
    )
    sql(url, f"UPDATE tender_lot SET result = 'opened', result_at = now() WHERE id = {opened}")
    sql(
        url,
        "UPDATE tender_notice SET termination_reason = '终止' WHERE id IN"
        f" (SELECT notice_id FROM tender_notice_lot WHERE lot_id = {other})",
    )
    sql(
        url,
        "INSERT INTO refund_batch (id, code, subject, annual_rate, day_count, paid_on, due_on,"
        " created_by) VALUES (900, 'RB-9', 'lot:L-1', 0.0035, 'ACT/365', '2026-12-10',"
        " '2026-12-15', 'staff')",
    )
    sql(
        url,
        "INSERT INTO refund_line (batch_id, instruction_ref, payee, principal_fen, interest_fen,"
        " days, status, payment_transfer_id, bank_ref) VALUES (900, 'RB-9-0001', $1, 700, 0,"
        " 0, 'pending', 1, '')",
        seal_payee(secrecy, "RB-9-0001", ("甲公司", "6222020200112233445")),
    )
    return {"opened": opened, "other": other, "orgs": orgs}


def _readable(url: str, secrecy: Secrecy, made: dict[str, Any]) -> dict[str, Any]:
    """Every keyed row, read with the code's own readers under ``secrecy``."""
    from experts.personal import id_tag, open_personal
    from tendering.core.draws.views import open_part
    from tendering.ledger.holders import open_terms
    from tendering.ledger.payers import open_payee, open_payer

    seen: dict[str, Any] = {}
    opened, other, orgs = made["opened"], made["other"], made["orgs"]
    bids = [r[0] for r in sql(url, "SELECT bidder_tag FROM bid")]
    seen["bids"] = (
        bids.count(secrecy.tag(opened, orgs[0])),
        bids.count(secrecy.tag(opened, orgs[1])),
        bids.count(secrecy.tag("decoy", other, 3)),
    )
    registrations = []
    for tag, holder in sql(url, "SELECT tag, holder FROM tender_registration ORDER BY ref"):
        ids = {k: int(v) for k, v in secrecy.open(f"registration|{tag}", holder).items()}
        assert secrecy.tag("registration", ids["lot_id"], ids["organization_id"]) == tag
        registrations.append(ids)
    seen["registrations"] = registrations
    seen["askers"] = [
        secrecy.open(f"question|{ref}", box)
        for ref, box in sql(url, "SELECT asker_ref, asker FROM tender_question ORDER BY id")
    ]
    seen["deposits"] = [
        open_terms(secrecy, number=n, holder_tag=t, box=b)
        for n, t, b in sql(
            url, "SELECT number, holder_tag, terms FROM deposit_account ORDER BY number"
        )
    ]
    seen["payers"] = [
        open_payer(secrecy, bank_account=a, bank_ref=r, box=b)
        for a, r, b in sql(
            url, "SELECT bank_account, bank_ref, payer FROM statement_line ORDER BY id"
        )
    ]
    seen["payees"] = [
        open_payee(secrecy, instruction_ref=r, box=b)
        for r, b in sql(url, "SELECT instruction_ref, payee FROM refund_line ORDER BY id")
    ]
    draws = []
    for code, *boxes in sql(url, "SELECT code, secret, pools, transcript FROM draw ORDER BY id"):
        parts = zip(("secret", "pools", "transcript"), boxes, strict=True)
        draws.append([open_part(secrecy, what, code, box) for what, box in parts if box])
    seen["draws"] = draws
    experts = []
    for tag, box in sql(url, "SELECT id_tag, personal FROM expert ORDER BY id"):
        personal = open_personal(secrecy, tag, box)
        assert id_tag(secrecy, personal.id_number) == tag
        experts.append(personal)
    seen["experts"] = experts
    seen["parties"] = [
        secrecy.open(f"expert_request:{code}", box)
        for code, box in sql(url, "SELECT draw_code, parties FROM expert_draw_request")
    ]
    seen["places"] = [
        secrecy.open(f"expert_assignment:{code}:{slot}", box)
        for code, slot, box in sql(
            url, "SELECT draw_code, slot, box FROM expert_assignment ORDER BY id"
        )
    ]
    seen["outbox"] = [
        secrecy.open("expert_outbox", box)
        for (box,) in sql(url, "SELECT box FROM expert_outbox ORDER BY id")
    ]
    return seen


_KEYED = (
    "SELECT (SELECT array_agg(bidder_tag ORDER BY id) FROM bid),"
    " (SELECT array_agg(tag ORDER BY id) FROM tender_registration),"
    " (SELECT array_agg(holder_tag ORDER BY id) FROM deposit_account),"
    " (SELECT array_agg(id_tag ORDER BY id) FROM expert),"
    " (SELECT array_agg(payer ORDER BY id) FROM statement_line)"
)


def test_0027_rekeys_rows_of_every_kind_down_and_up_and_each_reads_the_same(
    migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(SEED).decode())
    _fill(migrated_url)
    current, old = Secrecy.from_seed(SEED), Secrecy.v1(SEED)
    made = _add_bids_and_a_refund(migrated_url, current)
    at_head = _readable(migrated_url, current, made)
    for kind, rows in at_head.items():
        assert rows, f"the database holds no {kind}: the test would prove nothing for them"
    assert at_head["bids"] == (2, 1, 1)
    unregistered = made["orgs"][1]  # its bid's tag is found by the search of every pair
    assert all(r["organization_id"] != unregistered for r in at_head["registrations"])
    keyed = sql(migrated_url, _KEYED)

    # Without the key it refuses in plain words, and changes nothing.
    monkeypatch.delenv("TENDERING_SIGNING_KEY")
    monkeypatch.setenv("TENDERING_DATA_DIR", str(tmp_path / "no-key-here"))
    with pytest.raises(RuntimeError, match="TENDERING_SIGNING_KEY"):
        downgrade(migrated_url, "0023")
    assert sql(migrated_url, _KEYED) == keyed
    # With another key it refuses too: nothing opens.
    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(bytes(32)).decode())
    with pytest.raises(RuntimeError, match="this signing key"):
        downgrade(migrated_url, "0023")
    assert sql(migrated_url, _KEYED) == keyed

    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(SEED).decode())
    downgrade(migrated_url, "0023")
    assert _readable(migrated_url, old, made) == at_head  # the v1 keys read it all
    down = sql(migrated_url, _KEYED)[0]
    assert all(set(a).isdisjoint(b) for a, b in zip(down, keyed[0], strict=True))

    upgrade(migrated_url)
    assert _readable(migrated_url, current, made) == at_head
    assert sql(migrated_url, _KEYED)[0][:4] == keyed[0][:4]  # tags are the same again


def test_0027_waits_for_the_opening_of_every_lot_with_bids(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(SEED).decode())
    _fill(migrated_url)
    made = _add_bids_and_a_refund(migrated_url, Secrecy.from_seed(SEED))
    opened = made["opened"]
    sql(migrated_url, f"UPDATE tender_lot SET result = NULL WHERE id = {opened}")
    sql(
        migrated_url,
        "UPDATE tender_notice SET termination_reason = NULL WHERE id IN"
        f" (SELECT notice_id FROM tender_notice_lot WHERE lot_id = {opened})",
    )
    code = sql(migrated_url, f"SELECT code FROM tender_lot WHERE id = {opened}")[0][0]
    keyed = sql(migrated_url, _KEYED)
    with pytest.raises(RuntimeError, match=f"lots .*{code}.* have bids and have not finished"):
        downgrade(migrated_url, "0023")
    assert sql(migrated_url, _KEYED) == keyed
