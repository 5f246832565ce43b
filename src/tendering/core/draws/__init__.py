"""Draws of experts and agencies (``draw-v1``), the parts every drawing context shares.

The algorithm itself is ``tendering.core.draw``; this package holds the command line.
"""
