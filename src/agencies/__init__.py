"""Intermediary agencies (中介机构): registry (备案), pre-selection pool (预选库), weighted
random selection (``draw-v1`` through ``tendering.core.draws``) and integrity scoring
(诚信综合评价). Stands on ``tendering.core`` only; others use it through what this package
exports."""

__all__: list[str] = []
