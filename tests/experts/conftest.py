from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from experts.imports import import_experts
from experts.schemas import DrawRequestIn
from experts.synthetic import HEADER, id_number
from tendering.core.auth.actor import SYSTEM, Actor
from tendering.core.auth.models import OrgKind, Role
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey


def actor_of(person) -> Actor:
    return Actor(
        person.user.id,
        person.username,
        Role(person.user.role),
        person.organization.id,
        OrgKind(person.organization.kind),
    )


@pytest.fixture
def key() -> PlatformKey:
    return PlatformKey(Ed25519PrivateKey.generate())


@pytest.fixture
def secrecy(key: PlatformKey) -> Secrecy:
    return Secrecy.of(key)


@pytest.fixture
def system() -> Actor:
    return SYSTEM


CST = timedelta(hours=8)


def pool_rows(
    specialty: str, count: int, *, start: int, **special: dict[str, str]
) -> list[list[str]]:
    """``count`` experts ``X-<start+n>`` of ``specialty``; ``special[code]`` overrides cells."""
    rows = []
    for n in range(start, start + count):
        code = f"X-{n:03d}"
        cells = {
            "code": code,
            "name": f"专家{n}",
            "id": id_number(n, date(1970, 1, 1) + timedelta(days=n)),
            "employer": f"丙{n}设计院",
            "specialties": specialty,
            "region": "南京",
            "title": "高级工程师",
            "phone": f"139{n:08d}",
            "unavailable": "",
            "status": "正常",
        }
        cells.update(special.get(code.replace("-", "_"), {}))
        rows.append(list(cells.values()))
    return rows


def csv_of(rows: list[list[str]]) -> bytes:
    return ("\r\n".join(",".join(r) for r in [HEADER, *rows]) + "\r\n").encode()


@dataclass
class Desk:
    """A staff member, a witness, another staff member, and a pool with one case per rule."""

    staff: object
    witness: object
    other_staff: object
    day: date
    evaluation_at: datetime
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def staff_actor(self) -> Actor:
        return actor_of(self.staff)

    @property
    def witness_actor(self) -> Actor:
        return actor_of(self.witness)

    def spec(self, **over: object) -> DrawRequestIn:
        values: dict[str, object] = {
            "lot": "L-2026-001",
            "title": "县第一中学教学楼",
            "tenderer": "某县教育局",
            "bidders": ["乙建设（集团）有限公司", "丁公司"],
            "evaluation_at": self.evaluation_at,
            "place": "交易中心3号评标室",
            "tenderer_reps": 2,
            "categories": [
                {"specialty": "A0801", "count": 3, "backups": 2},
                {"specialty": "A0802", "count": 2, "backups": 1},
            ],
            "exclusions": [{"expert": "X-004", "reason": "曾参与本项目设计咨询"}],
            "witness_id": self.witness.user.id,
        }
        values.update(over)
        return DrawRequestIn.model_validate(values)


@pytest.fixture
async def desk(session, people, secrecy, system) -> Desk:
    now = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
    evaluation_at = (now + timedelta(days=3)).astimezone(UTC).replace(hour=1, minute=30)
    day = (evaluation_at + CST).date()
    special = {
        "X_001": {"employer": "乙建设(集团)有限公司"},  # a bidder, brackets differ
        "X_002": {"status": "暂停"},
        "X_003": {"unavailable": day.isoformat()},
        "X_010": {"specialties": "A0801;A0802"},  # in both categories
    }
    rows = pool_rows("A0801", 14, start=1, **special) + pool_rows("A0802", 6, start=20)
    report = await import_experts(session, secrecy=secrecy, raw=csv_of(rows), actor=system)
    assert report.rejected == [], report.rejected
    ids = dict((await session.execute(text("SELECT code, id FROM expert"))).all())
    await session.execute(
        text(
            "INSERT INTO expert_relation (expert_id, organization, relation) VALUES"
            " (:a, '某县教育局', '配偶任职');"
        ),
        {"a": ids["X-005"]},
    )
    await session.execute(
        text(
            "INSERT INTO expert_penalty (expert_id, reason, penalized_on) VALUES"
            " (:a, '评标迟到', :on)"
        ),
        {"a": ids["X-006"], "on": day - timedelta(days=30)},
    )
    await session.execute(
        text(
            "INSERT INTO expert_service (expert_id, draw_code, tenderer, served_on) VALUES"
            " (:a, 'ED-OLD-1', '某县教育局', :on), (:b, 'ED-OLD-2', '别的单位', :on)"
        ),
        {"a": ids["X-007"], "b": ids["X-008"], "on": day - timedelta(days=20)},
    )
    await session.execute(
        text(
            "INSERT INTO expert_employment (expert_id, organization, started_on, ended_on)"
            " VALUES (:a, '丁公司', NULL, :long_ago), (:b, '丁公司', NULL, :lately)"
        ),
        {
            "a": ids["X-009"],
            "long_ago": day - timedelta(days=3 * 365 + 10),
            "b": ids["X-011"],
            "lately": day - timedelta(days=2 * 365),
        },
    )
    return Desk(
        staff=await people.user(Role.STAFF),
        witness=await people.user(Role.SUPERVISOR),
        other_staff=await people.user(Role.STAFF),
        day=day,
        evaluation_at=evaluation_at,
        extra={"ids": ids},
    )
