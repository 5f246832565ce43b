"""How tests share one database, one engine and one app, yet each starts from empty tables.

The run has one engine, :attr:`TestDatabase.engine`, in one of two modes:

- **rolled back** (the default): every connection the engine hands out (to the app's request
  sessions, the token middleware, the runner, ``session``, a test's ``engine.begin()``) is
  the same PostgreSQL connection, held for the whole run. Each test runs inside one
  transaction on it, and asyncpg turns each ``BEGIN`` / ``COMMIT`` / ``ROLLBACK`` inside it
  into ``SAVEPOINT`` / ``RELEASE`` / ``ROLLBACK TO``: code commits and reads back what it
  committed as it does in production, and at the end the test's transaction is rolled back.
- **committed**: real connections that really commit; after the test the tables it filled
  are emptied. For tests that need what one transaction cannot give:
  ``now()`` moving (it is the start of the test's transaction; ``clock_timestamp()`` moves
  either way), several connections at once (concurrent requests, races, locks, a background
  runner or worker, a live server), or commits seen through a connection of their own (the
  CLI, a subprocess, another event loop such as the synchronous ``TestClient``'s).

Mark such a test ``@pytest.mark.committed``, or have a fixture it uses ask for the
``committed`` fixture (the live server, a CLI runner do). A rolled-back test that leaves rows
behind (it committed through a connection of its own) fails at its end, naming the tables,
and so does one that still holds a connection when it ends; the next test starts clean.

The app is shared too: :class:`RunningApps` makes one per distinct settings and starts it
once, and :class:`InLoopTestClient` calls it in the test's own event loop (Litestar's
``AsyncTestClient`` would run it in a thread and a loop of its own, away from the engine's
connection).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from io import BytesIO
from typing import Any

import anyio
import asyncpg
from httpx import ByteStream, Request, Response
from litestar import Litestar
from litestar.testing import AsyncTestClient
from litestar.testing.transport import TestClientTransport
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tendering.models import metadata

__all__ = ["InLoopTestClient", "LeftRows", "TestDatabase"]

# As tendering.core.db.make_engine sets them for every connection.
SERVER_SETTINGS = {"timezone": "UTC", "application_name": "tendering-test"}

_TABLES = [t.name for t in metadata.sorted_tables]
_FILLED = "SELECT array_remove(ARRAY[{}], NULL)".format(
    ", ".join(f"CASE WHEN EXISTS (SELECT FROM \"{t}\") THEN '{t}' END" for t in _TABLES)
)


class LeftRows(AssertionError):
    """A rolled-back test committed rows through a connection of its own."""


class _Joined:
    """The run's connection as the pool hands it out in the rolled-back mode.

    Started while the test's transaction is open, an asyncpg transaction is a savepoint of
    it; the isolation level and read-only flag are the outer transaction's, as PostgreSQL
    has it for savepoints. Closing it leaves the run's connection open.
    """

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def transaction(self, **_: Any) -> Any:
        return self._connection.transaction()

    async def close(self, **_: Any) -> None:
        return None

    def terminate(self) -> None:
        return None


class TestDatabase:
    """The run's engine and its two modes (see the module's docstring)."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, url: str) -> None:
        engine_url = make_url(url)
        args, kwargs = engine_url.get_dialect()().create_connect_args(engine_url)
        self._connect_args = (args, kwargs | {"server_settings": SERVER_SETTINGS})
        self.committed = False  # the mode of the connections in the pool
        self._shared: asyncpg.Connection | None = None
        self.engine: AsyncEngine = create_async_engine(
            url, async_creator=self._connect, pool_size=5, max_overflow=5
        )

    async def start(self) -> None:
        """Empties what the migrations filled (the calendar, the rules' defaults): every
        test starts from empty tables."""
        await self._empty_filled_tables(await self._shared_connection())

    async def _new_connection(self) -> asyncpg.Connection:
        args, kwargs = self._connect_args
        return await asyncpg.connect(*args, **kwargs)

    async def _connect(self) -> Any:
        if self.committed:
            return await self._new_connection()
        if self._shared is None:
            raise RuntimeError("the rolled-back mode's connection is used outside a test")
        return _Joined(self._shared)

    async def _shared_connection(self) -> asyncpg.Connection:
        """The connection the rolled-back tests share (idle between tests)."""
        if self._shared is None or self._shared.is_closed():
            if not self.committed:
                await self.engine.dispose()  # the pool's connections wrap the closed one
            self._shared = await self._new_connection()
        return self._shared

    async def _mode(self, *, committed: bool) -> None:
        if self.committed != committed:
            await self.engine.dispose()  # the pool holds the other mode's connections
            self.committed = committed

    @asynccontextmanager
    async def rolled_back(self) -> AsyncIterator[AsyncEngine]:
        """The engine, for one test whose work is rolled back at its end."""
        await self._mode(committed=False)
        shared = await self._shared_connection()
        test = shared.transaction()
        await test.start()
        try:
            yield self.engine
        finally:
            busy = self.engine.pool.checkedout()  # type: ignore[attr-defined]
            try:
                await test.rollback()
            except (asyncpg.InterfaceError, asyncpg.PostgresError):
                busy = busy or 1  # used beside the test, or broken: start over on a new one
            if busy or shared.is_in_transaction():
                await self.engine.dispose()
                shared.terminate()
                self._shared = shared = await self._new_connection()
            left = await self._empty_filled_tables(shared)
        if busy:
            raise AssertionError(
                f"{busy} database connection(s) still in use at the end of the test: a session"
                " left open, or a background task still running; a test with work running"
                " beside it must be marked @pytest.mark.committed"
            )
        if left:
            raise LeftRows(
                f"the test committed rows in {', '.join(left)} through a connection of its own"
                " (the CLI, a subprocess, another event loop): mark it @pytest.mark.committed"
            )

    @asynccontextmanager
    async def committing(self) -> AsyncIterator[AsyncEngine]:
        """The engine, for one test whose work really commits; the tables it filled are
        emptied after it."""
        await self._mode(committed=True)
        try:
            yield self.engine
        finally:
            await self._empty_filled_tables(await self._shared_connection())

    @staticmethod
    async def _empty_filled_tables(connection: asyncpg.Connection) -> list[str]:
        """Empties the tables that hold rows, children first; their names. (``DELETE``: on
        the few rows a test leaves it is many times quicker than ``TRUNCATE``.)"""
        filled: list[str] = await connection.fetchval(_FILLED)
        if filled:
            await connection.execute(
                "; ".join(f'DELETE FROM "{t}"' for t in reversed(_TABLES) if t in filled)
            )
        return filled

    async def close(self) -> None:
        await self.engine.dispose()
        if self._shared is not None:
            await self._shared.close()


class _InLoopTransport(TestClientTransport[Any]):
    """Litestar's test transport, but awaiting the app in the caller's event loop instead of
    handing each request to a thread of its own: the app then shares the test's loop, and so
    its engine and connection."""

    async def handle_async_request(self, request: Request) -> Response:
        await request.aread()
        scope = self.parse_request(request=request)
        scope.update(
            method=request.method, http_version="1.1", extensions={"http.response.template": {}}
        )
        raw_kwargs: dict[str, Any] = {"stream": BytesIO()}
        context: Any = {
            "response_complete": anyio.Event(),
            "request_complete": False,
            "raw_kwargs": raw_kwargs,
            "response_started": False,
            "template": None,
            "context": None,
        }
        await self.client.app(
            scope,
            self.create_receive(request=request, context=context),
            self.create_send(request=request, context=context),
        )
        if not context["response_started"]:
            raise AssertionError("the app sent no response")
        stream = ByteStream(raw_kwargs.pop("stream").read())
        return Response(**raw_kwargs, stream=stream, request=request)


class InLoopTestClient(AsyncTestClient[Litestar]):
    """``AsyncTestClient`` that runs the app in the test's own event loop, for an app
    :class:`RunningApps` has started (``async with InLoopTestClient(app) as client``).
    No WebSockets: they need the portal's thread."""

    def __init__(self, app: Litestar, **kw: Any) -> None:
        super().__init__(app=app, **kw)
        self._transport = _InLoopTransport(client=self)

    async def __aenter__(self) -> InLoopTestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class RunningApps:
    """Apps made once per distinct settings (``create_app`` costs a tenth of a second) and
    started once per run, in the run's event loop: their plugins (database, live channels)
    stay up until the run ends. Their own start-up and shutdown hooks (the job queue, the
    opening runner) run again after each test, so that each test finds them new."""

    def __init__(self) -> None:
        self._apps: dict[Any, Litestar] = {}
        self._stop = asyncio.Event()
        self._running: list[asyncio.Task[None]] = []

    async def get(self, key: Any, make: Any) -> Litestar:
        """The app for ``key`` (settings), made by ``make()`` and started the first time."""
        app = self._apps.get(key)
        if app is None:
            app = self._apps[key] = make()
            await self._start(app)
        return app

    async def _start(self, app: Litestar) -> None:
        started = asyncio.Event()

        async def serve() -> None:
            # One task enters and leaves the lifespan: its task groups must stay in one task.
            async with app.lifespan():
                started.set()
                await self._stop.wait()

        running = asyncio.create_task(serve())
        waiting = asyncio.create_task(started.wait())
        await asyncio.wait([running, waiting], return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():
            waiting.cancel()
            await running  # raises what the start-up raised
        self._running.append(running)

    @staticmethod
    async def restart_hooks(app: Litestar) -> None:
        """The app's shutdown hooks, then its start-up hooks, as a restart would run them."""
        for hook in [*app.on_shutdown, *app.on_startup]:
            result = hook(app) if inspect.signature(hook).parameters else hook()  # type: ignore[call-arg]
            if inspect.isawaitable(result):
                await result

    async def close(self) -> None:
        self._stop.set()
        for running in self._running:
            await running
