"""Evaluation experts: the city-wide pool, avoidance (回避), verifiable draws, answers and
the sealed list. Stands on ``tendering.core`` only; its draws run through
``tendering.core.draws`` (``draw-v1``), so they are listed and audited with every other draw.

The tender lifecycle asks for a lot's experts through these (each in the caller's
transaction, ``secrecy = Secrecy.of(platform_key)``)::

    request = await request_draw(session, secrecy=, spec=DrawRequestIn(...), actor=staff)
    await fix_pools(session, secrecy=, code=request.draw_code, actor=staff)
    signed, short = await draw_experts(session, secrecy=, key=, code=, witness_entropy=,
                                       actor=witness)
    places = await drawn_list(session, secrecy=, code=, actor=staff_or_witness)
    await release_experts(session, secrecy=, code=, actor=)      # the evaluation starts
    report = await import_experts(session, secrecy=, raw=csv_bytes, actor=)
"""

from experts.answers import drawn_list
from experts.imports import import_experts
from experts.requests import draw_experts, fix_pools, release_experts, request_draw
from experts.schemas import DrawRequestIn

__all__ = [
    "DrawRequestIn",
    "draw_experts",
    "drawn_list",
    "fix_pools",
    "import_experts",
    "release_experts",
    "request_draw",
]
