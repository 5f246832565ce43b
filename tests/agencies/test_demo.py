"""The agencies' demo step: 136 agencies with every grade, and one completed selection."""

from __future__ import annotations

from collections import Counter

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from agencies.demo import AGENCY_COUNT, add_demo_agencies
from agencies.models import Agency, AgencyEvent, AgencySelection, Engagement
from tendering.core import demo
from tendering.core.auth.actor import SYSTEM
from tendering.core.db import make_sessionmaker
from tendering.core.draw import verify_transcript
from tendering.core.draws import read_transcript
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey


@pytest.fixture(autouse=True)
def only_agencies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "_STEPS", {})
    demo.register_demo_step(add_demo_agencies)


async def test_the_demo_files_136_agencies_with_every_grade_and_one_completed_selection(engine):
    key = PlatformKey(Ed25519PrivateKey.generate())
    secrecy = Secrecy.of(key)
    book = await demo.run_demo(make_sessionmaker(engine), secrecy=secrecy, key=key)
    assert book is not None
    async with make_sessionmaker(engine)() as session:
        agencies = (await session.scalars(select(Agency))).all()
        assert len(agencies) == AGENCY_COUNT
        grades = Counter(a.grade for a in agencies)
        assert set(grades) == {"A", "B", "C", "D"}, grades
        assert {c for a in agencies for c in a.categories} == {
            "tender_agent",
            "cost_consulting",
            "appraisal",
            "audit",
            "surveying",
        }
        assert await session.scalar(select(func.count()).select_from(AgencyEvent)) > 100
        selection = (await session.scalars(select(AgencySelection))).one()
        assert selection.state == "engaged"
        states = [
            e.state
            for e in (
                await session.scalars(
                    select(Engagement).order_by(Engagement.rank)  # type: ignore[arg-type]
                )
            ).all()
        ]
        assert states[:2] == ["declined", "completed"]
        transcript = await read_transcript(
            session, secrecy=secrecy, code=selection.code, actor=SYSTEM
        )
        assert verify_transcript(transcript, key.public_raw).ok
        category = transcript["categories"][0]
        graded_d = {
            a.code for a in agencies if a.grade == "D" and "cost_consulting" in a.categories
        }
        assert graded_d  # the demo sanctions one agency of every category at least
        struck = {e["id"] for e in category["excluded"] if e["rule"] == "grade"}
        assert struck and struck <= graded_d <= {e["id"] for e in category["excluded"]}
        assert not graded_d & {i for i, _ in category["pool"]}
