"""XLIFF 1.2 and 2.0 for translation agencies, through translate-toolkit (no hand-written XML).

A translation's strings are those of wagtail-localize's PO export: one unit per string segment,
keyed by its context (the field/block path of ``TranslationContext``) and its source text. The
unit id is the context path (``#2``, ``#3``… when one context holds several strings, e.g. the
sentences of a rich text block); importing builds the same PO entries (context, source,
target) and hands them to wagtail-localize's own ``Translation.import_po``, so an XLIFF round
trip is exactly a PO round trip: an unchanged file changes nothing, an edited target updates
that ``StringTranslation`` only, blank targets are ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import polib
from translate.storage import xliff as xliff1
from translate.storage import xliff2

if TYPE_CHECKING:
    from wagtail_localize.models import Translation

Version = Literal["1.2", "2.0"]
VERSIONS: tuple[Version, ...] = ("1.2", "2.0")
DUPLICATE_MARK = "#"


class XliffError(ValueError):
    """The uploaded file is not an XLIFF file of this translation."""


XLIFF12_NAMESPACE = "urn:oasis:names:tc:xliff:document:1.2"


class Xliff12Unit(xliff1.xliffunit):
    namespace = XLIFF12_NAMESPACE


class Xliff12File(xliff1.xlifffile):
    """translate-toolkit writes XLIFF 1.1 by default and reads 1.1 and 1.2 alike (the unit
    model is the same); this only declares 1.2 in the files it writes."""

    UnitClass = Xliff12Unit
    XMLskeleton = xliff1.xlifffile.XMLskeleton.replace("1.1", "1.2")
    namespace = XLIFF12_NAMESPACE


def _store(version: Version, *, source: str, target: str):  # type: ignore[no-untyped-def]
    if version == "1.2":
        store = Xliff12File(sourcelanguage=source)
        store.settargetlanguage(target)
        return store
    store = xliff2.Xliff2File(sourcelanguage=source)
    store.settargetlanguage(target)
    return store


def xliff_export(translation: Translation, version: Version) -> bytes:
    """The strings of ``translation`` (with their current translations) as XLIFF ``version``."""
    if version not in VERSIONS:
        raise XliffError(f"unsupported XLIFF version {version!r}")
    po = translation.export_po()
    store = _store(
        version,
        source=translation.source.locale.language_code,
        target=translation.target_locale.language_code,
    )
    seen: dict[str, int] = {}
    for entry in po:
        seen[entry.msgctxt] = seen.get(entry.msgctxt, 0) + 1
        unit_id = entry.msgctxt
        if seen[entry.msgctxt] > 1:
            unit_id = f"{entry.msgctxt}{DUPLICATE_MARK}{seen[entry.msgctxt]}"
        unit = store.addsourceunit(entry.msgid)
        unit.setid(unit_id)
        if entry.msgstr:
            unit.target = entry.msgstr
    # The file names the translation it was made for (1.2: <file original>; 2.0: <file id>, an
    # NCName, hence the "t"), so a file uploaded to another translation is refused.
    if version == "1.2":
        store.setfilename(store.getfilenode("NoName"), str(translation.uuid))
    else:
        next(iter(store.document.getroot())).set("id", f"t{translation.uuid}")
    return bytes(store)


def _parse(data: bytes) -> tuple[Version, object]:
    head = data[:2000]
    if b"urn:oasis:names:tc:xliff:document:2." in head or b'version="2.' in head:
        return "2.0", xliff2.Xliff2File.parsestring(data)
    return "1.2", xliff1.xlifffile.parsestring(data)


def xliff_to_po(translation: Translation, data: bytes) -> polib.POFile:
    """Read an XLIFF 1.x/2.0 file of ``translation`` into PO entries for ``import_po``.

    Raises:
        XliffError: not XLIFF, or made for another translation.
    """
    try:
        version, store = _parse(data)
    except Exception as error:  # noqa: BLE001 - any parser failure means "not XLIFF"
        raise XliffError(str(error)) from error
    root = store.document.getroot()  # type: ignore[attr-defined]
    file_node = next(iter(root), None)
    if version == "2.0":
        origin = (file_node.get("id") or "") if file_node is not None else ""
        expected = f"t{translation.uuid}"
    else:
        origin = (file_node.get("original") or "") if file_node is not None else ""
        expected = str(translation.uuid)
    if origin != expected:
        raise XliffError("this file was exported for another translation")
    po = polib.POFile(wrapwidth=200)
    for unit in store.units:  # type: ignore[attr-defined]
        if hasattr(unit, "isheader") and unit.isheader():
            continue
        unit_id = unit.getid() or ""
        unit_id = unit_id.rsplit("\x04", 1)[-1]  # 1.x ids are "<file original>\x04<id>"
        context = unit_id.split(DUPLICATE_MARK, 1)[0]
        target = unit.target or ""
        if not context or not target:
            continue
        po.append(polib.POEntry(msgctxt=context, msgid=str(unit.source), msgstr=str(target)))
    return po
