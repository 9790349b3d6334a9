"""Items for tests, made and published through the same service the admin and imports use."""

from __future__ import annotations

from kb.services import Audience, item_upsert, library_for_locale


def make_item(
    *,
    key: str,
    kind: str = "product_sheet",
    title: str | None = None,
    parent=None,
    audience: Audience | None = None,
    **kwargs,
):
    """Create and publish an item through the same service the admin and imports use."""
    return item_upsert(
        key=key,
        kind=kind,
        title=title or key.replace("-", " ").title(),
        parent=parent or library_for_locale("en"),
        audience=audience,
        **kwargs,
    )
