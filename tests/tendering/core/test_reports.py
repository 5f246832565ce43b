from __future__ import annotations

import io

import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from tendering.core import reports
from tendering.core.reports import BUNDLED_FONT, Report, find_cjk_font, render_csv, render_pdf
from tests.pdf import pdf_text


def test_the_bundled_font_is_the_last_resort(monkeypatch):
    monkeypatch.setattr(reports, "FONT_CANDIDATES", ("/nonexistent/font.ttc",))
    monkeypatch.setattr(reports, "_configured", [])
    assert find_cjk_font() == BUNDLED_FONT


def test_the_configured_font_comes_first(monkeypatch, tmp_path):
    font = tmp_path / "kai.ttf"
    font.write_bytes(BUNDLED_FONT.read_bytes())
    monkeypatch.setattr(reports, "_configured", [])
    reports.use_font(font)
    assert find_cjk_font() == font
    reports.use_font(None)
    assert find_cjk_font() != font


def test_a_configured_font_removed_since_start_up_is_named(tmp_path):
    gone = tmp_path / "kai.ttf"
    with pytest.raises(RuntimeError, match=r"kai\.ttf"):
        find_cjk_font(gone)


def test_the_bundled_font_writes_chinese_a_viewer_can_read():
    pdfmetrics.registerFont(TTFont("BundledCJK", str(BUNDLED_FONT)))
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.setFont("BundledCJK", 16)
    page.drawString(72, 720, "某某县公共资源交易中心 开标记录表 ￥1,234.00")
    page.save()
    assert b"/FontFile2" in out.getvalue()  # embedded as a TrueType subset
    assert "某某县公共资源交易中心 开标记录表" in pdf_text(out.getvalue())


def test_a_report_renders_as_pdf_and_as_csv_with_a_bom():
    report = Report(
        title="投标保证金对账单",
        facts=[("子账号 Account", "8866 0000 0000 0001")],
        columns=["日期", "摘要", "金额"],
        rows=[["2026-11-24", "保证金到账", "50000.00"]],
    )
    assert "投标保证金对账单" in pdf_text(render_pdf(report))
    csv_text = render_csv(report)
    assert csv_text.startswith("\ufeff投标保证金对账单")
    assert "保证金到账,50000.00" in csv_text
