"""URL converters of the portal's own routes."""

from __future__ import annotations

from django.urls import register_converter


class IdConverter:
    """A database id: 1 to 18 digits, so it always fits a 64-bit integer column.

    Django's ``int`` converter matches any number of digits; an id beyond 2**63 - 1 then reached
    a foreign-key lookup (``CobrandRender.item_id``, ``PortalItemPage.page_ptr``), which SQLite
    refuses with OverflowError and PostgreSQL with "bigint out of range": a 500 from a URL.
    Such a URL now simply does not match (404)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


# Registered once, on import: every urls module that uses <id:...> imports this module.
register_converter(IdConverter, "id")
