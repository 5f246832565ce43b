from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest

from tendering.core import csvfile
from tendering.core.reports import Report, render_csv

SRC = Path(__file__).resolve().parents[3] / "src"


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example","点击")', '\'=HYPERLINK("http://evil.example","点击")'),
        ("+86 139", "'+86 139"),
        ("-2+3", "'-2+3"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("-1e3", "'-1e3"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_shown_as_text(cell, shown):
    assert csvfile.escape(cell) == shown


@pytest.mark.parametrize("cell", ["-12.50", "-3", "12.50", "某某公司", "", "a=b", "0-1"])
def test_plain_values_and_negative_numbers_stay_as_they_are(cell):
    assert csvfile.escape(cell) == cell


def test_non_strings_are_written_unchanged():
    out = io.StringIO()
    csvfile.writer(out).writerow([1, -2, None, "=x"])
    assert out.getvalue() == "1,-2,,'=x\r\n"


def test_dict_writer_escapes_values_but_keeps_negative_amounts():
    out = io.StringIO()
    rows = csvfile.dict_writer(out, ["name", "amount"])
    rows.writeheader()
    rows.writerow({"name": "@evil", "amount": "-100.00"})
    assert list(csv.DictReader(io.StringIO(out.getvalue()))) == [
        {"name": "'@evil", "amount": "-100.00"}
    ]


def test_reports_escape_facts_cells_and_notes():
    report = Report(
        title="=报告",
        facts=[("+label", "-1.5")],
        columns=["@col"],
        rows=[["=cmd", "-7"]],
        notes=["\tnote"],
    )
    text = render_csv(report).lstrip("\ufeff")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert cells == ["'=报告", "'+label", "-1.5", "'@col", "'=cmd", "-7", "'\tnote"]


def test_every_csv_the_platform_writes_goes_through_csvfile():
    """``csv.writer``/``csv.DictWriter`` used anywhere else would write unescaped cells."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path == SRC / "tendering" / "core" / "csvfile.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"writer", "DictWriter"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
            ):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []
