"""The experts API: import, the pool masked, a draw from request to release, the sealed
list and record, the one-time link, and bad input answered 4xx."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from experts.notifier import LogNotifier, deliver_outbox, set_notifier
from experts.synthetic import pool_csv
from tendering.core.auth.models import OrgKind, Role
from tendering.core.secrecy import Secrecy
from tendering.core.signing import load_platform_key
from tests.pdf import dark_pixels, pdf_text, render_first_page

from .test_draws import Inbox


@pytest.fixture
def key(settings):
    return load_platform_key(settings)  # the app's, so both open the same sealed rows


@pytest.fixture
def secrecy(key) -> Secrecy:
    return Secrecy.of(key)


@pytest.fixture
def inbox():
    box = Inbox()
    set_notifier(box)
    yield box
    set_notifier(LogNotifier())


async def test_import_through_the_api_all_or_nothing(client, login, people):
    staff = await login(await people.user(Role.STAFF))
    good = await client.post(
        "/api/experts/import", content=pool_csv(20, encoding="gbk"), headers=staff
    )
    assert good.status_code == 200, good.text
    assert good.json()["imported"] == 20 and good.json()["encoding"] == "gbk"
    bad = pool_csv(3, seed=5).replace(b"13900000001", b"1390000000")
    refused = await client.post("/api/experts/import", content=bad, headers=staff)
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "expert.import_rejected"
    assert body["details"]["rejected"] == [
        {"line": 3, "field": "phone", "reason": body["details"]["rejected"][0]["reason"]}
    ]
    listed = await client.get("/api/experts?page_size=100", headers=staff)
    assert listed.json()["total"] == 20  # nothing of the refused file
    item = listed.json()["items"][0]
    assert "*" * 10 in item["id_masked"] and "phone" not in item
    bidder = await login(await people.user(Role.BIDDER))
    assert (
        await client.post("/api/experts/import", content=b"x", headers=bidder)
    ).status_code == 403
    assert (await client.get("/api/experts", headers=bidder)).status_code == 403


async def test_a_draw_from_request_to_release(
    client, login, people, desk, secrecy, session, inbox, tmp_path
):
    staff, witness = await login(desk.staff), await login(desk.witness)
    other_staff = await login(desk.other_staff)
    spec = desk.spec().model_dump(mode="json")
    made = await client.post("/api/experts/draws", json=spec, headers=staff)
    assert made.status_code == 201, made.text
    code = made.json()["draw_code"]
    assert (await client.post(f"/api/experts/draws/{code}/pools", headers=staff)).status_code == 201
    entropy = {"witness_entropy": "监督员 5521"}
    refused = await client.post(f"/api/experts/draws/{code}/draw", json=entropy, headers=staff)
    assert refused.status_code == 403
    drawn = await client.post(f"/api/experts/draws/{code}/draw", json=entropy, headers=witness)
    assert drawn.status_code == 201, drawn.text
    assert drawn.json() == {"draw": code, "picks": 8, "short": []}
    assert (
        await client.get(f"/api/experts/draws/{code}/list", headers=other_staff)
    ).status_code == 403
    assert (
        await client.get(f"/api/experts/draws/{code}/record.pdf", headers=other_staff)
    ).status_code == 403
    listed = await client.get(f"/api/experts/draws/{code}/list", headers=witness)
    assert listed.status_code == 200
    places = listed.json()
    assert [p["serving"] for p in places] == [True] * 3 + [False] * 2 + [True] * 2 + [False]
    record = await client.get(f"/api/experts/draws/{code}/record.pdf", headers=staff)
    assert record.status_code == 200
    text = pdf_text(record.content)
    assert "评标专家抽取记录表" in text and places[0]["expert"] in text and "经办人书面排除" in text
    page = render_first_page(record.content, tmp_path / "record.png")
    assert dark_pixels(page) > 2000  # the Chinese text is drawn, not blank boxes
    rerun = await client.get(f"/api/experts/draws/{code}/rerun", headers=witness)
    assert rerun.status_code == 200 and rerun.json()["ok"] is True, rerun.text
    await deliver_outbox(session, secrecy)
    token = inbox.token_for(places[0]["phone"])
    shown = await client.get(f"/api/experts/answers/{token}")
    assert shown.status_code == 200 and shown.json()["state"] == "notified"
    yes = await client.post(f"/api/experts/answers/{token}", json={"accept": True})
    assert yes.status_code == 200 and yes.json()["state"] == "confirmed"
    again = await client.post(f"/api/experts/answers/{token}", json={"accept": False})
    assert again.status_code == 409 and again.json()["code"] == "expert.link"
    assert (await client.get("/api/experts/answers/not-a-token")).status_code == 404
    released = await client.post(f"/api/experts/draws/{code}/release", headers=staff)
    assert released.status_code == 201 and released.json()["state"] == "released"
    seen = await client.get(f"/api/experts/draws/{code}/list", headers=other_staff)
    assert seen.status_code == 200 and seen.json()[0]["state"] == "confirmed"
    public = await client.get(f"/api/draws/{code}/transcript", headers=other_staff)
    assert public.status_code == 200


async def test_bad_requests_are_4xx_naming_the_field(client, login, desk):
    staff = await login(desk.staff)
    spec = desk.spec().model_dump(mode="json")
    for change, field in (
        ({"tenderer_reps": 3}, "categories"),  # 5 experts of 8: even
        ({"evaluation_at": "2020-01-01T00:00:00Z"}, "evaluation_at"),
        ({"evaluation_at": "9999-12-31T23:59:59Z"}, "evaluation_at"),
        ({"exclusions": [{"expert": "NOBODY", "reason": "理由充分的"}]}, "exclusions"),
        ({"categories": [{"specialty": "建筑", "count": 5, "backups": 0}]}, "categories"),
        ({"witness_id": desk.staff.user.id}, "witness_id"),
    ):
        response = await client.post("/api/experts/draws", json=spec | change, headers=staff)
        assert response.status_code == 400, (change, response.text)
        assert field in (response.json().get("field") or ""), response.json()


async def test_staff_keep_the_pool_and_each_change_is_in_the_chain(
    client, login, people, desk, session
):
    staff = await login(desk.staff)
    relation = {"organization": "丁公司", "relation": "配偶任职"}
    made = await client.post("/api/experts/X-012/relations", json=relation, headers=staff)
    assert made.status_code == 201 and made.json() == {"relations": 1}
    penalty = {"reason": "评标迟到", "penalized_on": "2026-01-05", "until": "2025-01-01"}
    backwards = await client.post("/api/experts/X-013/penalties", json=penalty, headers=staff)
    assert backwards.status_code == 400 and backwards.json()["field"] == "until"
    penalty["until"] = "2027-01-01"
    assert (
        await client.post("/api/experts/X-013/penalties", json=penalty, headers=staff)
    ).status_code == 201
    suspend = {"status": "suspended", "suspended_until": "2030-01-01"}
    set_ = await client.put("/api/experts/X-014/status", json=suspend, headers=staff)
    assert set_.status_code == 200 and set_.json()["suspended_until"] == "2030-01-01"
    bad = await client.put(
        "/api/experts/X-014/status",
        json={"status": "active", "suspended_until": "2030-01-01"},
        headers=staff,
    )
    assert bad.status_code == 400
    actions = (
        await session.execute(
            text("SELECT action, payload->>'expert' FROM audit_event WHERE action LIKE 'expert.%'")
        )
    ).all()
    assert sorted(actions) == [
        ("expert.penalized", "X-013"),
        ("expert.relation_declared", "X-012"),
        ("expert.status_set", "X-014"),
    ]
    assert (
        await client.post("/api/experts/NOBODY/relations", json=relation, headers=staff)
    ).status_code == 404
    witness = await login(desk.witness)
    assert (
        await client.put("/api/experts/X-014/status", json=suspend, headers=witness)
    ).status_code == 403
    spec = desk.spec(exclusions=[]).model_dump(mode="json")
    code = (await client.post("/api/experts/draws", json=spec, headers=staff)).json()["draw_code"]
    await client.post(f"/api/experts/draws/{code}/pools", headers=staff)
    await client.post(
        f"/api/experts/draws/{code}/draw", json={"witness_entropy": "7"}, headers=witness
    )
    listed = await client.get(f"/api/draws/{code}/transcript", headers=witness)
    struck = {e["id"]: e["rule"] for e in listed.json()["categories"][0]["excluded"]}
    assert (struck["X-012"], struck["X-013"], struck["X-014"]) == (
        "relation",
        "penalized",
        "suspended",
    )


async def test_before_the_evaluation_only_its_staff_member_and_witness_see_who_was_drawn(
    client, login, people, desk, session
):
    staff, witness = await login(desk.staff), await login(desk.witness)
    spec = desk.spec().model_dump(mode="json")
    code = (await client.post("/api/experts/draws", json=spec, headers=staff)).json()["draw_code"]
    await client.post(f"/api/experts/draws/{code}/pools", headers=staff)
    drawn = await client.post(
        f"/api/experts/draws/{code}/draw", json={"witness_entropy": "封存 1"}, headers=witness
    )
    assert drawn.status_code == 201 and "X-" not in drawn.text  # how many, not whom
    places = (await client.get(f"/api/experts/draws/{code}/list", headers=witness)).json()
    # What would name a drawn expert: the public code, the name, the phone.
    secrets = {p[k] for p in places for k in ("expert", "name", "phone")}
    tenderer_org = await people.organization(OrgKind.TENDERER)
    roles = {
        "other staff": await login(desk.other_staff),
        "other supervisor": await login(await people.user(Role.SUPERVISOR)),
        "admin": await login(await people.user(Role.ADMIN)),
        "bidder": await login(await people.user(Role.BIDDER)),
        "tenderer": await login(await people.user(Role.BIDDER, organization=tenderer_org)),
        "agency": await login(await people.user(Role.AGENCY)),
        "expert": await login(await people.user(Role.EXPERT)),
        "auctioneer": await login(await people.user(Role.AUCTIONEER)),
        "public": {},
    }
    naming = [
        f"/api/experts/draws/{code}/list",
        f"/api/experts/draws/{code}/record.pdf",
        f"/api/experts/draws/{code}/rerun",
        f"/api/draws/{code}/transcript",
        f"/api/draws/{code}/verify",
    ]
    for path in naming:
        for who, headers in (("staff", staff), ("witness", witness)):
            assert (await client.get(path, headers=headers)).status_code == 200, (who, path)
        for who, headers in roles.items():
            response = await client.get(path, headers=headers)
            assert response.status_code == (401 if who == "public" else 403), (who, path)
            assert not any(s in response.text for s in secrets), (who, path)
    # Nor can those outside the center and the bureaus map a public code to a person.
    some = places[0]["expert"]
    for who in ("bidder", "tenderer", "agency", "expert", "auctioneer", "public"):
        for path in ("/api/experts", f"/api/experts/{some}"):
            response = await client.get(path, headers=roles[who])
            assert response.status_code == (401 if who == "public" else 403), (who, path)
    # What every reader may fetch before the evaluation names nobody drawn.
    nameless = [
        "/api/draws?kind=experts",
        f"/api/draws/{code}",
        f"/api/experts/draws/{code}",
        f"/api/audit/streams/draw:{code}/events",
    ]
    for path in nameless:
        for who, headers in {"staff": staff, "witness": witness, **roles}.items():
            response = await client.get(path, headers=headers)
            assert response.status_code in (200, 401, 403), (who, path, response.status_code)
            assert not any(s in response.text for s in secrets), (who, path)
    # The tables hold the list only sealed: no column of a place or a message names an
    # expert, and no row of them, of the request, the draw or its chain shows one.
    columns = (
        await session.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_name IN ('expert_assignment', 'expert_outbox')"
            )
        )
    ).all()
    assert not [c for c in columns if "expert" in c[1]]
    linked = await session.scalar(
        text(
            "SELECT count(*) FROM information_schema.table_constraints t"
            " JOIN information_schema.constraint_column_usage u USING (constraint_name)"
            " WHERE t.table_name IN ('expert_assignment', 'expert_outbox')"
            " AND t.constraint_type = 'FOREIGN KEY' AND u.table_name = 'expert'"
        )
    )
    assert linked == 0
    dump = " ".join(
        (
            await session.execute(
                text(
                    "SELECT t::text FROM expert_assignment t UNION ALL"
                    " SELECT t::text FROM expert_outbox t UNION ALL"
                    " SELECT t::text FROM expert_draw_request t UNION ALL"
                    " SELECT t::text FROM draw t UNION ALL"
                    " SELECT t::text FROM audit_event t WHERE stream LIKE 'draw:%'"
                )
            )
        ).scalars()
    )
    assert not any(s in dump for s in secrets)
