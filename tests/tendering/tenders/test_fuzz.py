"""Random input against the tender API: always a 2xx/4xx answer, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tendering.core.auth.models import OrgKind, Role
from tendering.core.auth.service import create_organization, create_user
from tests.conftest import bearer_client, in_transaction

PASSWORD = "fuzz-staff-password"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=100),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
texts = st.text(min_size=1, max_size=120)  # includes NUL and other control characters
moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(lambda d: d.isoformat())
soon = st.integers(0, 60).map(lambda d: (datetime.now(UTC) + timedelta(days=d)).isoformat())
amounts = st.integers(1, 10**10) | st.integers(-(2**64), 2**64)


def _field(plausible: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(plausible, plausible, plausible, json_values)


def _bodies(required: dict, optional: dict) -> st.SearchStrategy:
    return st.one_of(
        st.fixed_dictionaries(required, optional=optional),
        st.fixed_dictionaries({}, optional={**required, **optional}),
        json_values,
    )


projects = _bodies(
    {
        "code": _field(st.from_regex(r"[A-Z]{2}-[0-9]{4}-[0-9]{1,4}", fullmatch=True)),
        "title": _field(texts),
        "tenderer": _field(st.sampled_from(["TND-FUZZ", "NOPE", "BID-FUZZ"])),
        "category": _field(st.sampled_from(["works", "goods", "services", "art"])),
        "funding_source": _field(texts),
        "estimated_price_fen": _field(amounts),
    },
    {
        "region": _field(texts),
        "rule_overrides": _field(
            st.fixed_dictionaries({}, optional={"max_deposit_bp": amounts, "min_bid_days": amounts})
        ),
    },
)
lots = _bodies(
    {
        "number": _field(st.integers(2, 99) | st.integers(-5, 120)),
        "title": _field(texts),
        "estimated_price_fen": _field(st.integers(10**6, 10**10) | amounts),
        "deposit_fen": _field(st.integers(0, 1000) | amounts),
    },
    {
        "bid_fields": _field(
            st.lists(
                st.fixed_dictionaries(
                    {"name": _field(texts), "type": _field(st.sampled_from(["integer", "string"]))},
                    optional={"min": amounts, "max": amounts},
                )
            ),
        ),
        "custodians": _field(st.lists(amounts, max_size=4)),
        "custodian_k": _field(amounts),
    },
)
notices = _bodies(
    {
        "project": _field(st.just("JY-FUZZ-0001")),
        "lots": _field(st.lists(st.sampled_from(["JY-FUZZ-0001-01", "X"]), max_size=3)),
        "title": _field(texts),
        "documents_from": _field(soon | moments),
        "documents_to": _field(soon | moments),
        "bid_deadline": _field(soon | moments),
        "opening_at": _field(soon | moments),
    },
    {"body": _field(texts)},
)


async def _prepare(session) -> None:
    center = await create_organization(
        session, code="CTR-FUZZ", name="交易中心", kind=OrgKind.CENTER
    )
    await create_organization(
        session, code="TND-FUZZ", name="某某县第一中学", kind=OrgKind.TENDERER
    )
    await create_user(
        session, username="fuzz-staff", password=PASSWORD, role=Role.STAFF, organization=center
    )


@pytest.fixture
def staff_client(committed, app, database_url):
    in_transaction(database_url, _prepare)
    with bearer_client(app, "fuzz-staff", PASSWORD) as client:
        project = {
            "code": "JY-FUZZ-0001",
            "title": "测试",
            "tenderer": "TND-FUZZ",
            "category": "works",
            "funding_source": "财政",
            "estimated_price_fen": 10**9,
        }
        assert client.post("/api/tenders/projects", json=project).status_code == 201
        lot = {"number": 1, "title": "一标段", "estimated_price_fen": 10**8, "deposit_fen": 0}
        assert client.post("/api/tenders/projects/JY-FUZZ-0001/lots", json=lot).status_code == 201
        yield client


FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize(
    ("path", "bodies", "reached"),
    [
        ("/api/tenders/projects", projects, {201, 400}),
        ("/api/tenders/projects/JY-FUZZ-0001/lots", lots, {201, 400}),
        ("/api/tenders/notices", notices, {400}),
    ],
)
def test_random_bodies_never_get_a_500(staff_client, path, bodies, reached):
    seen: set[int] = set()

    @FUZZ
    @given(bodies)
    def post(body):
        response = staff_client.post(path, json=body)
        assert response.status_code < 500, (body, response.text)
        seen.add(response.status_code)

    post()
    assert reached <= seen


def test_random_search_and_paths_never_get_a_500(staff_client):
    params = st.dictionaries(
        st.sampled_from(
            [
                "category",
                "status",
                "region",
                "q",
                "published_from",
                "published_to",
                "current_page",
                "page_size",
            ]
        ),
        texts | moments | st.integers(-(2**40), 2**40).map(str),
        max_size=4,
    )

    @FUZZ
    @given(params, texts)
    def probe(query, segment):
        response = staff_client.get("/api/public/notices", params=query)
        assert response.status_code in {200, 400}, (query, response.text)
        segment = quote(segment, safe="") or "x"
        for path in (
            f"/api/public/notices/{segment}",
            f"/api/lots/{segment}/registration",
            f"/api/registrations/{segment}",
            f"/api/tenders/projects/{segment}",
            f"/api/public/notices/{segment}/documents/{segment}",
        ):
            assert staff_client.get(path).status_code < 500, path

    probe()
