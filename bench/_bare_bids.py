"""The floor of the bid route over HTTP, for ``auction_hot.py``: Litestar under uvicorn as
``tendering serve`` runs them, and a route at the same path that decides a bid against a
price held in memory: no login, no database, no writer, no audit. What a bidder's round trip
costs in this stack on this machine, before the platform does any of its own work.

    python bench/_bare_bids.py PORT
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from litestar import Litestar, Response, post

START = 100_000_000
STEP = 1_000_000
_price: list[int | None] = [None]


@post("/api/auctions/{code:str}/bids", sync_to_thread=False)
def bid(code: str, data: dict[str, Any]) -> Response[dict[str, Any]]:
    amount = int(data["amount_fen"])
    price = _price[0]
    floor = START if price is None else price + STEP
    if amount >= floor and (amount - (START if price is None else price)) % STEP == 0:
        _price[0] = amount
        return Response({"accepted": True, "price_fen": amount}, status_code=201)
    return Response(
        {"code": "auction.outbid", "details": {"current_price_fen": price}}, status_code=409
    )


def main() -> None:
    from tendering.core.interpreter import tune_interpreter  # not core.runtime: a second

    tune_interpreter()
    app = Litestar(route_handlers=[bid])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")


if __name__ == "__main__":
    main()
