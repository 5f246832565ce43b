"""Draws of experts and agencies (``draw-v1``): the parts every drawing context shares.

The algorithm is ``tendering.core.draw`` (pure). This package keeps every context's draws in
one table, so they are listed and served alike at ``/api/draws``; a context runs its draw
through these functions, each in the caller's transaction with its event in ``draw:<code>``::

    code = await next_draw_code(session, "ED")
    view = await schedule_draw(session, secrecy=, kind=DrawKind.EXPERTS, code=, subject=,
                               title=, witness_id=, actor=, sealed=True)
    view = await fix_draw_pools(session, secrecy=, code=, categories=[Category.of(...)], actor=)
    signed = await make_draw(session, secrecy=, key=, code=, witness_entropy=, actor=witness)
    view = await release_draw(session, secrecy=, code=, actor=)
    transcript = await read_transcript(session, secrecy=, code=, actor=)   # who may: see there
    categories = await draw_pools(session, secrecy=, code=)               # the fixed pools
"""

from tendering.core.draws.models import DrawKind, DrawState
from tendering.core.draws.queries import (
    chain_values,
    draw_pools,
    get_draw,
    list_draws,
    may_read_sealed,
    read_transcript,
)
from tendering.core.draws.service import (
    fix_draw_pools,
    make_draw,
    next_draw_code,
    release_draw,
    schedule_draw,
)
from tendering.core.draws.views import DrawView, SealedDrawBroken, transcript_sha256

__all__ = [
    "DrawKind",
    "DrawState",
    "DrawView",
    "SealedDrawBroken",
    "chain_values",
    "draw_pools",
    "fix_draw_pools",
    "get_draw",
    "list_draws",
    "make_draw",
    "may_read_sealed",
    "next_draw_code",
    "read_transcript",
    "release_draw",
    "schedule_draw",
    "transcript_sha256",
]
