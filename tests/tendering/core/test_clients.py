"""The client's address: ``X-Forwarded-For`` believed only from trusted proxies."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from tendering.core.clients import client_address
from tendering.core.runtime import server_config
from tendering.settings import Settings, TrustedProxies

PROXIES = TrustedProxies([ip_network("10.0.0.0/8"), ip_network("fd00::/8")])


@pytest.mark.parametrize(
    ("peer", "headers", "client"),
    [
        ("198.51.100.1", ["203.0.113.7"], "198.51.100.1"),  # not a proxy: header ignored
        ("10.0.0.5", [], "10.0.0.5"),  # a proxy that forwarded nothing
        ("10.0.0.5", ["203.0.113.7"], "203.0.113.7"),
        ("10.0.0.5", ["192.0.2.1, 203.0.113.7"], "203.0.113.7"),  # the left is the client's word
        ("10.0.0.5", ["203.0.113.7, 10.0.0.9"], "203.0.113.7"),  # two proxies in a row
        ("10.0.0.5", ["192.0.2.1", "203.0.113.7"], "203.0.113.7"),  # two headers, in order
        ("10.0.0.5", ["10.0.0.8, 10.0.0.9"], "10.0.0.8"),  # proxies all the way
        ("10.0.0.5", ["203.0.113.7, not-an-ip"], "10.0.0.5"),  # stop at a bad hop
        ("10.0.0.5", ["not-an-ip, 203.0.113.7"], "203.0.113.7"),
        ("fd00::1", ["2001:db8::7"], "2001:db8::7"),
        ("testclient", ["203.0.113.7"], "testclient"),
    ],
)
def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy(peer, headers, client):
    assert client_address(peer, headers, PROXIES) == client


def test_without_trusted_proxies_the_client_is_the_peer():
    assert client_address("127.0.0.1", ["203.0.113.7"], TrustedProxies()) == "127.0.0.1"


def test_uvicorn_leaves_the_forwarded_header_to_the_platform():
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default and rewrites the client.
    config = server_config(object(), Settings())  # type: ignore[arg-type]
    assert config.proxy_headers is False
