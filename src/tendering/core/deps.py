"""What a handler gets from its process, as Litestar dependencies: one way, by name.

``create_app`` builds one :class:`Platform` per process and puts it on the app's state; the
providers below hand its parts to handlers that name them, with the matching annotation::

    @get("/deposits/{number:str}")
    async def get_deposit(
        db_session: DbSession, actor: CurrentActor, secrecy: Secrets, number: FromPath[str]
    ) -> DepositRead: ...

================  ================  =========================================================
parameter         annotation        what it is
================  ================  =========================================================
``db_session``    ``DbSession``     the request's session (core/db.py), committed on 2xx
``settings``      ``AppSettings``   :class:`~tendering.settings.Settings`
``platform_key``  ``SigningKey``    :class:`~tendering.core.signing.PlatformKey`
``secrecy``       ``Secrets``       :class:`~tendering.core.secrecy.Secrecy` (tags, seals)
``blob_store``    ``Blobs``         :class:`~tendering.core.blobs.BlobStore`
``sessionmaker``  ``SessionMaker``  for short transactions beside the request's session
``queue``         ``Queue``         the arq pool (Redis) for jobs, ``None`` before start-up
``actor``         ``CurrentActor``  the logged-in actor (401 without one)
``viewer``        ``Viewer``        the logged-in actor, or ``None`` for the public
``page``          ``Page``          ``?current_page=&page_size=`` (core/pagination.py)
``passwords``     ``Passwords``     :class:`~tendering.core.auth.passwords.PasswordChecks`
``upload_slot``   ``UploadSlot``    one of the actor's upload slots for the request's life
                                    (429 ``upload.too_many`` when all are taken; bodies.py)
================  ================  =========================================================

Jobs and the CLI build the same parts from settings (``Platform.build``), never from state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tendering.core.auth.actor import Actor
from tendering.core.auth.guards import current_actor
from tendering.core.auth.passwords import PasswordChecks
from tendering.core.blobs import BlobStore
from tendering.core.bodies import UploadSlots
from tendering.core.pagination import LimitOffset, provide_page
from tendering.core.reports import use_font
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey, load_platform_key
from tendering.settings import Settings

__all__ = [
    "DEPENDENCIES",
    "PLATFORM_STATE_KEY",
    "AppSettings",
    "Blobs",
    "CurrentActor",
    "Page",
    "Passwords",
    "Platform",
    "Queue",
    "Secrets",
    "SessionMaker",
    "SigningKey",
    "UploadSlot",
    "Viewer",
    "platform_of",
]

PLATFORM_STATE_KEY = "platform"

AppSettings = NamedDependency[Settings]
SigningKey = NamedDependency[PlatformKey]
Secrets = NamedDependency[Secrecy]
Blobs = NamedDependency[BlobStore]
SessionMaker = NamedDependency[async_sessionmaker[AsyncSession]]
Queue = NamedDependency[ArqRedis | None]
CurrentActor = NamedDependency[Actor]
Viewer = NamedDependency[Actor | None]
Page = NamedDependency[LimitOffset]
Passwords = NamedDependency[PasswordChecks]
UploadSlot = NamedDependency[None]


@dataclass(slots=True, kw_only=True)
class Platform:
    """The parts one process shares with every request, made once at start-up."""

    settings: Settings
    key: PlatformKey
    secrecy: Secrecy
    blobs: BlobStore
    sessionmaker: async_sessionmaker[AsyncSession]
    passwords: PasswordChecks
    uploads: UploadSlots
    queue: ArqRedis | None = None  # connected on start-up

    @classmethod
    def build(cls, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> Platform:
        key = load_platform_key(settings)
        use_font(settings.cjk_font)
        return cls(
            settings=settings,
            key=key,
            secrecy=Secrecy.of(key),
            blobs=BlobStore(settings.blob_dir),
            sessionmaker=sessionmaker,
            passwords=PasswordChecks(
                workers=settings.password_workers, queue=settings.password_queue
            ),
            uploads=UploadSlots(per_user=settings.uploads_per_user),
        )


def platform_of(state: State) -> Platform:
    platform: Platform = state[PLATFORM_STATE_KEY]
    return platform


def _settings(state: State) -> Settings:
    return platform_of(state).settings


def _platform_key(state: State) -> PlatformKey:
    return platform_of(state).key


def _secrecy(state: State) -> Secrecy:
    return platform_of(state).secrecy


def _blob_store(state: State) -> BlobStore:
    return platform_of(state).blobs


def _sessionmaker(state: State) -> async_sessionmaker[AsyncSession]:
    return platform_of(state).sessionmaker


def _queue(state: State) -> ArqRedis | None:
    return platform_of(state).queue


def _passwords(state: State) -> PasswordChecks:
    return platform_of(state).passwords


def _upload_slot(state: State, actor: CurrentActor) -> Iterator[None]:
    with platform_of(state).uploads.hold(actor.user_id):
        yield


def _actor(request: Request[Any, Any, Any]) -> Actor:
    return current_actor(request)


def _viewer(request: Request[Any, Any, Any]) -> Actor | None:
    user = request.scope.get("user")
    return user if isinstance(user, Actor) else None


DEPENDENCIES: dict[str, Provide] = {
    "settings": Provide(_settings, sync_to_thread=False),
    "platform_key": Provide(_platform_key, sync_to_thread=False),
    "secrecy": Provide(_secrecy, sync_to_thread=False),
    "blob_store": Provide(_blob_store, sync_to_thread=False),
    "sessionmaker": Provide(_sessionmaker, sync_to_thread=False),
    "queue": Provide(_queue, sync_to_thread=False),
    "actor": Provide(_actor, sync_to_thread=False),
    "viewer": Provide(_viewer, sync_to_thread=False),
    "page": Provide(provide_page, sync_to_thread=False),
    "passwords": Provide(_passwords, sync_to_thread=False),
    "upload_slot": Provide(_upload_slot),
}
