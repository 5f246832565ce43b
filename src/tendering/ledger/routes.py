"""Deposit ledger API.

Bidders see their own virtual accounts and statuses (another bidder's account answers
exactly like one that does not exist); staff open accounts, import statements, resolve
suspense, run refunds, forfeit and convert; supervisors (and admins) read everything,
except that oversight lists or reads a subject's accounts only once its opening revealed
them (who holds one, and how many do, is secret until then: 招标投标法第二十二条): before
that, an account read by its number answers only its own bidder (to anyone else exactly like
one that does not exist). Staff may forfeit or convert one by its number once its deadline
has passed.

    GET  /api/ledger/deposits[?subject=]            own (bidder); oversight: revealed ones
    GET  /api/ledger/deposits/{number}
    GET  /api/ledger/deposits/{number}/statement?format=pdf|csv
    GET  /api/ledger/status?subject=lot:L-1         the caller's eligibility
    POST /api/ledger/deposits                       staff: open a virtual account
    POST /api/ledger/deposits/{number}/forfeit      staff  {reason}
    POST /api/ledger/deposits/{number}/convert      staff  {reason}
    POST /api/ledger/statements                     staff: the raw CSV / camt.053 file (64 MiB)
    GET  /api/ledger/statements                     staff, supervisor: imports so far
    GET  /api/ledger/refund-batches                 staff, supervisor
    GET  /api/ledger/suspense                       staff, supervisor
    POST /api/ledger/suspense/{line_id}/resolve     staff
    POST /api/ledger/refund-batches                 staff
    GET  /api/ledger/refund-batches/{code}/instructions   staff, supervisor (CSV)
    POST /api/ledger/refund-lines/{ref}/paid        staff: the bank confirmed it
    POST /api/ledger/refund-lines/{ref}/returned    staff: the bank sent it back; pay again
    POST /api/ledger/refund-lines/{ref}/payee       staff: the payer account the bank left out
    GET  /api/ledger/reconciliation/{day}?format=pdf|csv  staff, supervisor
    GET  /api/ledger/verify                         staff, supervisor
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from tendering.core.auth.access import OVERSIGHT_ROLES, hidden
from tendering.core.auth.actor import Actor
from tendering.core.auth.guards import requires_login, requires_role
from tendering.core.auth.models import Role
from tendering.core.clock import db_now
from tendering.core.db import DbSession
from tendering.core.deps import AppSettings, CurrentActor, Page, Secrets, UploadSlot
from tendering.core.errors import Forbidden, InvalidInput, NotFound
from tendering.core.pagination import OffsetPagination, page_of
from tendering.core.params import in_calendar
from tendering.core.secrecy import Secrecy
from tendering.ledger import (
    closing,
    confirmations,
    eligibility,
    refunds,
    reports,
    rules,
    service,
    suspense,
)
from tendering.ledger.imports import import_statement
from tendering.ledger.returns import reissue_refund, supply_payee
from tendering.ledger.schemas import (
    CloseRequest,
    DepositCreate,
    DepositRead,
    DepositStatusRead,
    ImportRead,
    MovedRead,
    PaidRead,
    PayeeSuppliedRead,
    RefundBatchCreate,
    RefundBatchRead,
    RefundBatchSummary,
    RefundPaid,
    RefundPayee,
    RefundReturned,
    ReissuedRead,
    ResolvedRead,
    ResolveRequest,
    StatementRead,
    SuspenseRead,
    VerifyRead,
)
from tendering.ledger.upload import statement_body
from tendering.ledger.verify import verify_ledger

__all__ = ["LedgerController"]

STAFF = requires_role(Role.STAFF, Role.ADMIN)
READERS = requires_role(Role.STAFF, Role.SUPERVISOR, Role.ADMIN)
Format = Annotated[str, QueryParameter(pattern="^(pdf|csv)$", description="pdf or csv")]


def _oversees(actor: Actor) -> bool:
    return actor.role in OVERSIGHT_ROLES


async def _read(db_session: DbSession, view: service.DepositView, secrecy: Secrecy) -> DepositRead:
    now = await db_now(db_session)
    status = await eligibility.deposit_status(
        db_session, view.bidder_org_id, view.subject, now, secrecy=secrecy
    )
    return DepositRead(
        number=view.number,
        bidder_org_id=view.bidder_org_id,
        subject=view.subject,
        amount_due_fen=view.amount_due_fen,
        deadline=view.deadline,
        state=view.state,
        held_fen=view.held_fen,
        status=status.state,
        received_fen=status.received_fen,
        reason=view.reason,
    )


async def _visible(
    db_session: DbSession, actor: Actor, number: str, secrecy: Secrecy, *, acting: bool = False
) -> service.DepositView:
    """The account ``number`` if ``actor`` may see it: its own bidder always; oversight once
    the opening revealed it, or, ``acting`` (to forfeit or convert it), once its deadline
    has passed (while bidders pay, nothing may confirm that an account exists)."""
    try:
        view = await service.get_deposit(db_session, secrecy=secrecy, number=number)
    except NotFound:
        raise hidden(f"Deposit account {number}") from None
    if view.bidder_org_id == actor.organization_id:
        return view
    if _oversees(actor):
        if acting and await db_now(db_session) >= view.deadline:
            return view
        if await service.deposit_revealed(db_session, view):
            return view
    raise hidden(f"Deposit account {number}")


async def _report(report: reports.Report, fmt: str) -> Response[bytes]:
    if fmt == "csv":
        body, media = reports.render_csv(report).encode(), "text/csv; charset=utf-8"
    else:  # laying out a PDF is CPU work: keep it off the event loop
        body, media = await asyncio.to_thread(reports.render_pdf, report), "application/pdf"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{report.filename}.{fmt}"'},
    )


class LedgerController(Controller):
    path = "/api/ledger"
    tags = ["ledger"]  # noqa: RUF012
    guards = [requires_login]  # noqa: RUF012

    @get("/deposits", summary="Virtual accounts: a bidder's own, or all for oversight")
    async def list_deposits(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        page: Page,
        subject: Annotated[str | None, QueryParameter(max_length=120)] = None,
    ) -> OffsetPagination[DepositRead]:
        if _oversees(actor):
            # Who holds accounts for a subject is secret until its opening reveals them.
            views = await service.list_revealed_deposits(
                db_session, secrecy=secrecy, subject=subject
            )
        elif actor.role == Role.BIDDER:
            views = await service.list_deposits(
                db_session, secrecy=secrecy, bidder_org_id=actor.organization_id, subject=subject
            )
        else:
            raise Forbidden("only bidders and oversight roles see deposit accounts")
        shown = page_of(views, page)
        return OffsetPagination(
            items=[await _read(db_session, v, secrecy) for v in shown.items],
            limit=shown.limit,
            offset=shown.offset,
            total=shown.total,
        )

    @get("/deposits/{number:str}", summary="One virtual account")
    async def get_deposit(
        self, db_session: DbSession, actor: CurrentActor, secrecy: Secrets, number: FromPath[str]
    ) -> DepositRead:
        view = await _visible(db_session, actor, number, secrecy)
        return await _read(db_session, view, secrecy)

    @get("/deposits/{number:str}/statement", summary="保证金对账单 as PDF or CSV")
    async def statement(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        number: FromPath[str],
        format: Format = "pdf",
    ) -> Response[bytes]:
        view = await _visible(db_session, actor, number, secrecy)
        report = await reports.deposit_statement(db_session, view.number, secrecy=secrecy)
        return await _report(report, format)

    @get("/status", summary="The caller's deposit status for a lot or auction")
    async def status(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        subject: Annotated[str, QueryParameter(max_length=120)],
    ) -> DepositStatusRead:
        if actor.organization_id is None:
            raise Forbidden("log in as a bidder to see your deposit status")
        result = await eligibility.deposit_status(
            db_session,
            actor.organization_id,
            subject,
            await db_now(db_session),
            secrecy=secrecy,
        )
        return DepositStatusRead(**result.__dict__)

    @post("/deposits", guards=[STAFF], summary="Open a bidder's virtual account")
    async def open_deposit(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        data: JSONBody[DepositCreate],
    ) -> DepositRead:
        view = await service.open_deposit_account(
            db_session,
            secrecy=secrecy,
            bidder_org_id=data.bidder_org_id,
            subject=data.subject,
            amount_due_fen=data.amount_due_fen,
            deadline=data.deadline,
            actor=actor,
        )
        return await _read(db_session, view, secrecy)

    @post("/deposits/{number:str}/forfeit", guards=[STAFF], summary="Forfeit with reason")
    async def forfeit(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        number: FromPath[str],
        data: JSONBody[CloseRequest],
    ) -> MovedRead:
        return await self._close(db_session, actor, secrecy, number, "forfeited", data.reason)

    @post("/deposits/{number:str}/convert", guards=[STAFF], summary="Convert to payment")
    async def convert(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        number: FromPath[str],
        data: JSONBody[CloseRequest],
    ) -> MovedRead:
        return await self._close(db_session, actor, secrecy, number, "converted", data.reason)

    async def _close(
        self,
        db_session: DbSession,
        actor: Actor,
        secrecy: Secrecy,
        number: str,
        to: str,
        reason: str,
    ) -> MovedRead:
        view = await _visible(db_session, actor, number, secrecy, acting=True)
        moved = await closing.close_deposit(
            db_session,
            secrecy=secrecy,
            bidder_org_id=view.bidder_org_id,
            subject=view.subject,
            to=to,
            reason=reason,
            actor=actor,
        )
        return MovedRead(moved_fen=moved)

    @post(
        "/statements",
        guards=[STAFF],
        summary="Import a bank statement (CSV or camt.053, at most 64 MiB), all or nothing",
        request_max_body_size=None,  # our own limit, named in the 413 (ledger/upload.py)
    )
    async def import_file(
        self,
        db_session: DbSession,
        request: Request[Actor, Any, Any],  # the file is the raw body, read to its own limit
        actor: CurrentActor,
        upload_slot: UploadSlot,
        secrecy: Secrets,
    ) -> ImportRead:
        body = await statement_body(request)
        if not body:
            raise InvalidInput("send the statement file as the request body", field="body")
        result = await import_statement(db_session, body, secrecy=secrecy, actor=actor)
        return ImportRead(**result.__dict__)

    @get("/statements", guards=[READERS], summary="Imported statements, newest first")
    async def list_statements(
        self, db_session: DbSession, page: Page
    ) -> OffsetPagination[StatementRead]:
        rows, total = await reports.list_statements(db_session, page)
        return OffsetPagination(
            items=[StatementRead(**r) for r in rows],
            limit=page.limit,
            offset=page.offset,
            total=total,
        )

    @get("/refund-batches", guards=[READERS], summary="Refund batches, newest first")
    async def list_refund_batches(
        self, db_session: DbSession, page: Page
    ) -> OffsetPagination[RefundBatchSummary]:
        rows, total = await reports.list_refund_batches(db_session, page)
        return OffsetPagination(
            items=[RefundBatchSummary(**r) for r in rows],
            limit=page.limit,
            offset=page.offset,
            total=total,
        )

    @get("/suspense", guards=[READERS], summary="Lines waiting in suspense")
    async def list_suspense(
        self, db_session: DbSession, secrecy: Secrets, page: Page
    ) -> OffsetPagination[SuspenseRead]:
        lines, total = await suspense.suspense_page(db_session, secrecy=secrecy, page=page)
        return OffsetPagination(
            items=[SuspenseRead(**s.__dict__) for s in lines],
            limit=page.limit,
            offset=page.offset,
            total=total,
        )

    @post("/suspense/{line_id:int}/resolve", guards=[STAFF], summary="Assign, refund or split")
    async def resolve(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        line_id: FromPath[int],
        data: JSONBody[ResolveRequest],
    ) -> ResolvedRead:
        resolved = await suspense.resolve_suspense(
            db_session,
            line_id,
            secrecy=secrecy,
            assign=[(p.number, p.amount_fen) for p in data.assign],
            refund_fen=data.refund_fen,
            actor=actor,
            note=data.note,
        )
        return ResolvedRead.model_validate(resolved)

    @post("/refund-batches", guards=[STAFF], summary="Refund deposits with interest")
    async def refund(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        data: JSONBody[RefundBatchCreate],
        settings: AppSettings,
    ) -> RefundBatchRead:
        # The platform's defaults were checked at start-up (tendering/settings.py).
        policy = rules.LedgerPolicy(
            annual_rate=settings.deposit_rate if data.annual_rate is None else data.annual_rate,
            day_count=data.day_count or rules.DayCount(settings.deposit_day_count),
        )
        batch = await refunds.create_refund_batch(
            db_session,
            secrecy=secrecy,
            subject=data.subject,
            paid_on=data.paid_on,
            actor=actor,
            bidder_org_ids=data.bidder_org_ids,
            policy=policy,
            request_key=data.idempotency_key,
        )
        return RefundBatchRead(**batch.__dict__)

    @get("/refund-batches/{code:str}/instructions", guards=[READERS], summary="Payment file")
    async def instructions(
        self, db_session: DbSession, secrecy: Secrets, code: FromPath[str]
    ) -> Response[bytes]:
        body = await reports.instructions_csv(db_session, code, secrecy=secrecy)
        return Response(
            body.encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{code}.csv"'},
        )

    @post("/refund-lines/{ref:str}/paid", guards=[STAFF], summary="The bank paid this line")
    async def paid(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        ref: FromPath[str],
        data: JSONBody[RefundPaid],
    ) -> PaidRead:
        done = await confirmations.confirm_refund_paid(
            db_session,
            instruction_ref=ref,
            bank_ref=data.bank_ref,
            paid_at=data.paid_at,
            actor=actor,
        )
        return PaidRead(changed=done is not None)

    @post("/refund-lines/{ref:str}/returned", guards=[STAFF], summary="退票: pay it again")
    async def returned(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        ref: FromPath[str],
        data: JSONBody[RefundReturned],
    ) -> ReissuedRead:
        new_ref = await reissue_refund(
            db_session,
            secrecy=secrecy,
            instruction_ref=ref,
            payee=(data.payee_name, data.payee_account),
            reason=data.reason,
            actor=actor,
        )
        return ReissuedRead(returned=ref, reissued=new_ref)

    @post(
        "/refund-lines/{ref:str}/payee",
        guards=[STAFF],
        summary="The payee account of a refund the bank gave no payer account for",
    )
    async def payee(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        secrecy: Secrets,
        ref: FromPath[str],
        data: JSONBody[RefundPayee],
    ) -> PayeeSuppliedRead:
        supplied = await supply_payee(
            db_session,
            secrecy=secrecy,
            instruction_ref=ref,
            payee=(data.payee_name, data.payee_account),
            reason=data.reason,
            actor=actor,
        )
        return PayeeSuppliedRead.model_validate(supplied)

    @get("/reconciliation/{day:date}", guards=[READERS], summary="银行对账日报, PDF or CSV")
    async def reconciliation(
        self,
        db_session: DbSession,
        day: FromPath[date],
        format: Format = "pdf",
    ) -> Response[bytes]:
        checked = in_calendar(day, field="day") or day
        return await _report(await reports.daily_reconciliation(db_session, checked), format)

    @get("/verify", guards=[READERS], summary="The ledger's invariants, checked now")
    async def verify(self, db_session: DbSession) -> VerifyRead:
        problems = await verify_ledger(db_session)
        return VerifyRead(ok=not problems, problems=problems)
