"""Security headers on every response; the API docs page serves its own assets (19.11)."""

from __future__ import annotations

import re

import pytest

from tendering.core.auth.models import Role


def _secured(response) -> None:
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/health", "/api/no-such-thing", "/api/public/notices"])
async def test_every_answer_carries_the_security_headers(client, path):
    response = await client.get(path)
    _secured(response)
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_an_error_answer_carries_them_too(client):
    response = await client.delete("/api/auth/login")
    assert response.status_code == 405
    _secured(response)


async def test_private_answers_are_not_stored(client, people, login):
    staff = await people.user(Role.STAFF)
    assert "no-store" not in (await client.get("/health")).headers.get("cache-control", "")
    headers = await login(staff)
    me = await client.get("/api/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.headers["cache-control"] == "no-store"
    public_with_login = await client.get("/api/public/notices", headers=headers)
    assert public_with_login.headers["cache-control"] == "no-store"


async def test_the_login_answer_is_not_stored(client, people):
    from tests.conftest import TEST_PASSWORD

    staff = await people.user(Role.STAFF)
    response = await client.post(
        "/api/auth/login", json={"username": staff.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_the_docs_page_loads_only_the_platforms_own_scripts(client):
    for path in ("/schema", "/schema/swagger"):
        page = await client.get(path)
        assert page.status_code == 200, path
        text = page.text
        assert "https://" not in text and "http://" not in text  # no CDN
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", text, re.S)
        assert scripts and all('src="/schema/assets/' in attrs for attrs, _ in scripts)
        assert all(body.strip() == "" for _, body in scripts)  # nothing inline
        policy = page.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline' ;" not in policy
        assert "script-src 'self' 'unsafe" not in policy
        for asset in re.findall(r'(?:src|href)="(/schema/assets/[^"]+)"', text):
            served = await client.get(asset)
            assert served.status_code == 200, asset
            assert served.headers["content-type"].startswith(("text/javascript", "text/css"))
            assert len(served.content) > 100


async def test_only_the_listed_docs_assets_are_served(client):
    for name in ("swagger-editor-bundle.js", "..%2F__init__.py", "LICENSE"):
        assert (await client.get(f"/schema/assets/{name}")).status_code == 404
