from __future__ import annotations

from datetime import timedelta

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Role
from tendering.ledger import reveal_deposits
from tests.tendering.ledger.conftest import DEADLINE, SECRECY, before
from tests.tendering.ledger.files import Line, camt053, csv_statement

OPENING = Actor.system("opening")


async def _setup(people, login, client):
    staff = await people.user(Role.STAFF)
    bidder = await people.user(Role.BIDDER)
    other = await people.user(Role.BIDDER)
    supervisor = await people.user(Role.SUPERVISOR)
    h = {}
    h["staff"] = await login(staff)
    h["bidder"] = await login(bidder)
    h["other"] = await login(other)
    h["supervisor"] = await login(supervisor)
    opened = await client.post(
        "/api/ledger/deposits",
        headers=h["staff"],
        json={
            "bidder_org_id": bidder.organization.id,
            "subject": "lot:L-9",
            "amount_due_fen": 100_000,
            "deadline": DEADLINE.isoformat(),
        },
    )
    assert opened.status_code == 201, opened.text
    return h, opened.json()["number"]


async def test_bidders_see_only_their_own_accounts(people, login, client):
    h, number = await _setup(people, login, client)
    mine = await client.get("/api/ledger/deposits", headers=h["bidder"])
    assert [d["number"] for d in mine.json()] == [number]
    assert (await client.get("/api/ledger/deposits", headers=h["other"])).json() == []
    theirs = await client.get(f"/api/ledger/deposits/{number}", headers=h["other"])
    missing = await client.get("/api/ledger/deposits/8866000000000000", headers=h["other"])
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"].replace(number, "N") == missing.json()["detail"].replace(
        "8866000000000000", "N"
    )
    mine = await client.get(f"/api/ledger/deposits/{number}", headers=h["bidder"])
    assert mine.status_code == 200 and mine.json()["number"] == number
    # bidders may not import, resolve or refund; supervisors read but do not act
    for who in ("bidder", "supervisor"):
        r = await client.post("/api/ledger/statements", headers=h[who], content=b"x")
        assert r.status_code == 403


async def test_oversight_lists_a_subjects_accounts_only_once_its_opening_revealed_them(
    people, login, client, maker
):
    h, number = await _setup(people, login, client)
    for who in ("staff", "supervisor"):
        for params in ({"subject": "lot:L-9"}, {}):
            listed = await client.get("/api/ledger/deposits", params=params, headers=h[who])
            assert listed.status_code == 200 and listed.json() == [], (who, params)
    async with maker() as session, session.begin():
        await reveal_deposits(session, secrecy=SECRECY, subject="lot:L-9", actor=OPENING)
    for who in ("staff", "supervisor"):
        for params in ({"subject": "lot:L-9"}, {}):
            listed = await client.get("/api/ledger/deposits", params=params, headers=h[who])
            assert [d["number"] for d in listed.json()] == [number], (who, params)
    other = await client.get(
        "/api/ledger/deposits", params={"subject": "lot:L-10"}, headers=h["staff"]
    )
    assert other.json() == []


async def test_before_the_opening_nobody_but_its_bidder_reads_an_account_by_its_number(
    people, login, client, maker
):
    h, number = await _setup(people, login, client)
    missing = await client.get("/api/ledger/deposits/8866000000000000", headers=h["staff"])
    for who in ("staff", "supervisor"):
        for path in (f"/api/ledger/deposits/{number}", f"/api/ledger/deposits/{number}/statement"):
            hidden = await client.get(path, headers=h[who])
            assert hidden.status_code == 404, (who, path, hidden.text)
        one = await client.get(f"/api/ledger/deposits/{number}", headers=h[who])
        assert one.json()["detail"].replace(number, "N") == missing.json()["detail"].replace(
            "8866000000000000", "N"
        )  # exactly like an account that does not exist
    async with maker() as session, session.begin():
        await reveal_deposits(session, secrecy=SECRECY, subject="lot:L-9", actor=OPENING)
    for who in ("staff", "supervisor"):
        one = await client.get(f"/api/ledger/deposits/{number}", headers=h[who])
        assert one.status_code == 200 and one.json()["subject"] == "lot:L-9"
        statement = await client.get(f"/api/ledger/deposits/{number}/statement", headers=h[who])
        assert statement.status_code == 200


async def test_staff_act_on_an_account_by_its_number_only_after_its_deadline(people, login, client):
    staff = await login(await people.user(Role.STAFF))
    bidder = await people.user(Role.BIDDER)
    opened = await client.post(
        "/api/ledger/deposits",
        headers=staff,
        json={
            "bidder_org_id": bidder.organization.id,
            "subject": "lot:L-11",
            "amount_due_fen": 100_000,
            "deadline": "2099-12-01T01:30:00Z",
        },
    )
    assert opened.status_code == 201, opened.text
    number = opened.json()["number"]
    for action in ("forfeit", "convert"):
        refused = await client.post(
            f"/api/ledger/deposits/{number}/{action}", headers=staff, json={"reason": "撤回"}
        )
        assert refused.status_code == 404, refused.text


async def test_staff_import_then_bidder_is_eligible_and_gets_a_statement(people, login, client):
    h, number = await _setup(people, login, client)
    raw = camt053([Line("R1", 100_000, before(), number), Line("R2", 7, before(), "1")])
    r = await client.post("/api/ledger/statements", headers=h["staff"], content=raw)
    assert r.status_code == 201, r.text
    assert (r.json()["booked"], r.json()["suspense"]) == (1, 1)
    again = await client.post("/api/ledger/statements", headers=h["staff"], content=raw)
    assert again.json()["already_imported"] is True
    status = await client.get(
        "/api/ledger/status", params={"subject": "lot:L-9"}, headers=h["bidder"]
    )
    assert status.json()["amount_due_fen"] == 100_000
    pdf = await client.get(f"/api/ledger/deposits/{number}/statement", headers=h["bidder"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    suspense = await client.get("/api/ledger/suspense", headers=h["supervisor"])
    (line,) = suspense.json()
    resolved = await client.post(
        f"/api/ledger/suspense/{line['id']}/resolve",
        headers=h["staff"],
        json={"refund_fen": 7, "note": "退回"},
    )
    assert resolved.status_code == 201, resolved.text
    day = (DEADLINE - timedelta(hours=1)).date().isoformat()
    rec = await client.get(
        f"/api/ledger/reconciliation/{day}", params={"format": "csv"}, headers=h["supervisor"]
    )
    assert rec.status_code == 200 and "银行对账日报" in rec.text
    (imported,) = (await client.get("/api/ledger/statements", headers=h["supervisor"])).json()
    assert (imported["format"], imported["booked"], imported["resolved"]) == ("camt053", 1, 1)
    batches = (await client.get("/api/ledger/refund-batches", headers=h["supervisor"])).json()
    assert [(b["lines"], b["principal_fen"], b["paid"]) for b in batches] == [(1, 7, 0)]
    verify = await client.get("/api/ledger/verify", headers=h["supervisor"])
    assert verify.json() == {"ok": True, "problems": []}


async def test_refund_batch_export_and_paid_confirmation(people, login, client):
    h, number = await _setup(people, login, client)
    await client.post(
        "/api/ledger/statements",
        headers=h["staff"],
        content=csv_statement([Line("R1", 100_000, before(), number)]),
    )
    batch = await client.post(
        "/api/ledger/refund-batches",
        headers=h["staff"],
        json={
            "subject": "lot:L-9",
            "paid_on": "2026-12-10",
            "annual_rate": "0.0035",
            "day_count": "ACT/365",
            "idempotency_key": "refund-L9-1",
        },
    )
    assert batch.status_code == 201, batch.text
    ref = batch.json()["lines"][0]["instruction_ref"]
    again = await client.post(
        "/api/ledger/refund-batches",
        headers=h["staff"],
        json={"subject": "lot:L-9", "paid_on": "2026-12-10", "idempotency_key": "refund-L9-1"},
    )
    assert again.json() == batch.json()  # the same answer, word for word
    csv_file = await client.get(
        f"/api/ledger/refund-batches/{batch.json()['code']}/instructions", headers=h["staff"]
    )
    assert ref in csv_file.text
    paid = await client.post(
        f"/api/ledger/refund-lines/{ref}/paid",
        headers=h["staff"],
        json={"bank_ref": "B1", "paid_at": "2026-12-10T10:00:00+08:00"},
    )
    assert paid.json() == {"changed": True}
    paid = await client.post(
        f"/api/ledger/refund-lines/{ref}/paid",
        headers=h["staff"],
        json={"bank_ref": "B1", "paid_at": "2026-12-10T10:00:00+08:00"},
    )
    assert paid.json() == {"changed": False}
    back = await client.post(
        f"/api/ledger/refund-lines/{ref}/returned",
        headers=h["staff"],
        json={"payee_name": "某公司", "payee_account": "6228480012345678", "reason": "已销户"},
    )
    assert back.status_code == 409  # paid already: the bank cannot have returned it


async def test_bad_input_gets_a_clear_4xx(people, login, client):
    h, number = await _setup(people, login, client)
    bad = await client.post(
        "/api/ledger/statements", headers=h["staff"], content=b"bank_account,x\n"
    )
    assert bad.status_code == 400 and "第1行" in bad.json()["detail"]
    r = await client.post(
        "/api/ledger/deposits",
        headers=h["staff"],
        json={
            "bidder_org_id": 1,
            "subject": "nope",
            "amount_due_fen": 1,
            "deadline": DEADLINE.isoformat(),
        },
    )
    assert r.status_code == 400
    r = await client.post(
        f"/api/ledger/deposits/{number}/forfeit", headers=h["staff"], json={"reason": "截止后撤回"}
    )
    assert r.json() == {"moved_fen": 0}
    r = await client.post(
        "/api/ledger/refund-batches",
        headers=h["staff"],
        json={"subject": "lot:L-9", "paid_on": "2026-12-10"},
    )
    assert r.status_code == 409


async def test_a_statement_over_the_size_limit_is_refused_naming_the_limit(
    people, login, client, monkeypatch
):
    from tendering.ledger import upload

    staff = await login(await people.user(Role.STAFF))
    monkeypatch.setattr(upload, "MAX_STATEMENT_BYTES", 2 * 1024 * 1024)
    big = csv_statement([Line("R1", 100, before(), "x")]) + b"\n" * (2 * 1024 * 1024)
    r = await client.post("/api/ledger/statements", headers=staff, content=big)
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "ledger.statement_too_large"
    assert "2 MiB" in r.json()["detail"] and "split" in r.json()["detail"]
    monkeypatch.undo()
    assert "64 MiB" in upload._too_large().message  # the limit itself, as docs/ledger.md says


async def test_a_bank_shaped_statement_through_the_api(people, login, client):
    """A batch entry, a reversal and the bank's balances, posted as the bank sent them."""
    from tests.tendering.ledger.camt import Bank, entry, reversal_of, tx

    h, number = await _setup(people, login, client)
    bank = Bank()
    paid = entry(
        "B1", before(120), tx(100_000, number, ref="T1"), tx(5_000, "8866000000000000", ref="T2")
    )
    r = await client.post(
        "/api/ledger/statements", headers=h["staff"], content=bank.camt([paid], version="02")
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["lines"], body["booked"], body["suspense"]) == (2, 1, 1)
    assert (body["closing_fen"], body["difference_fen"], body["unexplained_fen"]) == (105_000, 0, 0)
    status = await client.get(
        "/api/ledger/status", params={"subject": "lot:L-9"}, headers=h["bidder"]
    )
    assert status.json()["state"] == "received"
    back = reversal_of(paid, "R1", before(60))
    r = await client.post("/api/ledger/statements", headers=h["staff"], content=bank.camt([back]))
    assert (r.json()["reversed"], r.json()["closing_fen"], r.json()["unexplained_fen"]) == (2, 0, 0)
    status = await client.get(
        "/api/ledger/status", params={"subject": "lot:L-9"}, headers=h["bidder"]
    )
    assert status.json()["state"] == "none"
    verify = await client.get("/api/ledger/verify", headers=h["supervisor"])
    assert verify.json() == {"ok": True, "problems": []}
