"""Reading the platform's PDFs in tests the way a viewer does, with PDFium (pypdfium2):
no system tools needed, so the suite runs on a machine with only Python."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium


def pdf_text(pdf: bytes) -> str:
    """The text of every page, as a viewer would extract it."""
    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def render_first_page(pdf: bytes, path: Path, *, scale: float = 1.0) -> Path:
    """Render page 1 to a PNG at ``path``."""
    document = pdfium.PdfDocument(pdf)
    try:
        document[0].render(scale=scale).to_pil().save(path)
    finally:
        document.close()
    return path


def dark_pixels(png: Path) -> int:
    """How many pixels are darker than mid-grey: ink on the page."""
    from PIL import Image

    with Image.open(png) as image:
        histogram = image.convert("L").histogram()
    return sum(histogram[:128])
