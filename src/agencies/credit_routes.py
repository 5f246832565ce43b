"""Integrity records API (诚信档案) and the public credit listing.

GET  /api/agencies/rulebooks                     staff, supervisor: every version
POST /api/agencies/rulebooks                     staff: a new version {effective_from, body}
POST /api/agencies/filings/{code}/events         staff: record {type_code, occurred_on, note}
GET  /api/agencies/disputes                      staff, supervisor: waiting for a decision
POST /api/agencies/events/{id}/decision          staff {uphold, note}
GET  /api/agencies/me/events                     agency: its own events and disputes
POST /api/agencies/me/events/{id}/dispute        agency {reason} (异议)
GET  /api/public/agencies/credit[?grade=&category=]   anyone: grades and scores
GET  /api/public/agencies/credit/{code}[?on=]    anyone: the score explained, grade history
GET  /api/public/agencies/credit/feed.atom       anyone: grade changes (Atom)
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from agencies import credit, listing
from agencies.credit_schemas import (
    CreditRead,
    DecisionIn,
    DisputeIn,
    EventIn,
    EventRead,
    RulebookIn,
    RulebookRead,
    ScoreRead,
)
from agencies.feed import FeedEntry, atom_feed
from agencies.lookup import agency_by_code
from agencies.models import Agency, ServiceCategory
from tendering.core.auth.guards import public, requires_role
from tendering.core.auth.models import Role
from tendering.core.clock import db_now
from tendering.core.db import DbSession
from tendering.core.deps import AppSettings, CurrentActor, Page
from tendering.core.errors import Inconsistent
from tendering.core.pagination import OffsetPagination
from tendering.core.params import PathCode, PathId, in_calendar

__all__ = ["AgencyEventController", "CreditController", "PublicCreditController"]

STAFF = requires_role(Role.STAFF, Role.ADMIN)
Grade = Annotated[str | None, QueryParameter(pattern="^[ABCD]$", description="A, B, C or D")]


class CreditController(Controller):
    path = "/api/agencies"
    tags = ["agencies: integrity"]  # noqa: RUF012
    guards = [requires_role(Role.STAFF, Role.SUPERVISOR, Role.ADMIN)]  # noqa: RUF012

    @get("/rulebooks", summary="Scoring rulebooks, newest version first")
    async def rulebooks(self, db_session: DbSession) -> list[RulebookRead]:
        return [RulebookRead.of(r) for r in await listing.rulebook_rows(db_session)]

    @post("/rulebooks", guards=[STAFF], summary="Publish a new rulebook version")
    async def publish(
        self, db_session: DbSession, actor: CurrentActor, data: JSONBody[RulebookIn]
    ) -> RulebookRead:
        book = await credit.publish_rulebook(
            db_session,
            actor=actor,
            effective_from=data.effective_from,
            body=data.body,
            note=data.note,
        )
        rows = await listing.rulebook_rows(db_session)
        return RulebookRead.of(next(r for r in rows if r.version == book.version))

    @post("/filings/{code:str}/events", guards=[STAFF], summary="Record an integrity event")
    async def record(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        code: PathCode,
        data: JSONBody[EventIn],
    ) -> EventRead:
        event = await credit.record_event(
            db_session,
            actor=actor,
            code=code,
            type_code=data.type_code,
            occurred_on=data.occurred_on,
            note=data.note,
        )
        return EventRead.of(event, code)

    @get("/disputes", summary="Disputes waiting for a decision, oldest first")
    async def disputes(self, db_session: DbSession, page: Page) -> OffsetPagination[EventRead]:
        rows, total = await listing.pending_disputes(db_session, page)
        items = [EventRead.of(e, a.code) for e, a in rows]
        return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)

    @post(
        "/events/{event_id:int}/decision",
        guards=[STAFF],
        status_code=200,
        summary="Decide a dispute: upheld, the event's points go",
    )
    async def decide(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        event_id: PathId,
        data: JSONBody[DecisionIn],
    ) -> EventRead:
        event = await credit.decide_dispute(
            db_session, actor=actor, event_id=event_id, uphold=data.uphold, note=data.note
        )
        agency = await _agency_code(db_session, event.agency_id)
        return EventRead.of(event, agency)


async def _agency_code(db_session: DbSession, agency_id: int) -> str:
    row = await db_session.get(Agency, agency_id)
    if row is None:
        raise Inconsistent("row is missing")
    return row.code


class AgencyEventController(Controller):
    path = "/api/agencies/me/events"
    tags = ["agencies: integrity"]  # noqa: RUF012
    guards = [requires_role(Role.AGENCY)]  # noqa: RUF012

    @get("/", summary="Our integrity events and their disputes")
    async def mine(self, db_session: DbSession, actor: CurrentActor) -> list[EventRead]:
        agency, events = await listing.own_events(db_session, actor)
        return [EventRead.of(e, agency.code) for e in events]

    @post("/{event_id:int}/dispute", status_code=200, summary="Dispute (异议) one of our events")
    async def dispute(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        event_id: PathId,
        data: JSONBody[DisputeIn],
    ) -> EventRead:
        event = await credit.dispute_event(
            db_session, actor=actor, event_id=event_id, reason=data.reason
        )
        return EventRead.of(event, await _agency_code(db_session, event.agency_id))


class PublicCreditController(Controller):
    """The public: no login."""

    path = "/api/public/agencies/credit"
    tags = ["agencies (public)"]  # noqa: RUF012
    security = [{}]  # noqa: RUF012

    @get("/", opt=public("agency credit grades are public (信用信息公开)"), summary="Grades")
    async def grades(
        self,
        db_session: DbSession,
        page: Page,
        grade: Grade = None,
        category: FromQuery[ServiceCategory | None] = None,
    ) -> OffsetPagination[CreditRead]:
        rows, total = await listing.credit_listing(db_session, page, grade=grade, category=category)
        items = [CreditRead.of(r) for r in rows]
        return OffsetPagination(items=items, limit=page.limit, offset=page.offset, total=total)

    @get(
        "/feed.atom",
        opt=public("the feed of grade changes is public"),
        summary="Atom feed of grade changes",
    )
    async def feed(self, db_session: DbSession, settings: AppSettings) -> Response[bytes]:
        entries = [
            FeedEntry(
                change_id=g.id or 0,
                agency=a.code,
                agency_name=a.name,
                old_grade=g.old_grade,
                new_grade=g.new_grade,
                score=g.score,
                on_date=g.on_date,
                at=g.at or await db_now(db_session),
            )
            for g, a in await listing.grade_changes(db_session)
        ]
        base_url = settings.public_base_url  # never the Host header
        body = atom_feed(entries, base_url=base_url, now=await db_now(db_session))
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    @get(
        "/{code:str}",
        opt=public("an agency's score and the events it rests on are public"),
        summary="An agency's score on a day, each event's points, and its grade history",
    )
    async def explain(
        self, db_session: DbSession, code: PathCode, on: FromQuery[date | None] = None
    ) -> ScoreRead:
        on = in_calendar(on, field="on")  # refused before any lookup
        agency = await agency_by_code(db_session, code)
        score = await credit.explain(db_session, code, on)
        return ScoreRead.of(agency.code, score, await listing.grade_history(db_session, agency))
