"""Reading a partner bundle: its JSON text, typed reads of its entries, and its files.

A bundle (docs/bundle-format.md) is one JSON document. ``bundle_parse`` turns the text into
Python values; an ``Entry`` reads one JSON object of it field by field, each read failing with
the entry's label and the field's name (``items[3] (key "x1-sheet"): title: must not be empty``);
``file_name`` and ``file_content`` read a file of an item (its name and its base64 content).
What the values must mean (references, ranks, cycles, file types) is imports.validation's part.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings

SECTIONS = ("tiers", "regions", "partner_types", "organizations", "users", "items")

# Same rule as permissions.models.key_validator (tiers, regions, types, organisations).
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Item keys are external identifiers (ItemKey.key): a little more permissive, still URL-safe.
ITEM_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# More than this and a message stops being readable; the first problems are the useful ones.
MAX_REPORTED_ERRORS = 50


class BundleError(Exception):
    """A bundle that cannot be imported. Each message names the entry and the reason, e.g.
    ``items[3] (key "x1-sheet"): audience.min_tier: unknown tier "goldd"``."""

    def __init__(self, errors: str | Iterable[str]):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        shown = self.errors[:MAX_REPORTED_ERRORS]
        lines = shown if len(self.errors) == 1 else [f"{len(self.errors)} problems:", *shown]
        if len(self.errors) > len(shown):
            lines.append(f"... and {len(self.errors) - len(shown)} more")
        super().__init__("\n".join(lines))


class Invalid(Exception):
    """The first problem of one entry; the validator collects these into one BundleError."""


# --- JSON -----------------------------------------------------------------------------------


def _reject_duplicate_fields(pairs: list[tuple[str, Any]]) -> dict:
    # json.loads silently keeps the last of two equal keys; in a hand-edited bundle that is
    # almost always a mistake that would otherwise import the wrong value.
    result: dict = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f'duplicate field "{name}" in one JSON object')
        result[name] = value
    return result


def bundle_parse(text: str) -> Any:
    """Parse a bundle's JSON text (the shape is checked by ``bundle_validate``).

    Raises:
        BundleError: the text is not JSON, or an object repeats a field.
    """
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_fields)
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"bundle: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except ValueError as exc:
        raise BundleError(f"bundle: {exc}") from exc


# --- entries --------------------------------------------------------------------------------


class Entry:
    """One JSON object of the bundle with its label, for typed reads that fail with context."""

    def __init__(self, label: str, data: Any, *, required: Iterable[str], optional: Iterable[str]):
        self.label = label
        if not isinstance(data, dict):
            raise Invalid(f"{label}: must be a JSON object, not {json_type(data)}")
        self.data = data
        required, optional = tuple(required), tuple(optional)
        allowed = set(required) | set(optional)
        for name in data:
            if name not in allowed:
                raise Invalid(
                    f'{label}: unknown field "{name}" (allowed: {", ".join(sorted(allowed))})'
                )
        for name in required:
            if name not in data:
                raise Invalid(f'{label}: missing field "{name}"')

    def fail(self, name: str | None, message: str) -> Invalid:
        return Invalid(f"{self.label}: {name}: {message}" if name else f"{self.label}: {message}")

    def has(self, name: str) -> bool:
        return name in self.data

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        default: str | None = None,
        blank: bool = False,
        max_length: int | None = None,
    ) -> Any:
        """A string field; absent or null gives ``default`` unless ``required``."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "must not be null")
            return default
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string, not {json_type(value)}")
        if not blank and not value.strip():
            raise self.fail(name, "must not be empty")
        if max_length is not None and len(value) > max_length:
            raise self.fail(name, f"is longer than {max_length} characters")
        return value

    def key(self, name: str, *, pattern: re.Pattern = KEY_RE, max_length: int = 50) -> str:
        value = self.text(name, required=True, max_length=max_length)
        if not pattern.match(value):
            allowed = (
                "lower-case letters, digits, - and _"
                if pattern is KEY_RE
                else "letters, digits, ., - and _"
            )
            raise self.fail(name, f'"{value}" is not a valid key ({allowed}, no leading symbol)')
        return value

    def choice(
        self, name: str, choices: Iterable[str], *, required: bool = False, default: Any = None
    ) -> Any:
        value = self.text(name, required=required, default=default)
        choices = list(choices)
        if value is not None and value not in choices:
            raise self.fail(name, f'"{value}" is not one of {", ".join(choices)}')
        return value

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(name, f"must be true or false, not {json_type(value)}")
        return value

    def key_list(self, name: str) -> list[str]:
        """A list of keys; null or absent is the empty list. Repeats are dropped."""
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(name, f"must be a list, not {json_type(value)}")
        for i, element in enumerate(value):
            if not isinstance(element, str):
                raise self.fail(f"{name}[{i}]", f"must be a string, not {json_type(element)}")
        return list(dict.fromkeys(value))


def json_type(value: Any) -> str:
    """How a message names a JSON value's type ("a string", "null", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def entry_label(section: str, index: int, data: Any, id_field: str = "key") -> str:
    """``items[3] (key "x1-sheet")``: where an entry is, and its identifier when it has one."""
    ident = data.get(id_field) if isinstance(data, dict) else None
    suffix = f' ({id_field} "{ident}")' if isinstance(ident, str) else ""
    return f"{section}[{index}]{suffix}"


def file_name(entry: Entry) -> str:
    """The ``name`` of a file entry: a plain file name of an allowed document type."""
    name = entry.text("name", required=True, max_length=100)
    # The name becomes part of a storage path: anything that could leave documents/ (or hide a
    # second extension behind a control character) is refused rather than "cleaned".
    if "/" in name or "\\" in name or ".." in name or name.strip(". ") == "":
        raise entry.fail("name", f'"{name}" must be a plain file name (no / \\ or ..)')
    if any(ord(ch) < 32 for ch in name):
        raise entry.fail("name", "must not contain control characters")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = [ext.lower() for ext in getattr(settings, "WAGTAILDOCS_EXTENSIONS", None) or []]
    if allowed and extension not in allowed:
        raise entry.fail("name", f'"{name}": file type not allowed (allowed: {", ".join(allowed)})')
    return name


def file_content(entry: Entry) -> bytes:
    """The decoded ``content_base64`` of a file entry (never empty)."""
    encoded = entry.text("content_base64", required=True, blank=True)
    try:
        # validate=True: a stray character is a damaged bundle, not something to skip.
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise entry.fail("content_base64", f"is not valid base64 ({exc})") from exc
    if not content:
        raise entry.fail("content_base64", "is empty")
    return content
