"""The opening-key ceremony, the bid opening and its record (开标记录表).

Other contexts use :func:`tendering.opening.ceremony.hold_key_ceremonies` (called when a
notice is published) and :func:`tendering.opening.ceremony.lot_key` (the published key).
"""
