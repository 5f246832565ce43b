"""Importing the pool: UTF-8 and GBK, every rejected row reported, nothing half imported,
personal data only sealed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from experts.imports import import_experts
from experts.personal import id_tag, open_personal
from experts.synthetic import HEADER, id_number, pool_csv

GOOD_ID = id_number(7, date(1975, 5, 6))


def _csv(*rows: list[str], encoding: str = "utf-8") -> bytes:
    lines = [",".join(HEADER), *(",".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _row(**over: str) -> list[str]:
    row = dict(
        code="E-1",
        name="王伟",
        id=GOOD_ID,
        employer="甲设计院",
        specialties="A0801;A0802",
        region="南京",
        title="高级工程师",
        phone="13912345678",
        unavailable="2026-12-01;2026-12-10~2026-12-12",
        status="正常",
    )
    row.update(over)
    return list(row.values())


async def test_utf8_and_gbk_files_import_alike(session, secrecy, system):
    for encoding, seed in (("utf-8", 1), ("gbk", 2)):
        report = await import_experts(
            session, secrecy=secrecy, raw=pool_csv(50, seed=seed, encoding=encoding), actor=system
        )
        assert (report.encoding, report.imported, report.rejected) == (encoding, 50, [])
    names = (await session.execute(text("SELECT name FROM expert WHERE code LIKE 'E02%'"))).all()
    assert len(names) == 50 and all("\ufffd" not in n for (n,) in names)


async def test_personal_data_is_only_sealed_and_opens_as_its_own(session, secrecy, system):
    await import_experts(session, secrecy=secrecy, raw=_csv(_row()), actor=system)
    row = (
        await session.execute(
            text("SELECT e::text, id_tag, id_masked, personal FROM expert e WHERE code = 'E-1'")
        )
    ).one()
    whole, tag, masked, box = row
    assert GOOD_ID not in whole and "13912345678" not in whole
    assert masked == GOOD_ID[:4] + "*" * 10 + GOOD_ID[-4:]
    assert tag == id_tag(secrecy, GOOD_ID)
    personal = open_personal(secrecy, tag, box)
    assert (personal.id_number, personal.phone) == (GOOD_ID, "13912345678")
    unavailable = await session.scalar(text("SELECT unavailable FROM expert WHERE code='E-1'"))
    assert len(unavailable) == 4


async def test_every_rejected_row_is_reported_and_nothing_is_written(session, secrecy, system):
    bad_check = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
    raw = _csv(
        _row(),
        _row(code="E-2", id=bad_check),
        _row(code="E-3", id=id_number(8, date(1980, 1, 1)), phone="123"),
        _row(code="E-4", id=GOOD_ID),
        _row(code="E-5", id=id_number(9, date(1980, 1, 1)), specialties="建筑"),
        _row(code="E-6", id=id_number(10, date(1980, 1, 1)), name=""),
        _row(code="E-7", id=id_number(11, date(1980, 1, 1)), unavailable="12/32"),
    )
    report = await import_experts(session, secrecy=secrecy, raw=raw, actor=system)
    assert report.imported == 0 and report.rows == 7
    assert [(r.line, r.field) for r in report.rejected] == [
        (3, "id_number"),
        (4, "phone"),
        (5, "id_number"),
        (6, "specialties"),
        (7, "name"),
        (8, "unavailable"),
    ]
    assert "校验位" in report.rejected[0].reason and "第2行" in report.rejected[2].reason
    assert await session.scalar(text("SELECT count(*) FROM expert")) == 0
    accepted = await import_experts(
        session, secrecy=secrecy, raw=raw, actor=system, accept_valid=True
    )
    assert accepted.imported == 1 and len(accepted.rejected) == 6
    assert await session.scalar(text("SELECT count(*) FROM expert")) == 1


async def test_a_missing_column_rejects_the_file(session, secrecy, system):
    raw = "姓名,工作单位\r\n王伟,甲\r\n".encode()
    report = await import_experts(session, secrecy=secrecy, raw=raw, actor=system)
    assert report.imported == 0
    assert {r.field for r in report.rejected} == {"id_number", "specialties", "phone"}


async def test_reimport_updates_and_keeps_the_former_employer(session, secrecy, system):
    await import_experts(session, secrecy=secrecy, raw=_csv(_row()), actor=system)
    again = await import_experts(
        session, secrecy=secrecy, raw=_csv(_row(employer="乙建设公司")), actor=system
    )
    assert again.imported == 1
    rows = (
        await session.execute(
            text(
                "SELECT m.organization, m.ended_on IS NULL FROM expert_employment m"
                " JOIN expert e ON e.id = m.expert_id WHERE e.code = 'E-1' ORDER BY m.id"
            )
        )
    ).all()
    assert rows == [("甲设计院", False), ("乙建设公司", True)]
    assert await session.scalar(text("SELECT count(*) FROM expert")) == 1


async def test_a_code_held_by_another_expert_is_rejected(session, secrecy, system):
    await import_experts(session, secrecy=secrecy, raw=_csv(_row()), actor=system)
    other = id_number(12, date(1981, 2, 3))
    report = await import_experts(session, secrecy=secrecy, raw=_csv(_row(id=other)), actor=system)
    assert report.imported == 0 and [r.field for r in report.rejected] == ["code"]


async def test_malformed_files_are_rejected_not_crashed(session, secrecy, system):
    header = ",".join(HEADER).encode()
    for raw, field in (
        (b"\xff\xfe\x00\x81\x30", "body"),  # neither UTF-8 nor GBK
        (header + b"\r\n" + b'"E-1,\xe7\x8e\x8b' + b"x" * 200_000 + b"\r\n", "*"),  # runaway quote
        (header + b"\r\nE-1,\xe7\x8e\x8b\x00,x\r\n", "*"),  # a NUL
    ):
        report = await import_experts(session, secrecy=secrecy, raw=raw, actor=system)
        assert report.imported == 0 and [r.field for r in report.rejected] == [field], report
    assert await session.scalar(text("SELECT count(*) FROM expert")) == 0
