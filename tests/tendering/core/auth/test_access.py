from __future__ import annotations

import pytest

from tendering.core.auth.access import OVERSIGHT_ROLES, ensure_own_organization, hidden
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind, Role
from tendering.core.errors import NotFound


def _actor(role: Role, organization_id: int) -> Actor:
    return Actor(
        user_id=7,
        username="u",
        role=role,
        organization_id=organization_id,
        organization_kind=OrgKind.BIDDER,
    )


def test_own_organization_passes():
    ensure_own_organization(_actor(Role.BIDDER, 3), 3)


def test_another_organization_is_not_found_reading_like_a_missing_thing():
    with pytest.raises(NotFound) as caught:
        ensure_own_organization(_actor(Role.BIDDER, 3), 4, thing="Deposit D-1")
    assert caught.value.to_body() == hidden("Deposit D-1").to_body()


def test_oversight_roles_pass_only_when_listed():
    staff = _actor(Role.STAFF, 1)
    with pytest.raises(NotFound):
        ensure_own_organization(staff, 4)
    ensure_own_organization(staff, 4, except_roles=OVERSIGHT_ROLES)


def test_a_thing_without_organization_is_nobodys():
    with pytest.raises(NotFound):
        ensure_own_organization(_actor(Role.BIDDER, 3), None)


def test_the_platform_itself_reaches_everything():
    ensure_own_organization(Actor.system("publish_notices"), 4)
