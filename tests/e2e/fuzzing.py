"""Fuzzing the whole API from its own OpenAPI schema (schemathesis) as every caller the
platform has: each role of ``Role`` with its demo login's token, and the public without
one. Shared by ``tests/e2e/test_api_fuzz.py`` (a small budget) and ``bench/api_fuzz.py``
(the long run whose totals the closing note quotes).

The cases are generated with schemathesis' Python API as ``st run`` would generate them
(the same phases, examples budget and seed), with no request while generating, and only
twice, in two processes side by side: once with a bearer token for all the roles
(schemathesis then makes up no ``Authorization`` of its own), once without for the public
(made-up tokens included). Each case is serialized there into its request by schemathesis;
every request is then sent as every caller over its own ``httpx`` client, a role with its
own token. The totals (operations, requests, answers of 5xx) are counted from what was
sent and answered, so that a 500 is counted even where schemathesis would stop; a request
that got no answer (a timeout, a refused connection) is a failure."""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import sys
import unittest
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import requests
import schemathesis
from schemathesis.config import ProjectConfig, SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.core.transport import is_event_stream
from schemathesis.generation import derive_operation_seed, overrides
from schemathesis.generation.case import Case
from schemathesis.generation.hypothesis.builder import (
    HypothesisTestConfig,
    HypothesisTestMode,
    create_test,
)
from schemathesis.schemas import APIOperation

from tendering.core.auth.models import Role
from tendering.core.demo import demo_logins

BIN = Path(sys.executable).parent
SEED = 20261125
QUICK_PHASES = "examples,fuzzing"
LONG_PHASES = "examples,coverage,fuzzing"
PUBLIC = "public"
# Operations that can end the caller's session (log out, a new password, a deactivated
# login): sent last, with a token of their own, so that the others are sent with a live one.
SESSION_ENDING = r"^/api/(auth/(logout|password)|users/[^/]+/deactivate)$"
REQUEST_TIMEOUT = 60
# The roles' cases are generated with this in place of their tokens, sent in its place.
SIGNED = {"Authorization": "Bearer token-of-the-caller"}
_SIGNED_WIRE = (b"authorization", SIGNED["Authorization"].encode())


def callers() -> list[str]:
    """Every role (in the enum's order), then the public."""
    return [role.value for role in Role] + [PUBLIC]


def login(base: str, caller: str) -> bytes:
    """The ``Authorization`` of ``caller``: a bearer token of the role's first demo login
    (the public has none)."""
    if caller == PUBLIC:
        return b""
    demo = next(d for d in demo_logins() if d.role.value == caller)
    response = httpx.post(
        f"{base}/api/auth/login",
        json={"username": demo.username, "password": demo.password},
        timeout=30,
    )
    response.raise_for_status()
    return f"Bearer {response.json()['token']}".encode()


@dataclass
class CallerRun:
    caller: str
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)  # "METHOD url -> status"
    operations: set[str] = field(default_factory=set)  # "METHOD /path/{template}"
    asked: set[str] = field(default_factory=set)  # those at least one request was answered
    failures: list[str] = field(default_factory=list)  # cases not generated, requests unanswered


@dataclass(frozen=True)
class Request:
    """A case as it goes on the wire."""

    operation: str  # "METHOD /path/{template}"
    method: str
    url: str
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes | str | None
    follow_redirects: bool


@dataclass
class Cases:
    """Every operation's requests: ``main`` first, then the ``session`` ending ones."""

    main: list[Request] = field(default_factory=list)
    session: list[Request] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # operations whose generation broke


def operations(base: str) -> list[str]:
    """Every operation of the served schema, as ``METHOD /path``."""
    schema = httpx.get(f"{base}/schema/openapi.json", timeout=30).json()
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return sorted(
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method in item
        if method in methods
    )


def generate(base: str, *, examples: int, phases: str, seed: int, headers: dict[str, str]) -> Cases:
    """The requests of every operation of the served schema, phase after phase as ``st run``
    goes (``phases``: some of examples, coverage, fuzzing), each operation's hypothesis test
    built by schemathesis as its CLI builds it (``examples`` cases at most in fuzzing, no
    shrinking, no example database, the operation's seed derived from ``seed``, ``headers``
    as ``-H`` gives them), but run here with a test that only keeps the case."""
    modes = [HypothesisTestMode(phase) for phase in phases.split(",")]
    config = SchemathesisConfig()
    config.update(seed=seed, max_failures=None)
    config.projects.override.phases.update(phases=[mode.value for mode in modes])
    config.projects.override.update(headers=headers or None)
    config.projects.override.generation.update(
        max_examples=examples, no_shrink=True, database="none"
    )
    schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json", config=config)
    project = schema.config
    found = list(schema.get_all_operations())
    cases = Cases()
    cases.failures += [f"schema: {result.err()}" for result in found if not isinstance(result, Ok)]
    for mode in modes:
        for result in found:
            if not isinstance(result, Ok):
                continue
            operation = result.ok()
            ending = re.match(SESSION_ENDING, operation.path) is not None
            try:
                (cases.session if ending else cases.main).extend(
                    _request(base, case) for case in _generate_one(operation, mode, project, seed)
                )
            except Exception as exc:  # reported, as ``st`` reported it
                cases.failures.append(f"generating {operation.label} ({mode}): {exc!r}")
    return cases


def _generate_one(
    operation: APIOperation, mode: HypothesisTestMode, project: ProjectConfig, seed: int
) -> list[Case]:
    """The cases of ``operation`` in the phase ``mode``: its hypothesis test, built by
    schemathesis as the engine of ``st run`` builds it, run with a test keeping each case."""
    kept: list[Case] = []

    def keep(case: Case) -> None:
        kept.append(case)

    test = create_test(
        operation=operation,
        test_func=keep,
        config=HypothesisTestConfig(
            project=project,
            modes=[mode],
            settings=project.get_hypothesis_settings(
                operation=operation, phase=mode.value, apply_ci_profile=False
            ),
            explicit_setting_names=project.explicit_hypothesis_settings(
                operation=operation, phase=mode.value
            ),
            apply_ci_profile=False,
            seed=derive_operation_seed(seed, operation.label),
            override=overrides.with_config_headers(project, operation=operation),
        ),
    )
    with contextlib.suppress(unittest.SkipTest):  # nothing to run: no examples in the schema
        test()
    return kept


def _request(base: str, case: Case) -> Request:
    """``case`` as schemathesis serializes it, prepared by ``requests`` (the transport of
    ``st``), its headers on the wire as http.client puts them, but for the blanks around a
    value ("Bearer "), which h11 refuses to send and a server drops on reading (RFC 9110 5.5:
    they are no part of the value)."""
    request = requests.Request(**case.as_transport_kwargs(base_url=base)).prepare()
    headers = tuple(
        (
            name.encode("ascii"),
            (value.encode("latin-1") if isinstance(value, str) else value).strip(b" \t"),
        )
        for name, value in request.headers.items()
    )
    return Request(
        operation=case.operation.label,
        method=str(request.method),
        url=str(request.url),
        headers=headers,
        body=request.body,
        # A documented redirect is the answer under test, otherwise it is followed (as ``st``).
        follow_redirects=not any(
            code.startswith("3") for code in case.operation.responses.status_codes
        ),
    )


def _send(client: httpx.Client, request: Request, token: bytes, run: CallerRun) -> None:
    """``request`` with ``token`` in place of ``SIGNED``'s, counted in ``run``."""
    headers = [
        (name, token) if (name.lower(), value) == _SIGNED_WIRE else (name, value)
        for name, value in request.headers
    ]
    try:
        with client.stream(
            request.method,
            request.url,
            headers=headers,
            content=request.body,
            follow_redirects=request.follow_redirects,
        ) as response:
            if not is_event_stream(response.headers.get("content-type")):
                response.read()  # a stream of events may never end: its status is enough
    except Exception as exc:  # every unanswered request is reported
        run.failures.append(f"{run.caller}: {request.method} {request.url}: {exc!r}")
        return
    run.requests += 1
    run.statuses[response.status_code] += 1
    run.asked.add(request.operation)
    if response.status_code >= 500:
        run.server_errors.append(f"{request.method} {request.url} -> {response.status_code}")


def fuzz_callers(
    base: str,
    *,
    examples: int,
    phases: str = QUICK_PHASES,
    only: list[str] | None = None,
    seed: int = SEED,
    workers: int = 2,
    meanwhile: Callable[[], object] | None = None,
) -> Iterator[CallerRun]:
    """Every operation's requests (``generate``: the roles' and the public's, in two processes
    at once) sent as each caller (``only`` those), ``workers`` callers at a time (one sends
    while the other waits on the server's answer: two keep the server busy), in the callers'
    order: first all operations but those ending the session, then those with a second
    token. Every token is taken before any request: the fuzzed login, sent the demo's
    usernames with wrong passwords, soon has the login throttle refuse them for a quarter of
    an hour. ``phases`` are schemathesis' (``examples,fuzzing``; the long run adds
    ``coverage``: boundary values of every parameter, thousands of requests). ``meanwhile``
    is called while the cases are generated, before any token is taken (the test fills the
    platform with the demo data then: generating asks for nothing but the schema)."""
    chosen = only or callers()
    # A fresh interpreter for each (not a fork of this one and its threads).
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as gen:
        generated = {
            signed: gen.submit(
                generate,
                base,
                examples=examples,
                phases=phases,
                seed=seed,
                headers=SIGNED if signed else {},
            )
            for signed in {caller != PUBLIC for caller in chosen}
        }
        if meanwhile is not None:
            meanwhile()
        tokens = {caller: (login(base, caller), login(base, caller)) for caller in chosen}
        every = set(operations(base))

        def fuzz(caller: str) -> CallerRun:
            cases = generated[caller != PUBLIC].result()
            run = CallerRun(caller, operations=every, failures=list(cases.failures))
            with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
                for part, token in zip((cases.main, cases.session), tokens[caller], strict=True):
                    for request in part:
                        _send(client, request, token, run)
            return run

        with ThreadPoolExecutor(max_workers=workers) as pool:
            yield from pool.map(fuzz, chosen)


def totals(runs: list[CallerRun]) -> str:
    """The lines the closing note quotes."""
    ops = len(set().union(*(r.operations for r in runs))) if runs else 0
    lines = [
        f"{'caller':<12}{'operations':>11}{'requests':>10}{'2xx':>8}{'4xx':>8}{'5xx':>6}",
        *(
            f"{r.caller:<12}{len(r.asked):>11}{r.requests:>10}"
            f"{sum(n for s, n in r.statuses.items() if s < 300):>8}"
            f"{sum(n for s, n in r.statuses.items() if 400 <= s < 500):>8}"
            f"{len(r.server_errors):>6}"
            for r in runs
        ),
        f"operations {ops} x callers {len(runs)} = {ops * len(runs)} fuzzed; "
        f"requests {sum(r.requests for r in runs)}; "
        f"5xx {sum(len(r.server_errors) for r in runs)}",
    ]
    return "\n".join(lines)
