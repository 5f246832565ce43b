"""Custodians are not bidders (issue 19.5): who may hold a custodian key, and which set of
custodians may hold one lot's key, checked at the ceremony and again at the opening."""

from __future__ import annotations

import pytest

from tendering.core.auth.models import OrgKind, Role
from tendering.opening.custodians import Custodian, custodian_problems
from tendering.settings import Settings, SettingsError
from tests.tendering.bids.conftest import PASSPHRASES

ROLES = frozenset({"staff", "supervisor", "expert"})


async def _register(world, person) -> int:
    headers = await world.login(person)
    response = await world.client.post(
        "/api/custodians/me/key", headers=headers, json={"passphrase": PASSPHRASES[0]}
    )
    return response.status_code


@pytest.mark.parametrize("role", [Role.BIDDER, Role.AGENCY])
async def test_bidders_and_agencies_may_not_register_a_custodian_key(world, role):
    person = await world.people.user(role)
    assert await _register(world, person) == 403


async def test_a_staff_member_of_a_bidder_organization_may_not_either(world):
    company = await world.people.organization(OrgKind.BIDDER)
    person = await world.people.user(Role.STAFF, organization=company)
    assert await _register(world, person) == 403


async def test_the_roles_that_may_hold_keys_are_configured(world, monkeypatch):
    monkeypatch.setenv("TENDERING_CUSTODIAN_ROLES", "staff,supervisor")
    assert await _register(world, await world.people.user(Role.EXPERT)) == 403
    assert await _register(world, await world.people.user(Role.SUPERVISOR)) == 201


@pytest.mark.parametrize("value", ["staff,bidder", "agency", "staff,king"])
def test_the_setting_never_admits_bidders_agencies_or_unknown_roles(value):
    with pytest.raises(SettingsError):
        Settings.from_env({"TENDERING_CUSTODIAN_ROLES": value})


def _people(*orgs: tuple[int, str]) -> list[Custodian]:
    role = {"supervisor": "supervisor", "center": "staff"}
    return [
        Custodian(i, role[kind], org, kind, True) for i, (org, kind) in enumerate(orgs, start=1)
    ]


def test_custodians_of_one_organization_or_without_a_supervisor_are_refused():
    assert custodian_problems(_people((1, "center"), (1, "center")), k=2, roles=ROLES)
    assert custodian_problems(_people((1, "center"), (2, "center")), k=2, roles=ROLES)
    assert not custodian_problems(_people((1, "center"), (2, "supervisor")), k=2, roles=ROLES)


def test_no_organization_may_hold_k_shares():
    people = _people((1, "center"), (1, "center"), (2, "supervisor"))
    assert custodian_problems(people, k=2, roles=ROLES)
    assert not custodian_problems(people, k=3, roles=ROLES)


async def test_a_lot_whose_custodians_share_one_organization_gets_no_key(world):
    center = await world.people.organization(OrgKind.CENTER)
    ids = []
    for _ in range(2):
        person = await world.people.user(Role.STAFF, organization=center)
        assert await _register(world, person) == 201
        ids.append(person.user.id)
    project = await world.desk.project()
    lot = await world.desk.lot(project, custodians=ids, custodian_k=2)
    await world.desk.publish(await world.desk.notice(project, [lot]))
    no_key = await world.client.get(f"/api/lots/{lot}/opening-key")
    assert no_key.json()["code"] == "bid.no_opening_key", no_key.text
    waiting = await world.sql(
        "SELECT payload FROM audit_event WHERE action = 'opening.key_ceremony_waiting'"
    )
    assert waiting and waiting[-1][0]["problems"], waiting
    held = await world.client.post(
        f"/api/lots/{lot}/key-ceremony", headers=world.desk.staff_headers
    )
    assert held.status_code == 400 and held.json()["code"] == "opening.custodians_rule"


async def test_the_opening_checks_the_custodians_again(world):
    await world.publish_lot(n=2, k=2)  # a staff member and a supervisor: a key is made
    staff, supervisor = (person for person, _ in world.custodians)
    # The supervisor has since joined the staff member's organization.
    await world.sql(
        "UPDATE app_user SET organization_id = :org WHERE id = :id",
        org=staff.organization.id,
        id=supervisor.user.id,
    )
    await world.pass_deadline()
    started = await world.client.post(
        f"/api/lots/{world.lot}/opening", headers=world.desk.staff_headers
    )
    assert started.status_code == 201, started.text
    _, headers = world.custodians[0]
    entered = await world.client.post(
        f"/api/lots/{world.lot}/opening/passphrase",
        headers=headers,
        json={"passphrase": PASSPHRASES[0]},
    )
    assert entered.status_code == 400, entered.text
    assert entered.json()["code"] == "opening.custodians_rule"
