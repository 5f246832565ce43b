"""The opening-key ceremony, the bid opening and its record (开标记录表).

Nothing below uses this context. ``app.register_contexts`` connects the ceremony to the
tenders context's ``lots_published`` hook::

    hold_key_ceremonies(session, LotsPublished(lots, actor))   # a lot's key, at publication
"""

from tendering.opening.ceremony import hold_key_ceremonies

__all__ = ["hold_key_ceremonies"]
