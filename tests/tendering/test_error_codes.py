"""docs/errors.md lists every ErrorCode with the status it answers and what it means; this
keeps the enum, the doc and the code that raises them in agreement.

The status of a code is read from the source: the class each ``code=ErrorCode.X`` is raised
with (``Conflict(..., code=ErrorCode.TENDER_LOT_BUSY)`` is 409), a class's ``default_code``,
and the middleware's ``TokenProblem(ErrorCode.X, ..., status=)``. A code raised with several
statuses lists them all (``404, 409``). A code raised nowhere by name (Litestar's own HTTP
errors say ``any``; a code picked from a table at run time) is not checked here: its status
is the doc's word."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections import defaultdict
from pathlib import Path

from tendering.core.errors import ErrorCode, PlatformError

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "errors.md"
ROW = re.compile(
    r"^\| `(?P<code>[a-z_.]+)` \| (?P<status>\d{3}(?:, \d{3})*|any) \| (?P<meaning>.+) \|$"
)


def documented() -> list[tuple[str, str, str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if found := ROW.match(line):
            rows.append((found["code"], found["status"], found["meaning"].strip()))
    return rows


def _import_every_module() -> set[str]:
    """Imports every module of every package under src/ (``tendering`` and the top-level
    contexts beside it: experts, agencies, auction ...), each context's own error classes
    with them; their names."""
    names: set[str] = set()
    for top in pkgutil.iter_modules([str(SRC)]):
        if not top.ispkg:
            continue
        package = importlib.import_module(top.name)
        names.add(top.name)
        for module in pkgutil.walk_packages(package.__path__, f"{top.name}."):
            importlib.import_module(module.name)
            names.add(module.name)
    return names


def _error_classes() -> dict[str, type[PlatformError]]:
    _import_every_module()
    found: dict[str, type[PlatformError]] = {}
    todo: list[type[PlatformError]] = [PlatformError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo += cls.__subclasses__()
    return found


def _code_of(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "ErrorCode"
    ):
        return node.attr
    return None


def raised_statuses() -> dict[str, set[int]]:
    """Each ErrorCode member's name -> the statuses the source raises it with."""
    classes = _error_classes()
    statuses: dict[str, set[int]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name in classes:
                for statement in node.body:
                    targets = (
                        statement.targets
                        if isinstance(statement, ast.Assign)
                        else [statement.target]
                        if isinstance(statement, ast.AnnAssign)
                        else []
                    )
                    value = getattr(statement, "value", None)
                    named = any(isinstance(t, ast.Name) and t.id == "default_code" for t in targets)
                    if named and value is not None and (code := _code_of(value)):
                        statuses[code].add(classes[node.name].status)
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "TokenProblem" and node.args and (code := _code_of(node.args[0])):
                status = next(
                    (k.value for k in node.keywords if k.arg == "status"), ast.Constant(401)
                )
                statuses[code].add(status.value if isinstance(status, ast.Constant) else 0)
            elif name in classes:
                for keyword in node.keywords:
                    if keyword.arg == "code" and (code := _code_of(keyword.value)):
                        statuses[code].add(classes[name].status)
    return statuses


def _statuses(found: set[int]) -> str:
    return ", ".join(str(s) for s in sorted(found)) if found else "any"


def _row(member: ErrorCode, raised: dict[str, set[int]]) -> str:
    status = _statuses(raised.get(member.name, set()))
    return f"| `{member.value}` | {status} | what it means, in a few words |"


def test_the_doc_lists_every_code_once_and_no_other():
    codes = [code for code, _, _ in documented()]
    assert len(codes) == len(set(codes)), "a code is listed twice in docs/errors.md"
    assert sorted(set(codes) - {c.value for c in ErrorCode}) == [], "not in ErrorCode"
    missing = [member for member in ErrorCode if member.value not in codes]
    if missing:  # the rows to add, their status read from the source
        raised = raised_statuses()
        rows = "\n".join(_row(member, raised) for member in missing)
        raise AssertionError(f"docs/errors.md lacks these codes; add their rows:\n{rows}")
    assert all(meaning for _, _, meaning in documented())


def test_the_doc_gives_the_status_each_code_is_raised_with():
    raised = raised_statuses()
    doc = {code: status for code, status, _ in documented()}
    wrong = []
    for member in ErrorCode:
        found = raised.get(member.name, set())
        if not found:
            continue  # not raised by name: nothing here to check the doc against
        expected = _statuses(found)
        if doc.get(member.value) != expected:
            wrong.append((member.value, doc.get(member.value), expected))
    assert wrong == [], "docs/errors.md: (code, documented status, raised status)"


def test_the_codes_are_read_from_every_package_under_src():
    """A context beside ``tendering`` (src/experts, src/agencies ...) raises its codes with
    its own error classes: they are known only if its modules are imported."""
    modules = {
        ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for path in SRC.rglob("*.py")
    }
    assert {"tendering", "experts", "agencies"} <= {m.split(".")[0] for m in modules}
    assert sorted(modules - _import_every_module()) == []
