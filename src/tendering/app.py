"""The composition root: with ``cli.py``, ``runtime.py`` and ``models.py``, the only modules
that see every context (``tests/tendering/test_boundaries.py``).

``create_app(settings)`` wires the database plugin, the auth middleware, the error mapping,
OpenAPI and each context's routes. The contexts' controllers are listed in
``_route_handlers``; their jobs, demo steps and hook listeners in ``register_contexts``.
"""

from __future__ import annotations

from typing import Any

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy.ext.asyncio import AsyncEngine

from tendering import __version__
from tendering.core import blob_sweep, blobs, jobs
from tendering.core.apidocs import SelfHostedSwagger
from tendering.core.auth.middleware import SESSIONMAKER_STATE_KEY, TokenMiddleware
from tendering.core.bodies import BodyReads
from tendering.core.channels import channels_plugin
from tendering.core.db import make_engine, make_sessionmaker
from tendering.core.deps import DEPENDENCIES, PLATFORM_STATE_KEY, Platform, platform_of
from tendering.core.headers import security_headers
from tendering.core.requests import PlatformRequest
from tendering.core.web import exception_handlers, health, platform_key
from tendering.opening.runner import start_runner, stop_runner
from tendering.settings import Settings

__all__ = ["create_app", "register_contexts"]


def _route_handlers() -> list[Any]:
    """Every context's controllers. Import here so a context never imports another."""
    from agencies.routes import agency_handlers
    from auction.bidding_routes import bidding_handlers
    from auction.routes import auction_handlers
    from experts.routes import ExpertAnswerController, ExpertController
    from tendering.bids.routes import BidController, BidderKeyController
    from tendering.core.audit.routes import AuditController
    from tendering.core.auth.routes import auth_handlers
    from tendering.core.draws.routes import DrawController
    from tendering.core.holidays.routes import CalendarController
    from tendering.ledger.routes import LedgerController
    from tendering.opening.routes import CustodianController, OpeningController
    from tendering.tenders.public_routes import BidderTenderController, PublicNoticeController
    from tendering.tenders.routes import StaffTenderController

    return [
        health,
        platform_key,
        AuditController,
        *auth_handlers,
        CalendarController,
        LedgerController,
        StaffTenderController,
        BidderTenderController,
        PublicNoticeController,
        BidderKeyController,
        BidController,
        CustodianController,
        OpeningController,
        DrawController,
        ExpertController,
        ExpertAnswerController,
        *agency_handlers,
        *auction_handlers,
        *bidding_handlers,
    ]


def register_contexts() -> None:
    """Register every context's jobs and sweepers with the worker, its demo steps, and
    connect the hooks lower contexts announce to the higher ones' functions (idempotent)."""
    from tendering.core.audit import jobs as audit_jobs

    jobs.register(audit_jobs.checkpoint_streams, cron_minute_step=10)
    from tendering.tenders import jobs as tender_jobs

    jobs.register(tender_jobs.publish_notice)
    jobs.register_sweeper("tenders.publish_due_notices", tender_jobs.sweep_due_notices)
    from tendering.ledger import jobs as ledger_jobs

    jobs.register(ledger_jobs.verify_ledger_hourly, cron_minute_step=60)
    from tendering.opening import jobs as opening_jobs

    jobs.register_sweeper("opening.sweep_stalled_openings", opening_jobs.sweep_stalled_openings)
    from tendering.bids import jobs as bid_jobs

    jobs.register_sweeper("bids.plant_decoys", bid_jobs.plant_decoys)
    jobs.register_sweeper("blobs.sweep_leftovers", blobs.sweep_leftover_files)
    # Every column that names a stored blob: the hourly sweep removes files none names.
    blob_sweep.reference("tender_notice_document", "sha256", holds="notice documents")
    blob_sweep.reference("bid", "sha256", holds="sealed bid envelopes, decoys included")
    blob_sweep.reference("opening", "record_sha256", holds="opening record PDFs")
    blob_sweep.reference("opening_result", "receipt_sha256", holds="the envelope each opened")
    blob_sweep.reference("opening_result", "plaintext_sha256", holds="decrypted bids kept")
    blob_sweep.reference("auction", "result_sha256", holds="signed auction result PDFs")
    jobs.register(blob_sweep.sweep_unreferenced_blobs, cron_minute_step=60)
    from experts import jobs as expert_jobs

    jobs.register(expert_jobs.expire_expert_answers, cron_minute_step=1)
    jobs.register(expert_jobs.fix_supplementary_pools, cron_minute_step=1)
    jobs.register(expert_jobs.deliver_expert_messages, cron_minute_step=1)
    jobs.register(expert_jobs.release_started_evaluations, cron_minute_step=1)
    from agencies import jobs as agency_jobs

    jobs.register(agency_jobs.rescore_agencies, cron_minute_step=60)  # daily decay, idempotent
    from auction import jobs as auction_jobs

    jobs.register(auction_jobs.auction_clock)  # at each phase boundary; closes once
    jobs.register_sweeper("auction.clocks", auction_jobs.sweep_auction_clocks)
    # Hooks: a lower context announces, a higher one acts in the same transaction.
    from tendering.opening import hold_key_ceremonies
    from tendering.tenders import lots_published

    lots_published.connect(hold_key_ceremonies)  # a published lot gets its opening key
    from tendering.core.demo import register_demo_step
    from tendering.ledger.demo import add_demo_deposits
    from tendering.opening.demo import add_demo_custodians
    from tendering.tenders.demo import add_demo_tenders

    register_demo_step(add_demo_custodians)  # before the lots that name them
    register_demo_step(add_demo_tenders)
    register_demo_step(add_demo_deposits)  # pays into the accounts registration opened
    from experts.demo import add_demo_experts

    register_demo_step(add_demo_experts)
    from agencies.demo import add_demo_agencies

    register_demo_step(add_demo_agencies)
    from auction.demo import add_demo_auctions, approve_demo_bidders
    from tendering.ledger.demo import add_demo_requested_deposits

    register_demo_step(add_demo_auctions)  # the auctions and the demo bidders' applications
    register_demo_step(add_demo_requested_deposits)  # the bank pays what they asked for
    register_demo_step(approve_demo_bidders)  # approved only once the ledger says received


def create_app(settings: Settings, *, engine: AsyncEngine | None = None) -> Litestar:
    """The ASGI app for ``settings`` (whose database and Redis URLs must be concrete)."""
    register_contexts()
    owns_engine = engine is None
    engine = engine or make_engine(settings.async_database_url)
    sessionmaker = make_sessionmaker(engine)
    db = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler="autocommit",
        session_dependency_key="db_session",
        create_all=False,
    )

    async def open_queue(app: Litestar) -> None:
        queue = await jobs.connect_queue(settings)
        platform_of(app.state).queue = queue
        app.state["queue"] = queue

    async def close_auctions(app: Litestar) -> None:
        from auction.bidding import close_bidding  # the writer's thread, the live rooms

        await close_bidding(app.state)

    async def close_queue(app: Litestar) -> None:
        queue = app.state.get("queue")
        if queue is not None:
            await queue.aclose()
        if owns_engine:
            await engine.dispose()

    return Litestar(
        route_handlers=_route_handlers(),
        plugins=[SQLAlchemyPlugin(config=db), channels_plugin(settings.concrete_redis_url)],
        middleware=[
            DefineMiddleware(BodyReads, idle_seconds=settings.upload_idle_seconds),
            TokenMiddleware(),
        ],
        exception_handlers=exception_handlers,
        request_class=PlatformRequest,
        before_send=[security_headers],
        on_startup=[open_queue, start_runner],
        on_shutdown=[stop_runner, close_auctions, close_queue],
        state=_state(Platform.build(settings, sessionmaker)),
        dependencies=DEPENDENCIES,
        openapi_config=OpenAPIConfig(
            title="公共资源交易平台 Tendering platform API",
            version=__version__,
            path="/schema",
            render_plugins=[SelfHostedSwagger()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer"),
                }
            ),
            security=[{"BearerToken": []}],
        ),
        debug=False,
    )


def _state(platform: Platform) -> Any:
    from litestar.datastructures import State

    # The plain keys serve handlers not yet moved to the dependencies (core/deps.py).
    return State(
        {
            PLATFORM_STATE_KEY: platform,
            "settings": platform.settings,
            "platform_key": platform.key,
            SESSIONMAKER_STATE_KEY: platform.sessionmaker,
        }
    )
