"""The organization and user directory: admin writes, oversight reads, bidders see their own."""

from __future__ import annotations

import pytest

from tendering.core.auth.models import OrgKind, Role
from tests.tendering.core.auth.conftest import VALID_CREDIT_CODE

ORG = {"code": "BID-0100", "name": "闽江建设工程有限公司", "kind": "bidder", "region": "福州"}


async def test_admin_registers_an_organization_and_it_is_audited(
    client, admin_headers, audit_actions
):
    body = {**ORG, "credit_code": VALID_CREDIT_CODE.lower()}
    response = await client.post("/api/organizations", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["code"] == "BID-0100"
    assert created["credit_code"] == VALID_CREDIT_CODE
    assert created["created_at"] is not None
    actions = await audit_actions()
    assert actions[-1][0] == "organization.created"
    assert actions[-1][1].startswith("user:")


async def test_admin_creates_a_user_who_can_then_log_in(client, admin_headers, audit_actions):
    await client.post("/api/organizations", json=ORG, headers=admin_headers)
    response = await client.post(
        "/api/users",
        json={
            "username": "zhang.wei",
            "password": "long-enough-pw",
            "role": "bidder",
            "organization": "BID-0100",
            "display_name": "张伟",
        },
        headers=admin_headers,
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        **response.json(),
        "username": "zhang.wei",
        "role": "bidder",
        "organization": "BID-0100",
        "is_active": True,
    }
    assert "password" not in response.text
    assert (await audit_actions())[-1][0] == "user.created"
    login = await client.post(
        "/api/auth/login", json={"username": "zhang.wei", "password": "long-enough-pw"}
    )
    assert login.status_code == 200
    assert login.json()["user"]["display_name"] == "张伟"


async def test_admin_lists_users_filtered_by_organization(client, people, admin_headers):
    org = await people.organization(OrgKind.BIDDER)
    mine = await people.user(Role.BIDDER, organization=org)
    await people.user(Role.BIDDER)
    response = await client.get(
        "/api/users", params={"organization": org.code}, headers=admin_headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    assert [u["username"] for u in body["items"]] == [mine.username]


async def test_staff_list_organizations_paginated_by_code(client, people, login):
    staff = await people.user(Role.STAFF)
    for _ in range(3):
        await people.organization(OrgKind.BIDDER)
    response = await client.get(
        "/api/organizations",
        params={"kind": "bidder", "page_size": 2},
        headers=await login(staff),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    codes = [o["code"] for o in body["items"]]
    assert codes == sorted(codes)
    assert len(codes) == 2
    rest = await client.get(
        "/api/organizations",
        params={"kind": "bidder", "page_size": 2, "current_page": 2},
        headers=await login(staff),
    )
    assert (rest.json()["offset"], rest.json()["total"]) == (2, 3)
    (last,) = [o["code"] for o in rest.json()["items"]]
    assert last > codes[-1]


@pytest.mark.parametrize("role", [Role.BIDDER, Role.AGENCY, Role.EXPERT])
async def test_other_roles_may_not_list_organizations(client, people, login, role):
    person = await people.user(role)
    response = await client.get("/api/organizations", headers=await login(person))
    assert response.status_code == 403


async def test_staff_may_not_create_organizations_or_users(client, people, login):
    headers = await login(await people.user(Role.STAFF))
    assert (await client.post("/api/organizations", json=ORG, headers=headers)).status_code == 403
    assert (await client.get("/api/users", headers=headers)).status_code == 403


async def test_a_bidder_reads_its_own_organization_but_not_anothers(client, people, login):
    bidder = await people.user(Role.BIDDER)
    other = await people.organization(OrgKind.BIDDER)
    headers = await login(bidder)
    own = await client.get(f"/api/organizations/{bidder.organization.code}", headers=headers)
    assert own.status_code == 200
    assert own.json()["code"] == bidder.organization.code
    theirs = await client.get(f"/api/organizations/{other.code}", headers=headers)
    missing = await client.get("/api/organizations/BIDDER-9999", headers=headers)
    assert theirs.status_code == missing.status_code == 404
    # Same words, so a bidder cannot tell "exists but not yours" from "does not exist".
    assert theirs.json()["detail"].replace(other.code, "X") == missing.json()["detail"].replace(
        "BIDDER-9999", "X"
    )


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STAFF, Role.SUPERVISOR])
async def test_oversight_roles_read_any_organization(client, people, login, role):
    other = await people.organization(OrgKind.BIDDER)
    response = await client.get(
        f"/api/organizations/{other.code}", headers=await login(await people.user(role))
    )
    assert response.status_code == 200


async def test_duplicate_code_and_username_are_409(client, people, admin_headers):
    first = await client.post("/api/organizations", json=ORG, headers=admin_headers)
    assert first.status_code == 201
    again = await client.post(
        "/api/organizations", json={**ORG, "name": "另一家"}, headers=admin_headers
    )
    assert again.status_code == 409
    assert again.json()["field"] == "code"
    existing = await people.user(Role.BIDDER)
    taken = await client.post(
        "/api/users",
        json={
            "username": existing.username,
            "password": "long-enough-pw",
            "role": "bidder",
            "organization": "BID-0100",
        },
        headers=admin_headers,
    )
    assert taken.status_code == 409
    assert taken.json()["field"] == "username"


USER = {
    "username": "li.na",
    "password": "long-enough-pw",
    "role": "bidder",
    "organization": "BID-0100",
}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/organizations", {k: v for k, v in ORG.items() if k != "name"}, "name"),
        ("/api/organizations", {**ORG, "kind": "bank"}, "kind"),
        ("/api/organizations", {**ORG, "code": "bid|0100"}, "code"),
        ("/api/organizations", {**ORG, "name": ""}, "name"),
        ("/api/organizations", {**ORG, "name": "x" * 100_000}, "name"),
        ("/api/organizations", {**ORG, "name": "a\u0000b"}, "name"),
        ("/api/organizations", {**ORG, "name": 12}, "name"),
        ("/api/organizations", {**ORG, "region": ["福州"]}, "region"),
        ("/api/organizations", {**ORG, "credit_code": "91350100M000100Y44"}, "credit_code"),
        ("/api/organizations", {**ORG, "credit_code": "123"}, "credit_code"),
        ("/api/organizations", {**ORG, "extra": 1}, "extra"),
        ("/api/users", {**USER, "password": "short"}, "password"),
        ("/api/users", {**USER, "role": "king"}, "role"),
        ("/api/users", {**USER, "username": "a b"}, "username"),
        ("/api/users", {**USER, "username": "x" * 5000}, "username"),
        ("/api/users", {**USER, "organization": None}, "organization"),
        ("/api/users", {k: v for k, v in USER.items() if k != "role"}, "role"),
        ("/api/users", {**USER, "organization": "NO-SUCH-ORG"}, "organization"),
        ("/api/users", {**USER, "role": "staff"}, "role"),  # a staff user in a bidder company
    ],
)
async def test_bad_input_is_400_naming_the_field(
    client, admin_headers, audit_actions, path, body, field
):
    await client.post("/api/organizations", json=ORG, headers=admin_headers)
    before = await audit_actions()
    response = await client.post(path, json=body, headers=admin_headers)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field, response.json()
    assert await audit_actions() == before


@pytest.mark.parametrize(
    "content",
    [b"not json", b"{", b"[]", b'"text"', b"null", b"\xff\xfe", b'{"code": 1e400}'],
)
async def test_malformed_bodies_are_4xx_never_500(client, admin_headers, content):
    for path in ("/api/organizations", "/api/users", "/api/auth/login"):
        response = await client.post(
            path, content=content, headers={**admin_headers, "Content-Type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (path, content, response.text)
        assert response.json()["status"] == response.status_code


async def test_query_parameters_out_of_range_are_400(client, admin_headers):
    for params in (
        {"page_size": 0},
        {"page_size": 101},
        {"page_size": "many"},
        {"current_page": 0},
        {"current_page": 10**30},
        {"kind": "bank"},
    ):
        response = await client.get("/api/organizations", params=params, headers=admin_headers)
        assert response.status_code == 400, (params, response.text)


async def test_deactivating_twice_changes_nothing_the_second_time(
    client, people, admin_headers, audit_actions
):
    bidder = await people.user(Role.BIDDER)
    path = f"/api/users/{bidder.username}/deactivate"
    assert (await client.post(path, headers=admin_headers)).status_code == 200
    count = len(await audit_actions())
    assert (await client.post(path, headers=admin_headers)).status_code == 200
    assert len(await audit_actions()) == count
    assert (await audit_actions())[-1][0] == "user.deactivated"


async def test_an_admin_cannot_deactivate_themselves(client, people, login):
    admin = await people.user(Role.ADMIN)
    response = await client.post(
        f"/api/users/{admin.username}/deactivate", headers=await login(admin)
    )
    assert response.status_code == 409


async def test_deactivating_an_unknown_user_is_404(client, admin_headers):
    response = await client.post("/api/users/nobody-here/deactivate", headers=admin_headers)
    assert response.status_code == 404


async def test_organizations_made_at_once_are_those_made_one_by_one_audited_alike(session):
    from tendering.core.audit import GLOBAL
    from tendering.core.audit.service import list_events
    from tendering.core.auth.service import NewOrganization, create_organizations
    from tendering.core.errors import Conflict

    new = [
        NewOrganization(code=f"AGY-{n:04d}", name=f"代理{n}", kind=OrgKind.AGENCY, region="某某县")
        for n in (2, 3, 4)
    ]
    made = await create_organizations(session, new)
    assert [(o.code, o.name, o.kind, o.region) for o in made] == [
        (n.code, n.name, n.kind, n.region) for n in new
    ]
    assert all(o.id is not None and o.created_at is not None for o in made)
    events = await list_events(session, stream=GLOBAL)
    assert [(e["seq"], e["action"], e["payload"]) for e in events] == [
        (n, "organization.created", {"organization": o.code, "kind": "agency", "name": o.name})
        for n, o in enumerate(new, start=1)
    ]
    assert [e["prev_hash"] for e in events[1:]] == [e["hash"] for e in events[:-1]]  # chained
    # A code taken, or given twice: refused, and nothing written.
    for again in ([new[0]], [NewOrganization("AGY-0009", "甲", OrgKind.AGENCY)] * 2):
        with pytest.raises(Conflict):
            await create_organizations(session, again)
    assert len(await list_events(session, stream=GLOBAL)) == 3
