"""``/api/draws``: who lists, who reads a transcript, and the bureau's re-run."""

from __future__ import annotations

import hashlib
import json

from tendering.core.auth.models import Role
from tendering.core.db import make_sessionmaker
from tendering.core.draws import DrawKind, fix_draw_pools, make_draw, schedule_draw
from tendering.core.secrecy import Secrecy
from tendering.core.signing import load_platform_key

from .conftest import categories


async def _draw(engine, settings, cast, code: str = "ED-2026-0001") -> None:
    key = load_platform_key(settings)
    secrecy = Secrecy.of(key)
    async with make_sessionmaker(engine)() as session, session.begin():
        await schedule_draw(
            session,
            secrecy=secrecy,
            kind=DrawKind.EXPERTS,
            code=code,
            subject="lot:L-1",
            title="教学楼",
            witness_id=cast.witness.user.id,
            actor=cast.staff_actor,
        )
        await fix_draw_pools(
            session, secrecy=secrecy, code=code, categories=categories(), actor=cast.staff_actor
        )
        await make_draw(
            session,
            secrecy=secrecy,
            key=key,
            code=code,
            witness_entropy="7391",
            actor=cast.witness_actor,
        )


async def test_staff_and_supervisors_list_draws_others_may_not(
    client, app, engine, settings, cast, login, people
):
    await _draw(engine, settings, cast)
    for person in (cast.other_staff, cast.other_supervisor):
        listed = await client.get("/api/draws?kind=experts", headers=await login(person))
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert body["total"] == 1
        item = body["items"][0]
        assert item["code"] == "ED-2026-0001" and item["state"] == "drawn"
        assert item["witness"] == f"user:{cast.witness.user.id}"
        assert item["sealed"] is True and len(item["commitment"]) == 64
    for role in (Role.BIDDER, Role.EXPERT, Role.AGENCY):
        outsider = await people.user(role)
        refused = await client.get("/api/draws", headers=await login(outsider))
        assert refused.status_code == 403
    assert (await client.get("/api/draws")).status_code == 401


async def test_the_transcript_is_the_canonical_object_whose_hash_the_chain_recorded(
    client, app, engine, settings, cast, login
):
    await _draw(engine, settings, cast)
    response = await client.get(
        "/api/draws/ED-2026-0001/transcript", headers=await login(cast.witness)
    )
    assert response.status_code == 200, response.text
    document = json.loads(response.content)
    assert set(document) == {
        "algorithm",
        "draw",
        "commitment",
        "pool_hash",
        "server_secret",
        "witness_entropy",
        "seed",
        "categories",
        "signature",
    }
    draw = (await client.get("/api/draws/ED-2026-0001", headers=await login(cast.staff))).json()
    assert hashlib.sha256(response.content).hexdigest() == draw["transcript_sha256"]
    sealed = await client.get(
        "/api/draws/ED-2026-0001/transcript", headers=await login(cast.other_supervisor)
    )
    assert sealed.status_code == 403
    assert sealed.json()["code"] == "draw.sealed"


async def test_the_bureau_re_runs_stored_and_handed_in_transcripts(
    client, app, engine, settings, cast, login
):
    await _draw(engine, settings, cast)
    headers = await login(cast.witness)
    stored = await client.get("/api/draws/ED-2026-0001/verify", headers=headers)
    assert stored.json() == {"draw": "ED-2026-0001", "ok": True, "problems": []}
    document = json.loads(
        (await client.get("/api/draws/ED-2026-0001/transcript", headers=headers)).content
    )
    handed = await client.post("/api/draws/verify", json=document, headers=headers)
    assert handed.status_code == 200 and handed.json()["ok"] is True
    document["categories"][0]["picks"].reverse()
    tampered = (await client.post("/api/draws/verify", json=document, headers=headers)).json()
    assert tampered["ok"] is False
    assert any("differ from a re-run" in p for p in tampered["problems"])
    nonsense = await client.post("/api/draws/verify", json=[1, 2], headers=headers)
    assert nonsense.status_code == 200 and nonsense.json()["ok"] is False


async def test_an_unknown_draw_is_404(client, app, cast, login):
    response = await client.get("/api/draws/ED-1-1/transcript", headers=await login(cast.staff))
    assert response.status_code == 404
    assert response.json()["code"] == "draw.not_found"
