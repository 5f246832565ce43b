"""The draw record (评标专家抽取记录表) for the file, rendered by ``core/reports.py``.

It states what a bureau needs to re-run the draw (commitment, pool hash, entropy, seed,
transcript hash), the places with their experts and answers, and how many were excluded
under each avoidance rule. It lists the experts, so it is sealed like the list: only the
staff member running the draw and its witness may fetch it before the evaluation starts.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from experts.answers import ListedPlace, drawn_list
from experts.models import ExpertDrawRequest
from experts.requests import CST, family, load_request
from tendering.core.auth.actor import SYSTEM, Actor
from tendering.core.draws import get_draw, read_transcript
from tendering.core.errors import Conflict, ErrorCode
from tendering.core.reports import Report
from tendering.core.secrecy import Secrecy

__all__ = ["RULE_NAMES", "draw_record", "record_of"]

RULE_NAMES = {
    "staff": "经办人书面排除",
    "suspended": "暂停抽取",
    "penalized": "受处罚",
    "unavailable": "当日不可参加",
    "employer": "任职于招标人或投标人（三年内）",
    "relation": "申报的利害关系",
    "served_tenderer": "近期曾为本招标人评标",
    "drawn_too_often": "本年抽中次数已满",
    "already_drawn": "本项目此前已被抽中",
}
_STATES = {
    "waiting": "备选未启用",
    "notified": "已通知待确认",
    "confirmed": "已确认",
    "declined": "拒绝",
    "expired": "超时未答复",
    "unused": "未启用",
}


def draw_record(
    request: ExpertDrawRequest,
    transcripts: list[dict[str, Any]],
    places: list[ListedPlace],
    digests: dict[str, str],
) -> Report:
    """``transcripts``: the draw's and its supplements', in order; ``digests``: their SHA-256."""
    first = transcripts[0]
    counts = {c["category"]: c["count"] for c in first["categories"]}
    facts = [
        ("项目", f"{request.title}（标段 {request.lot}）"),
        ("招标人", request.tenderer),
        ("评标时间", request.evaluation_at.astimezone(CST).strftime("%Y-%m-%d %H:%M")),
        ("评标地点", request.place),
        ("见证人", f"user:{request.witness_id}"),
        ("经办人", f"user:{request.requested_by}"),
    ]
    for t in transcripts:
        facts += [
            (f"抽取编号 {t['draw']}", "draw-v1"),
            ("承诺值 commitment", t["commitment"]),
            ("候选池哈希 pool_hash", t["pool_hash"]),
            ("见证人随机数", t["witness_entropy"]),
            ("种子 seed", t["seed"]),
            ("记录哈希 transcript_sha256", digests.get(t["draw"], "")),
        ]
    rows = [
        [
            p.place.draw_code,
            p.place.category,
            str(p.place.order + 1),
            "正选" if p.place.order < counts.get(p.place.category, 0) else "备选",
            p.place.expert,
            p.name,
            p.employer,
            _STATES[p.place.state.value],
        ]
        for p in places
    ]
    excluded: Counter[str] = Counter(
        e["rule"] for t in transcripts for c in t["categories"] for e in c["excluded"]
    )
    notes = [
        "回避情况："
        + "；".join(f"{RULE_NAMES.get(r, r)} {n} 人" for r, n in sorted(excluded.items()))
        if excluded
        else "回避情况：无",
        "复核：tendering draws verify <记录>.json，或 GET /api/draws/<抽取编号>/verify。",
    ]
    return Report(
        title="评标专家抽取记录表",
        facts=facts,
        columns=["抽取编号", "专业", "顺序", "类别", "专家编号", "姓名", "工作单位", "确认情况"],
        rows=rows,
        filename=f"{request.draw_code}-record",
        notes=notes,
    )


async def record_of(session: AsyncSession, *, secrecy: Secrecy, code: str, actor: Actor) -> Report:
    """The record of draw ``code`` for whoever may see its list now (as ``drawn_list``)."""
    places = await drawn_list(session, secrecy=secrecy, code=code, actor=actor)
    request = await load_request(session, code)
    transcripts, digests = [], {}
    for draw_code in await family(session, request):
        view = await get_draw(session, draw_code)
        if view.transcript_sha256 is None:
            continue
        transcripts.append(
            await read_transcript(session, secrecy=secrecy, code=draw_code, actor=SYSTEM)
        )
        digests[draw_code] = view.transcript_sha256
    if not transcripts:
        raise Conflict(
            f"抽取 {code} 尚未进行 (draw {code} has not been made yet)", code=ErrorCode.EXPERT_STATE
        )
    return draw_record(request, transcripts, places, digests)
