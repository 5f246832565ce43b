"""Use cases for projects (one transaction code for a whole life) and their lots (标段),
and the center's defaults for the schedule rules. One change, one transaction, its audit
event recorded in it.

The center's numbers and a project's overrides may make a rule stricter than the law,
never less strict (``rules.STATUTORY_LIMITS``): such a value is refused when written, and
one stored before the limits were enforced counts as the law's own when read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tendering.core.audit import GLOBAL, lot_stream, record
from tendering.core.auth.actor import Actor
from tendering.core.auth.models import Organization, OrgKind, User
from tendering.core.errors import Conflict, ErrorCode, Inconsistent, InvalidInput, NotFound
from tendering.tenders.models import Lot, TenderProject, TenderRuleSetting
from tendering.tenders.rules import (
    ScheduleRules,
    check_deposit,
    check_statutory_limits,
    parse_bid_fields,
)
from tendering.tenders.schemas import LotCreate, ProjectCreate, RuleSettings

__all__ = [
    "add_lot",
    "center_rules",
    "create_project",
    "get_project",
    "lot_rules",
    "project_lots",
    "project_rules",
    "update_center_rules",
]


async def center_rules(session: AsyncSession) -> ScheduleRules:
    row = await session.get(TenderRuleSetting, 1)
    if row is None:
        return ScheduleRules()
    return ScheduleRules(
        min_document_days=row.min_document_days,
        min_bid_days=row.min_bid_days,
        max_deposit_bp=row.max_deposit_bp,
        amendment_days=row.amendment_days,
        min_valid_bids=row.min_valid_bids,
    ).within_the_law()


async def update_center_rules(
    session: AsyncSession, *, actor: Actor, values: RuleSettings
) -> ScheduleRules:
    check_statutory_limits(values.model_dump())
    statement = insert(TenderRuleSetting).values(id=1, **values.model_dump())
    statement = statement.on_conflict_do_update(index_elements=["id"], set_=values.model_dump())
    await session.execute(statement)
    await record(
        session,
        stream=GLOBAL,
        action="tender_rules.updated",
        actor=actor,
        payload=values.model_dump(),
    )
    return ScheduleRules(**values.model_dump())


async def project_rules(session: AsyncSession, project: TenderProject) -> ScheduleRules:
    return (await center_rules(session)).overridden(project.rule_overrides)


async def lot_rules(session: AsyncSession, lot: Lot) -> ScheduleRules:
    """The rules a lot is held to: its project's (the center's, with the overrides)."""
    project = await session.get(TenderProject, lot.project_id)
    if project is None:  # a lot's foreign key names its project
        raise NotFound(f"Lot {lot.code} has no project.", code=ErrorCode.TENDER_NO_PROJECT)
    return await project_rules(session, project)


async def get_project(session: AsyncSession, code: str) -> TenderProject:
    project = (
        await session.scalars(select(TenderProject).where(col(TenderProject.code) == code))
    ).first()
    if project is None:
        raise NotFound(
            f"No project has the transaction code {code!r}.", code=ErrorCode.TENDER_NO_PROJECT
        )
    return project


async def project_lots(session: AsyncSession, project: TenderProject) -> list[Lot]:
    query = select(Lot).where(col(Lot.project_id) == project.id).order_by(col(Lot.code))
    return list((await session.scalars(query)).all())


async def create_project(
    session: AsyncSession, *, actor: Actor, data: ProjectCreate
) -> TenderProject:
    tenderer = (
        await session.scalars(select(Organization).where(col(Organization.code) == data.tenderer))
    ).first()
    if tenderer is None or tenderer.kind != OrgKind.TENDERER:
        raise InvalidInput(
            f"tenderer must be the code of a tenderer organization (招标人); {data.tenderer!r} "
            "is not one.",
            field="tenderer",
        )
    overrides = data.rule_overrides.model_dump(exclude_none=True)
    check_statutory_limits(overrides, prefix="rule_overrides.")
    values: dict[str, Any] = data.model_dump(exclude={"tenderer", "rule_overrides"})
    statement = (
        insert(TenderProject)
        .values(**values, tenderer_id=tenderer.id, rule_overrides=overrides)
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(col(TenderProject.id))
    )
    project_id = (await session.execute(statement)).scalar()
    if project_id is None:
        raise Conflict(
            f"A project with the transaction code {data.code} already exists.",
            code=ErrorCode.TENDER_DUPLICATE_PROJECT,
            field="code",
        )
    await record(
        session,
        stream=GLOBAL,
        action="project.created",
        actor=actor,
        payload={"project": data.code, "tenderer": tenderer.code, "overrides": overrides},
    )
    return await get_project(session, data.code)


async def add_lot(
    session: AsyncSession, *, actor: Actor, project_code: str, data: LotCreate
) -> Lot:
    project = await get_project(session, project_code)
    rules = await project_rules(session, project)
    check_deposit(rules, deposit_fen=data.deposit_fen, estimated_price_fen=data.estimated_price_fen)
    fields = parse_bid_fields([f.model_dump() for f in data.bid_fields])
    await _check_custodians(session, data.custodians, data.custodian_k)
    code = f"{project.code}-{data.number:02d}"
    statement = (
        insert(Lot)
        .values(
            project_id=project.id or 0,
            code=code,
            title=data.title,
            estimated_price_fen=data.estimated_price_fen,
            deposit_fen=data.deposit_fen,
            bid_fields=[f.to_json() for f in fields],
            custodian_ids=data.custodians,
            custodian_k=data.custodian_k,
            max_bid_mb=data.max_bid_mb,
        )
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(col(Lot.id))
    )
    lot_id = (await session.execute(statement)).scalar()
    if lot_id is None:
        raise Conflict(
            f"Lot {code} already exists.", code=ErrorCode.TENDER_DUPLICATE_LOT, field="number"
        )
    await record(
        session,
        stream=lot_stream(code),
        action="lot.created",
        actor=actor,
        payload={
            "project": project.code,
            "lot": code,
            "estimated_price_fen": data.estimated_price_fen,
            "deposit_fen": data.deposit_fen,
            "custodians": data.custodians,
            "custodian_k": data.custodian_k,
        },
    )
    lot = await session.get(Lot, lot_id)
    if lot is None:
        raise Inconsistent("lot is missing")
    return lot


async def _check_custodians(session: AsyncSession, ids: list[int], k: int) -> None:
    if len(set(ids)) != len(ids):
        raise InvalidInput("custodians must not name a user twice.", field="custodians")
    if ids and k > len(ids):
        raise InvalidInput(
            f"custodian_k ({k}) must not exceed the number of custodians ({len(ids)}).",
            field="custodian_k",
        )
    if ids:
        found = set(
            (await session.scalars(select(col(User.id)).where(col(User.id).in_(ids)))).all()
        )
        missing = sorted(set(ids) - found)
        if missing:
            raise InvalidInput(f"custodians: no user has the id {missing[0]}.", field="custodians")
