"""The selection record (代理机构随机选取记录) as a PDF: what was drawn, from which
weighted pool, who was excluded and why, and how each drawn agency answered."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from agencies.models import CATEGORY_NAMES, ServiceCategory
from agencies.selection import engagements_of, selection_by_code
from tendering.core.auth.actor import Actor
from tendering.core.draws import get_draw, read_transcript
from tendering.core.errors import Conflict, ErrorCode
from tendering.core.reports import Report, render_pdf
from tendering.core.secrecy import Secrecy

__all__ = ["selection_record_pdf"]

_STATES = {
    "waiting": "备选未启用",
    "offered": "待确认",
    "accepted": "已接受",
    "declined": "已拒绝",
    "completed": "已完成",
}


async def selection_report(
    session: AsyncSession, *, secrecy: Secrecy, code: str, actor: Actor
) -> Report:
    selection = await selection_by_code(session, code)
    view = await get_draw(session, code)
    if view.drawn_at is None:
        raise Conflict(
            f"选取 {code} 尚未抽取 (selection {code} has not been drawn yet)",
            code=ErrorCode.AGENCY_SELECTION_STATE,
        )
    transcript = await read_transcript(session, secrecy=secrecy, code=code, actor=actor)
    category = transcript["categories"][0]
    weights = dict(category["pool"])
    answers = {a.code: (e, a) for e, a in await engagements_of(session, selection)}
    rows = []
    for n, pick in enumerate(category["picks"], start=1):
        engagement, agency = answers[pick]
        role = "中选" if n <= selection.count else f"备选{n - selection.count}"
        rows.append(
            [str(n), pick, agency.name, str(weights[pick]), role, _STATES[engagement.state]]
        )
    name = CATEGORY_NAMES[ServiceCategory(selection.category)]
    return Report(
        title="代理机构随机选取记录",
        facts=[
            ("选取编号 Code", code),
            ("项目 Project", selection.project),
            ("服务类别 Category", f"{name} ({selection.category})"),
            ("选取日期 Date", selection.on_date.isoformat()),
            ("见证人 Witness", f"user:{view.witness_id}"),
            ("候选/回避 Pool/excluded", f"{len(category['pool'])} / {len(category['excluded'])}"),
            ("承诺值 Commitment", transcript["commitment"]),
            ("候选池哈希 Pool hash", transcript["pool_hash"]),
            ("种子 Seed", transcript["seed"]),
            ("记录哈希 Transcript SHA-256", view.transcript_sha256 or ""),
        ],
        columns=["序号", "机构编号", "机构名称", "权重", "结果", "确认"],
        rows=rows,
        filename=f"{code}-record",
        notes=[
            *(f"回避 {e['id']}: {e['rule']} — {e['detail']}" for e in category["excluded"]),
            "算法 draw-v1: 任何人可用 `tendering draws verify` 复核本次选取 (GET "
            f"/api/draws/{code}/transcript).",
        ],
    )


async def selection_record_pdf(
    session: AsyncSession, *, secrecy: Secrecy, code: str, actor: Actor
) -> bytes:
    report = await selection_report(session, secrecy=secrecy, code=code, actor=actor)
    return await asyncio.to_thread(render_pdf, report)
