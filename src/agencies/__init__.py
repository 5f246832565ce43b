"""Intermediary agencies (中介机构): registry (备案), pre-selection pool (预选库), weighted
random selection (``draw-v1`` through ``tendering.core.draws``) and integrity scoring
(诚信综合评价); docs/agencies.md. Stands on ``tendering.core`` only.

Other contexts (the tender lifecycle) select an agency through these, in their transaction::

    selection = await start_selection(session, secrecy=, actor=, project=, client=,
                                      category=ServiceCategory.COST_CONSULTING, count=1,
                                      backups=3, witness_id=, max_open=3)
    signed = await draw_selection(session, secrecy=, key=, actor=witness, code=selection.code,
                                  witness_entropy=)
"""

from agencies.models import ServiceCategory
from agencies.selection import draw_selection, start_selection

__all__ = ["ServiceCategory", "draw_selection", "start_selection"]
