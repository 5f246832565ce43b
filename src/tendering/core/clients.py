"""The client's address, as the login throttle keys on it: behind trusted proxies, the
address they forwarded; otherwise the TCP peer.

    >>> from ipaddress import ip_network
    >>> lb = TrustedProxies([ip_network("10.0.0.0/8")])
    >>> client_address("10.0.0.5", ["203.0.113.7, 10.0.0.9"], lb)
    '203.0.113.7'
    >>> client_address("198.51.100.1", ["203.0.113.7"], lb)  # not a proxy: header ignored
    '198.51.100.1'

Each proxy appends the address it received the request from to ``X-Forwarded-For``, so
only the right-hand end of the header is vouched for: walking from the right, trusted
proxies are skipped and the first address that is not one of them is the client. Anything
to its left was written by the client itself and may be made up (a guesser would send a
new made-up address with every try). A malformed entry stops the walk: the client is the
last address a trusted proxy vouched for. uvicorn's own header handling is off
(``proxy_headers=False`` in ``core/runtime.py``) so this is the only reading.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from litestar import Request

from tendering.settings import TrustedProxies

__all__ = ["FORWARDED_FOR", "client_address", "request_client"]

FORWARDED_FOR = "x-forwarded-for"


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: Iterable[str], trusted: TrustedProxies) -> str:
    """The client behind ``peer``: see the module's docstring. ``forwarded_for`` holds the
    values of every ``X-Forwarded-For`` header, in the order they came."""
    if peer not in trusted:
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    client = peer
    for hop in reversed(hops):
        if _ip(hop) is None:
            break
        client = str(_ip(hop))
        if client not in trusted:
            break
    return client


def request_client(request: Request[Any, Any, Any], trusted: TrustedProxies) -> str:
    peer = request.client.host if request.client else ""
    return client_address(peer, request.headers.getall(FORWARDED_FOR, []), trusted)
