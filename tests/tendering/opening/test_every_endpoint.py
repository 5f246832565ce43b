"""Every GET endpoint, as every kind of viewer, before the opening: nothing tells the
organizations that bid from one that registered and paid but did not, or from one that
never registered (a directory of all organizations may name them all alike)."""

from __future__ import annotations

import re
from datetime import date

from tendering.core.auth.models import Role

# The live stream follows the opening until it ends (before it, it publishes nothing: see
# tests/tendering/opening/test_live.py); the schema pages describe the API, not its data.
NOT_DATA = ("/api/lots/{lot_code:str}/opening/live", "/schema")


def _fill(path: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        return values.get(match.group(1), "1")

    return re.sub(r"\{(\w+):\w+\}", one, path)


async def test_no_get_endpoint_tells_who_bid_before_the_opening(world):
    await world.publish_lot(n=2, k=2)
    bidders = [await world.bidder() for _ in range(3)]
    for bidder in bidders:
        await world.submit(bidder)
    idle = await world.bidder()  # registered and paid, did not bid
    stranger = await world.bidder(register=False, deposit=False)
    tracked = [*bidders, idle, stranger]
    supervisor = await world.people.user(Role.SUPERVISOR)
    viewers = {
        "staff": world.desk.staff_headers,
        "supervisor": await world.login(supervisor),
        "other bidder": (await world.bidder()).headers,
        "public": {},
    }
    values = {
        "lot_code": world.lot,
        "notice_id": str(world.notice_id),
        "stream": f"lot:{world.lot}",
        "year": str(date.today().year),
        "day": date.today().isoformat(),
    }
    paths = [
        _fill(route.path, values)
        for route in world.client.app.routes
        if "GET" in getattr(route, "methods", set()) and not route.path.startswith(NOT_DATA)
    ]
    asked = 0
    for name, headers in viewers.items():
        for path in paths:
            for query in ("", f"?subject=lot:{world.lot}&after_seq=0"):
                response = await world.client.get(path + query, headers=headers)
                assert response.status_code < 500, (name, path, response.text)
                asked += 1
                for mark in ("code", "name"):
                    named = {
                        (b.code if mark == "code" else b.person.organization.name) in response.text
                        for b in tracked
                    }
                    assert len(named) == 1, (name, path + query, mark, response.text[:300])
    assert asked > 150
