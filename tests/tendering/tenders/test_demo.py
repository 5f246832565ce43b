from __future__ import annotations

import pytest

from tendering.core import demo
from tendering.core.db import make_sessionmaker
from tendering.core.demo import register_demo_step, run_demo
from tendering.core.secrecy import Secrecy
from tendering.core.signing import load_platform_key
from tendering.tenders.demo import add_demo_tenders
from tests.tendering.tenders.openformats import ocds_validator


@pytest.fixture(autouse=True)
def only_the_tenders_step(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    monkeypatch.setattr(demo, "_STEPS", {})
    monkeypatch.setenv("TENDERING_DATA_DIR", str(settings.data_dir))
    register_demo_step(add_demo_tenders)


async def test_demo_publishes_three_real_looking_notices(engine, client, settings):
    secrecy = Secrecy.of(load_platform_key(settings))  # the app's
    book = await run_demo(make_sessionmaker(engine), secrecy=secrecy)
    assert book is not None and any("3 notices" in note for note in book.notes)

    listing = (await client.get("/api/public/notices")).json()
    titles = sorted(item["title"] for item in listing["items"])
    assert titles == [
        "某某县城区道路沥青摊铺工程招标公告",
        "某某县第一中学教学楼建设工程招标公告",
        "某某县第一中学课桌椅采购项目招标公告",
    ]
    school = next(i for i in listing["items"] if "教学楼" in i["title"])
    detail = (await client.get(f"/api/public/notices/{school['id']}")).json()
    assert len(detail["lots"]) == 2
    assert [a["kind"] for a in detail["amendments"]] == ["clarification"]
    document = detail["documents"][0]
    download = await client.get(document["url"])
    assert download.status_code == 200 and "招标文件" in download.content.decode()
    for item in listing["items"]:
        ocds_validator().validate(
            (await client.get(f"/api/public/notices/{item['id']}/ocds")).json()
        )
    road = next(i for i in listing["items"] if "道路" in i["title"])
    questions = (await client.get(f"/api/public/notices/{road['id']}")).json()["questions"]
    assert questions[0]["answer"]
