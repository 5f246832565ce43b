"""Random bodies against the directory and login: always an answer in 2xx/4xx, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tendering.core.auth.actor import Actor
from tendering.core.auth.models import OrgKind, Role
from tendering.core.auth.rules import (
    CREDIT_CODE_ALPHABET,
    ORG_CODE_PATTERN,
    USERNAME_PATTERN,
    credit_code_check_char,
)
from tendering.core.auth.service import create_user, ensure_center_organization
from tests.conftest import bearer_client, in_transaction

PASSWORD = "fuzz-admin-password"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _field(plausible: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(plausible, plausible, plausible, json_values)


printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=250)
credit_codes = st.tuples(
    st.text(CREDIT_CODE_ALPHABET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(CREDIT_CODE_ALPHABET, min_size=9, max_size=9),
).map(lambda parts: "".join(parts) + credit_code_check_char("".join(parts)))


def _bodies(required: dict, optional: dict) -> st.SearchStrategy:
    """Whole bodies (all required fields), partial ones, and any JSON at all."""
    return st.one_of(
        st.fixed_dictionaries(required, optional=optional),
        st.fixed_dictionaries({}, optional={**required, **optional}),
        json_values,
    )


organizations = _bodies(
    {
        "code": _field(st.from_regex(ORG_CODE_PATTERN, fullmatch=True)),
        "name": _field(printable),
        "kind": _field(st.sampled_from([k.value for k in OrgKind])),
    },
    {
        "region": _field(printable),
        "credit_code": _field(st.none() | credit_codes | st.text(CREDIT_CODE_ALPHABET)),
    },
)
users = _bodies(
    {
        "username": _field(st.from_regex(USERNAME_PATTERN, fullmatch=True)),
        "password": _field(
            st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=8, max_size=220)
        ),
        # Roles that fit the center first: hypothesis leans towards the first choice.
        "role": _field(st.sampled_from(["staff", "admin", "expert", "bidder", "agency", "king"])),
        "organization": _field(st.sampled_from(["CENTER", "CENTER", "NOPE"])),
    },
    {"display_name": _field(printable)},
)
logins = _bodies(
    {"username": _field(st.text(max_size=70)), "password": _field(st.text(max_size=210))}, {}
)


async def _make_admin(session) -> None:
    center = await ensure_center_organization(session, actor=Actor.system("test"))
    await create_user(
        session, username="fuzz-admin", password=PASSWORD, role=Role.ADMIN, organization=center
    )


@pytest.fixture
def admin_client(committed, app, database_url):
    in_transaction(database_url, _make_admin)
    with bearer_client(app, "fuzz-admin", PASSWORD) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "bodies", "reached"),
    [
        ("/api/organizations", organizations, {201, 400}),
        ("/api/users", users, {201, 400}),
        ("/api/auth/login", logins, {400, 401}),
    ],
)
def test_random_bodies_never_get_a_500(admin_client, path, bodies, reached):
    @settings(
        max_examples=120,
        deadline=None,
        derandomize=True,  # the same bodies every run, so "reached" below is stable
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(bodies)
    def post(body):
        response = admin_client.post(path, json=body)
        assert response.status_code < 500, (body, response.text)
        seen.add(response.status_code)

    seen: set[int] = set()
    post()
    assert reached <= seen  # the fuzz got past validation into the service, too
