"""Dependencies between contexts run one way, and only through each context's package.

Every module under ``src/`` (``src/tendering`` and any top-level context beside it, such as
``src/auction``, ``src/experts`` and ``src/agencies``) is read with :mod:`ast`, every
``import`` in it (inside functions and ``TYPE_CHECKING`` blocks too) is checked against
``MAY_IMPORT``:

- ``tendering.core`` (the kernel) imports no context; ``tendering.settings`` and the root
  ``tendering`` package are kernel leaves everyone may import;
- ``core`` <- ``ledger`` <- ``tenders`` <- ``bids`` <- ``opening`` (<- ``evaluation``), each
  seeing only the contexts below it; ``auction``, ``experts`` and ``agencies`` stand on
  the kernel and the ledger only;
- another context is used through its package's ``__init__`` only: ``from tendering.bids
  import lot_key`` is fine, ``from tendering.bids.models import Bid``, ``import
  tendering.bids.models``, ``from tendering.bids import service`` (a module) and a name
  missing from the package's ``__all__`` are not;
- only the composition root (``tendering.app``, ``tendering.cli``, ``tendering.runtime``, and
  ``tendering.models``, the all-tables import for Alembic) sees everything.

A lower context that must trigger a higher one announces a hook (``core/hooks.py``) that
``app.register_contexts`` connects. A new package under ``src/`` fails here until it has a
line in ``MAY_IMPORT``.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

KERNEL = ("tendering.core", "tendering.settings", "tendering")

# Context (a package, or a kernel prefix) -> the contexts it may import besides itself.
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "tendering": (),  # the root package: __version__ only
    "tendering.settings": (),
    "tendering.core": KERNEL,
    "tendering.ledger": KERNEL,
    "tendering.tenders": (*KERNEL, "tendering.ledger"),
    "tendering.bids": (*KERNEL, "tendering.ledger", "tendering.tenders"),
    "tendering.opening": (*KERNEL, "tendering.ledger", "tendering.tenders", "tendering.bids"),
    "tendering.evaluation": (
        *KERNEL,
        "tendering.ledger",
        "tendering.tenders",
        "tendering.bids",
        "tendering.opening",
        "experts",
        "agencies",
    ),
    "auction": (*KERNEL, "tendering.ledger"),
    "experts": (*KERNEL, "tendering.ledger"),
    "agencies": (*KERNEL, "tendering.ledger"),
}

# The composition root: may import every module of every context.
COMPOSERS = frozenset({"tendering.app", "tendering.cli", "tendering.runtime", "tendering.models"})

# The top-level packages of the platform (under src/).
PLATFORM = frozenset(name.split(".")[0] for name in MAY_IMPORT)


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.rule}"


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def context_of(module: str) -> str | None:
    """The context a module belongs to: the longest key of ``MAY_IMPORT`` it falls under
    (``tendering`` itself only for the root package)."""
    if module == "tendering":
        return "tendering"
    keys = [k for k in MAY_IMPORT if k != "tendering" and _under(module, k)]
    return max(keys, key=len) if keys else None


def is_module(name: str, src: Path = SRC) -> bool:
    path = src.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(
    module: str, is_package: bool, tree: ast.AST
) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """Every module an import statement brings in, with its line and the names taken from
    it: ``from a import b, c`` gives ``a`` with ``(b, c)``, and ``a.b`` too when ``b`` is a
    module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            yield node.lineno, base, tuple(a.name for a in node.names)
            for alias in node.names:
                if is_module(f"{base}.{alias.name}"):
                    yield node.lineno, f"{base}.{alias.name}", ()


@functools.cache
def exported(package: str, src: Path = SRC) -> frozenset[str]:
    """The names in the package's ``__all__`` (a literal list in its ``__init__.py``)."""
    init = src.joinpath(*package.split("."), "__init__.py")
    if not init.is_file():
        return frozenset()
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def violations(module: str, source: str, *, is_package: bool = False) -> list[Violation]:
    """What ``source``, the text of ``module``, imports against the rules."""
    tree = ast.parse(source)
    own = context_of(module)
    found: list[Violation] = []
    for line, imported, names in _imports(module, is_package, tree):
        target = context_of(imported)
        if module in COMPOSERS or (target is None and imported.split(".")[0] not in PLATFORM):
            continue  # the composition root, or a module outside the platform
        if target is None:
            found.append(Violation(module, line, imported, "only the composition root sees it"))
        elif target == own:
            continue
        elif own is None:
            found.append(Violation(module, line, imported, "the module has no rule"))
        elif target not in MAY_IMPORT[own]:
            found.append(Violation(module, line, imported, f"{own} may not import {target}"))
        elif target in KERNEL:
            continue  # the kernel's modules are its public surface
        elif imported != target:
            found.append(
                Violation(module, line, imported, f"use the package {target}, not its modules")
            )
        elif hidden := sorted(set(names) - exported(target)):
            found.append(Violation(module, line, imported, f"{hidden} not in {target}.__all__"))
    return found


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def test_every_package_under_src_has_a_rule():
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    contexts = {p.name for p in (SRC / "tendering").iterdir() if (p / "__init__.py").is_file()}
    named = {f"tendering.{c}" for c in contexts} | packages
    missing = sorted(n for n in named if n not in MAY_IMPORT)
    assert not missing, f"add these packages to MAY_IMPORT: {missing}"
    for module, _ in _modules():
        assert module in COMPOSERS or context_of(module) is not None, module


def test_imports_run_one_way_through_each_contexts_package():
    found = [
        str(v)
        for module, path in _modules()
        for v in violations(module, path.read_text(), is_package=path.name == "__init__.py")
    ]
    assert not found, "imports that break the context boundaries:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("tendering.opening.opener", "from tendering.bids.models import Bid"),
        ("tendering.opening.opener", "import tendering.bids.models"),
        ("tendering.opening.opener", "from tendering.bids import service"),
        ("tendering.opening.opener", "def f():\n    from tendering.bids.evidence import Evidence"),
        ("tendering.tenders.service", "from tendering.opening import hold_key_ceremonies"),
        ("tendering.bids.service", "from tendering.opening.ceremony import lot_key"),
        ("tendering.ledger.service", "from tendering.tenders import lot_view"),
        ("tendering.core.runtime", "from tendering.app import create_app"),
        ("tendering.core.runtime", "from tendering import app"),
        ("tendering.tenders.service", "from tendering.runtime import serve"),
        ("tendering.core.deps", "from tendering.ledger import get_deposit"),
        ("tendering.settings", "from tendering.core.db import metadata"),
        ("auction.service", "from tendering.tenders import lot_view"),
        ("auction.service", "from tendering.ledger.postings import post"),
        ("experts.draws", "from auction import place_bid"),
        ("tendering.bids.routes", "from tendering.tenders.schemas import PathCode"),
        ("tendering.opening.opener", "from ..bids.models import Bid"),
        ("tendering.opening.opener", "from tendering.bids import upload"),
        ("tendering.opening.opener", "from tendering.bids import DEFAULT_MAX_BID_BYTES"),
        ("tendering.opening.opener", "from tendering.bids import *"),
    ],
)
def test_a_forbidden_import_is_caught(module: str, source: str):
    assert violations(module, source), f"{module}: {source!r} should break the rules"


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("tendering.opening.opener", "from tendering.bids import StoredBid, current_bids"),
        ("tendering.opening.ceremony", "from tendering.tenders import LotsPublished, lot_view"),
        ("tendering.bids.service", "from tendering.ledger import deposit_status"),
        ("tendering.bids.routes", "from tendering.core.params import PathCode"),
        ("tendering.tenders.service", "from tendering.tenders.models import Lot"),
        ("tendering.tenders.service", "from .models import Lot"),
        ("tendering.core.deps", "from tendering.settings import Settings"),
        ("tendering.core.audit.cli", "from tendering.core.auth import models"),
        ("tendering.app", "from tendering.opening.runner import start_runner"),
        ("tendering.runtime", "from tendering.app import create_app"),
        ("auction.service", "from tendering.ledger import open_deposit_account"),
        ("auction.service", "from tendering.core.audit import record"),
        ("auction.service", "from auction.models import Auction"),
        ("tendering.bids.service", "import asyncio\nfrom sqlalchemy import select"),
        ("tendering.ledger.service", "from tendering import __version__"),
    ],
)
def test_an_allowed_import_passes(module: str, source: str):
    assert violations(module, source) == []
