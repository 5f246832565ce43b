"""Evaluation experts: the city-wide pool, avoidance, verifiable draws, confirmations."""
