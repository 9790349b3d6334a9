"""Rich text as the page editor stores it.

The admin's rich text editor (Draftail) stores HTML through Wagtail's contentstate converter:
only the field's features, each block with its ``data-block-key``. Rich text written by code (the
demo, bundle imports) goes through the same conversion, so the stored value is exactly what the
editor would store: opening and saving an untouched page changes nothing in it.
"""

from __future__ import annotations

from wagtail.admin.rich_text.converters.contentstate import ContentstateConverter
from wagtail.rich_text import features as rich_text_features


def rich_text_as_editor_stores(html: str, features: list[str] | None = None) -> str:
    """``html`` converted as the editor converts what it saves (``features``: the field's, or
    the default features). Empty stays empty."""
    if not html or not html.strip():
        return ""
    converter = ContentstateConverter(features or rich_text_features.get_default_features())
    return converter.to_database_format(converter.from_database_format(html))
