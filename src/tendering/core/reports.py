"""Reports as PDF and CSV, the same way for every context (ledger statements, opening
records, draw transcripts ...): a context gathers a :class:`Report`, this module renders it.

    pdf_bytes, csv_text = render_pdf(report), render_csv(report)

PDFs embed a subset of a CJK **TrueType** font so they read the same in every viewer. The
font is ``TENDERING_CJK_FONT`` (a .ttf/.ttc path, read and checked by ``tendering.settings``
and handed here once at start-up by :func:`use_font`), else the first found of WenQuanYi Micro
Hei (Debian ``fonts-wqy-microhei``), AR PL UKai/UMing, Droid Sans Fallback, else the GB 2312
cut of WenQuanYi Micro Hei shipped in ``core/fonts`` (so a machine with only Python renders
Chinese too). ReportLab cannot embed CFF-based OpenType (Noto CJK .otf/.ttc), so those are
not used.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from tendering.core import csvfile

__all__ = ["BUNDLED_FONT", "Report", "find_cjk_font", "render_csv", "render_pdf", "use_font"]

BUNDLED_FONT = Path(__file__).parent / "fonts" / "wqy-microhei-gb2312.ttf"

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


@dataclass(frozen=True, kw_only=True)
class Report:
    title: str
    facts: list[tuple[str, str]]  # (label, value) shown above the table
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    filename: str = "report"
    notes: list[str] = field(default_factory=list)  # paragraphs below the table, wrapped


def render_csv(report: Report) -> str:
    """UTF-8 CSV with a BOM (Excel opens it as UTF-8): the facts, a blank row, the table."""
    out = io.StringIO()
    writer = csvfile.writer(out)
    writer.writerow([report.title])
    writer.writerows([label, value] for label, value in report.facts)
    writer.writerow([])
    writer.writerow(report.columns)
    writer.writerows(report.rows)
    if report.notes:
        writer.writerow([])
        writer.writerows([note] for note in report.notes)
    return "\ufeff" + out.getvalue()


# The configured font of this process. ReportLab registers fonts process-wide anyway, so the
# choice is process-wide too: set once from the settings when the platform's parts are built.
_configured: list[Path] = []


def use_font(path: Path | None) -> None:
    """Make ``path`` (``Settings.cjk_font``, already checked) the font PDFs embed."""
    if _configured == ([path] if path else []):
        return
    _configured[:] = [path] if path else []
    _font_name.cache_clear()


def find_cjk_font(configured: Path | None = None) -> Path:
    """The font PDFs embed: the configured one, a full system one, else the bundled cut."""
    given = configured or (_configured[0] if _configured else None)
    if given is not None:
        if not given.is_file():  # checked at start-up; this catches a file removed since
            raise RuntimeError(f"TENDERING_CJK_FONT={str(given)!r} is not a file")
        return given
    for candidate in (*FONT_CANDIDATES, str(BUNDLED_FONT)):
        if Path(candidate).is_file():
            return Path(candidate)
    raise RuntimeError(f"the bundled CJK font {BUNDLED_FONT} is missing; reinstall tendering")


@cache
def _font_name() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = find_cjk_font()
    pdfmetrics.registerFont(TTFont("CJK", str(path), subfontIndex=0))
    return "CJK"


def render_pdf(report: Report) -> bytes:
    """An A4 PDF with the CJK font embedded as a subset."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font_name()
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, alignment=1)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=report.title,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    facts = Table([[k, v] for k, v in report.facts], colWidths=[50 * mm, 125 * mm])
    facts.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, 9)]))
    data = [report.columns, *report.rows] if report.rows else [report.columns, ["(无 none)"]]
    table = Table(data, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 8),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    doc.build(
        [
            Paragraph(report.title, title),
            Spacer(1, 4 * mm),
            facts,
            Spacer(1, 6 * mm),
            table,
            Spacer(1, 4 * mm),
            *(Paragraph(escape(note), body) for note in report.notes),
            Spacer(1, 4 * mm),
            Paragraph("本报表由公共资源交易平台生成 Generated by the trading platform.", body),
        ]
    )
    return out.getvalue()
