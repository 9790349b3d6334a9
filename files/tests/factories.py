"""Files for tests: real bytes (uploads are parsed by files.validation, so fakes are refused)."""

from __future__ import annotations


def make_pdf_bytes(text: str = "test") -> bytes:
    """A small, real one-page PDF (uploads are parsed by files.validation, so fakes are refused)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
