"""Per-download identifiers written into a finished render's metadata, without re-encoding.

* PNG: a ``tEXt`` chunk ``PortalCobrandId`` (with its CRC) just before the first ``IDAT``;
* JPEG: a ``COM`` segment ``PortalCobrandId:<token>`` after the leading APPn segments
  (JFIF/EXIF stay first), the entropy-coded data untouched;
* PDF: an incremental update (the original bytes are a prefix of the result) setting
  ``/PortalCobrandId`` in the document information dictionary and in an XMP packet
  (``portal:CobrandId``), kept alongside an existing XMP packet's content.

Stamping a stamped file replaces the identifier (images) or appends a newer update (PDF);
``read_stamp`` returns the newest. The token is opaque (letters, digits, ``-_.~``): never
personal data, since the file is handed on to customers.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Any, cast

from .errors import CobrandError, MasterError

STAMP_KEY = "PortalCobrandId"
XMP_NAMESPACE = "https://schemas.partner-portal.example/cobrand/1.0/"
_TOKEN = re.compile(r"^[A-Za-z0-9._~-]{1,200}$")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_PREFIX = STAMP_KEY.encode() + b":"
_XMP_DESCRIPTION = re.compile(
    rb"<rdf:Description[^>]*?xmlns:portal=\"" + re.escape(XMP_NAMESPACE.encode()) + rb"\".*?"
    rb"</rdf:Description>\s*",
    re.DOTALL,
)
_XMP_VALUE = re.compile(rb"<portal:CobrandId>([A-Za-z0-9._~-]{1,200})</portal:CobrandId>")


def _check_token(token: str) -> bytes:
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise CobrandError("A stamp token is 1–200 letters, digits or -_.~ characters.")
    return token.encode("ascii")


def sniff(content: bytes) -> str | None:
    """The media type of ``content`` from its magic bytes (PNG, JPEG, PDF), else None."""
    if content.startswith(_PNG_SIGNATURE):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if b"%PDF-" in content[:1024]:
        return "application/pdf"
    return None


# --- PNG ----------------------------------------------------------------------------------------


def _png_chunks(content: bytes):
    """(type, start, end, data start, data end) of each chunk; ``MasterError`` if malformed."""
    position = len(_PNG_SIGNATURE)
    total = len(content)
    while position + 12 <= total:
        (length,) = struct.unpack_from(">I", content, position)
        kind = content[position + 4 : position + 8]
        end = position + 12 + length
        if end > total:
            break
        yield kind, position, end, position + 8, position + 8 + length
        position = end
        if kind == b"IEND":
            return
    raise MasterError("The PNG file is truncated (no IEND chunk).")


def _png_text(data: bytes) -> tuple[bytes, bytes] | None:
    key, sep, value = data.partition(b"\x00")
    return (key, value) if sep else None


def _stamp_png(content: bytes, token: bytes) -> bytes:
    parts: list[memoryview] = []
    view = memoryview(content)
    kept_from = 0
    inserted = False
    for kind, start, end, data_start, data_end in _png_chunks(content):
        is_ours = kind in (b"tEXt", b"iTXt") and (
            (_png_text(content[data_start:data_end]) or (b"",))[0] == STAMP_KEY.encode()
        )
        if is_ours:
            parts.append(view[kept_from:start])
            kept_from = end
        elif kind in (b"IDAT", b"IEND") and not inserted:
            # Before the image data: tools that read the header chunks only see it too.
            parts.append(view[kept_from:start])
            kept_from = start
            inserted = True
            data = STAMP_KEY.encode() + b"\x00" + token
            chunk = b"tEXt" + data
            parts.append(
                memoryview(
                    struct.pack(">I", len(data)) + chunk + struct.pack(">I", zlib.crc32(chunk))
                )
            )
        if kind == b"IEND":
            parts.append(view[kept_from:])
            return b"".join(parts)
    raise MasterError("The PNG file is truncated (no IEND chunk).")  # pragma: no cover


def _read_png(content: bytes) -> str | None:
    found = None
    for kind, _, _, data_start, data_end in _png_chunks(content):
        if kind == b"tEXt":
            pair = _png_text(content[data_start:data_end])
            if pair and pair[0] == STAMP_KEY.encode():
                found = pair[1]
        elif kind == b"iTXt":  # key\0 flag method lang\0 translated\0 text (uncompressed)
            pair = _png_text(content[data_start:data_end])
            if pair and pair[0] == STAMP_KEY.encode() and pair[1][:1] == b"\x00":
                found = pair[1][2:].split(b"\x00", 2)[-1]
    return _decoded(found)


def _decoded(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if _TOKEN.match(text) else None


# --- JPEG --------------------------------------------------------------------------------------


def _jpeg_segments(content: bytes):
    """(marker, start, end) of the segments between SOI and SOS; then ("SOS", start, len)."""
    position = 2
    total = len(content)
    while position + 4 <= total:
        if content[position] != 0xFF:
            raise MasterError("The JPEG file is malformed (a segment without a marker).")
        marker = content[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # SOS / EOI: the rest is image data
            yield "SOS", position, total
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            yield marker, position, position + 2
            position += 2
            continue
        (length,) = struct.unpack_from(">H", content, position + 2)
        end = position + 2 + length
        if length < 2 or end > total:
            raise MasterError("The JPEG file is malformed (a segment runs past the end).")
        yield marker, position, end
        position = end
    raise MasterError("The JPEG file is truncated (no image data).")


def _stamp_jpeg(content: bytes, token: bytes) -> bytes:
    view = memoryview(content)
    payload = _JPEG_PREFIX + token
    segment = b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload
    parts: list = [view[:2]]
    inserted = False
    for marker, start, end in _jpeg_segments(content):
        if marker == "SOS":
            if not inserted:
                parts.append(segment)
            parts.append(view[start:end])
            return b"".join(parts)
        if marker == 0xFE and content[start + 4 : end].startswith(_JPEG_PREFIX):
            continue  # an older stamp: replaced
        if not inserted and not (0xE0 <= marker <= 0xEF):
            parts.append(segment)
            inserted = True
        parts.append(view[start:end])
    raise MasterError("The JPEG file is truncated (no image data).")  # pragma: no cover


def _read_jpeg(content: bytes) -> str | None:
    found = None
    for marker, start, end in _jpeg_segments(content):
        if marker == 0xFE and content[start + 4 : end].startswith(_JPEG_PREFIX):
            found = content[start + 4 + len(_JPEG_PREFIX) : end]
    return _decoded(found)


# --- PDF ----------------------------------------------------------------------------------------


def _xmp_packet(token: bytes, existing: bytes | None) -> bytes:
    description = (
        b'<rdf:Description rdf:about="" xmlns:portal="' + XMP_NAMESPACE.encode() + b'">'
        b"<portal:CobrandId>" + token + b"</portal:CobrandId></rdf:Description>\n"
    )
    if existing and b"</rdf:RDF>" in existing:
        kept = _XMP_DESCRIPTION.sub(b"", existing)
        head, _, tail = kept.rpartition(b"</rdf:RDF>")
        return head + description + b"</rdf:RDF>" + tail
    return (
        b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        + description
        + b"</rdf:RDF>\n</x:xmpmeta>\n"
        + b'<?xpacket end="w"?>'
    )


@dataclass(frozen=True)
class _PdfPrelude:
    """What a stamp of one PDF needs from its structure, serialised: the stamp itself then
    only formats bytes."""

    prev: int  # the original's last xref offset (the update's /Prev)
    objects: tuple[tuple[int, bytes], ...]  # (id, serialised body) with the token placeholder
    metadata_id: int
    existing_xmp: bytes | None
    trailer: bytes  # "/Size … /Root … /Info … /ID …" (without /Prev)
    size: int
    xref_stream: bool


_PLACEHOLDER = b"PortalCobrandTokenPlaceholder0"


def _serialised(obj) -> bytes:
    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SUBSECTION = re.compile(rb"\s*(\d+) (\d+)\s*\r?\n")
_OBJ = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\b")


def _pdf_prelude(content: bytes) -> _PdfPrelude:
    # The direct read of the last xref table costs about as much as hashing the file would:
    # no cache across downloads, nothing to keep in memory.
    return _fast_prelude(content) or _parse_prelude(content)


class _Unresolved:
    """Stands in for a reader: references parsed by the fast path are written back as they are,
    never resolved (a stream whose /Length is a reference sends the file down the careful
    path)."""

    strict = False

    def get_object(self, reference):
        raise ValueError("not resolved on the fast path")


def _skip_space(content: bytes, position: int) -> int:
    while content[position : position + 1] in (b" ", b"\t", b"\r", b"\n", b"\x0c", b"\x00"):
        position += 1
    return position


def _fast_prelude(content: bytes) -> _PdfPrelude | None:
    """The prelude read straight from the last classic xref table (what pypdf writes, and what
    our stamps add), without parsing the whole document; None when the file is shaped any other
    way (xref streams, objects only in older sections, indirect stream lengths...): then pypdf
    reads it (``_parse_prelude``). Both give the same prelude (tested)."""
    from pypdf.generic import (
        DictionaryObject,
        IndirectObject,
        StreamObject,
        read_object,
    )

    try:
        match = _STARTXREF.search(content[-256:])
        if match is None:
            return None
        prev = int(match.group(1))
        position = _skip_space(content, prev)
        if not content.startswith(b"xref", position):
            return None
        position += 4
        offsets: dict[int, tuple[int, bytes]] = {}
        while True:
            position = _skip_space(content, position)
            if content.startswith(b"trailer", position):
                break
            header = _SUBSECTION.match(content, position)
            if header is None:
                return None
            first, count = int(header.group(1)), int(header.group(2))
            position = header.end()
            for index in range(count):
                entry = content[position : position + 20]
                if len(entry) < 18:
                    return None
                offsets[first + index] = (int(entry[:10]), entry[17:18])
                position += 20
        unresolved = _Unresolved()
        stream = io.BytesIO(content)
        stream.seek(_skip_space(content, position + len(b"trailer")))
        trailer = read_object(stream, cast(Any, unresolved))
        if not isinstance(trailer, DictionaryObject) or "/Encrypt" in trailer:
            return None

        def load(reference):
            if not isinstance(reference, IndirectObject):
                return None
            offset, kind = offsets.get(reference.idnum, (0, b"f"))
            header = _OBJ.match(content, offset) if kind == b"n" else None
            if header is None or int(header.group(1)) != reference.idnum:
                return None
            stream.seek(_skip_space(content, header.end()))
            return read_object(stream, cast(Any, unresolved))

        root_ref = trailer.raw_get("/Root")
        root = load(root_ref)
        if not isinstance(root, DictionaryObject):
            return None
        size = int(cast(Any, trailer["/Size"]))
        info_ref = trailer.raw_get("/Info") if "/Info" in trailer else None
        if info_ref is not None:
            info = load(info_ref)
            if not isinstance(info, DictionaryObject):
                return None
            info, info_id = DictionaryObject(info), info_ref.idnum
        else:
            info, info_id = DictionaryObject(), size
            size += 1
        root = DictionaryObject(root)
        existing = None
        if "/Metadata" in root:
            metadata = load(root.raw_get("/Metadata"))
            if not isinstance(metadata, StreamObject):
                return None
            existing = metadata.get_data()
        return _prelude(
            prev=prev,
            size=size,
            trailer=trailer,
            root_ref=root_ref,
            root=root,
            info=info,
            info_id=info_id,
            existing_xmp=existing,
            xref_stream=False,
        )
    except Exception:  # noqa: BLE001 - any surprise: the careful path decides
        return None


def _prelude(
    *,
    prev: int,
    size: int,
    trailer: Any,
    root_ref: Any,
    root: Any,
    info: Any,
    info_id: int,
    existing_xmp: bytes | None,
    xref_stream: bool,
) -> _PdfPrelude:
    """What both readers (the direct one and pypdf's) found, made into the update's prelude:
    the info dictionary with the stamp's placeholder, the catalog pointing at a new metadata
    object (the old packet kept without our description), and the new trailer."""
    from pypdf.generic import IndirectObject, NameObject, TextStringObject

    info[NameObject("/" + STAMP_KEY)] = TextStringObject(_PLACEHOLDER.decode())
    if existing_xmp is not None:
        existing_xmp = _XMP_DESCRIPTION.sub(b"", existing_xmp)
    metadata_id = size
    size += 1
    root[NameObject("/Metadata")] = IndirectObject(metadata_id, 0, None)
    tail = f"/Size {size} /Root {root_ref.idnum} {root_ref.generation} R /Info {info_id} 0 R"
    trailer_bytes = tail.encode()
    if "/ID" in trailer:
        trailer_bytes += b" /ID " + _serialised(trailer["/ID"])
    return _PdfPrelude(
        prev=prev,
        objects=((root_ref.idnum, _serialised(root)), (info_id, _serialised(info))),
        metadata_id=metadata_id,
        existing_xmp=existing_xmp,
        trailer=trailer_bytes,
        size=size,
        xref_stream=xref_stream,
    )


def _parse_prelude(content: bytes) -> _PdfPrelude:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    from pypdf.generic import DictionaryObject, IndirectObject

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise MasterError("The PDF is encrypted; it cannot be stamped.")
        trailer = reader.trailer
        size = int(cast(Any, trailer["/Size"]))
        prev = int(reader._startxref)
        root_ref = trailer.raw_get("/Root")
        if not isinstance(root_ref, IndirectObject):
            raise MasterError("The PDF has no document catalog; it cannot be stamped.")
        root = DictionaryObject(cast(Any, root_ref.get_object()))
        info_ref = trailer.raw_get("/Info") if "/Info" in trailer else None
        if isinstance(info_ref, IndirectObject):
            info = DictionaryObject(cast(Any, info_ref.get_object()) or {})
            info_id = info_ref.idnum
        else:
            info, info_id = DictionaryObject(), size
            size += 1
        existing = None
        metadata = root.get("/Metadata")
        if metadata is not None:
            try:
                existing = metadata.get_object().get_data()
            except (PyPdfError, ValueError, AttributeError):
                existing = None
        return _prelude(
            prev=prev,
            size=size,
            trailer=trailer,
            root_ref=root_ref,
            root=root,
            info=info,
            info_id=info_id,
            existing_xmp=existing,
            xref_stream=_last_xref_is_stream(content, prev),
        )
    except MasterError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise MasterError(f"The PDF is damaged and cannot be stamped ({exc}).") from exc


def _last_xref_is_stream(content: bytes, prev: int) -> bool:
    return not content[prev : prev + 16].lstrip().startswith(b"xref")


def _stamp_pdf(content: bytes, token: bytes) -> bytes:
    """An incremental update (ISO 32000-1, 7.5.6) written directly: the catalog (pointing at a
    new XMP stream), the information dictionary with the token, the XMP stream, and an xref
    section (a table, or a stream when the file's last section is one) pointing back at the
    original's. Nothing before the update changes."""
    prelude = _pdf_prelude(content)
    packet = _xmp_packet(token, prelude.existing_xmp)
    xmp = (
        b"<<\n/Type /Metadata\n/Subtype /XML\n/Length %d\n>>\nstream\n" % len(packet)
        + packet
        + b"\nendstream"
    )
    bodies = [
        (idnum, body.replace(b"(" + _PLACEHOLDER + b")", b"(" + token + b")"))
        for idnum, body in prelude.objects
    ]
    bodies.append((prelude.metadata_id, xmp))
    parts = [content]
    position = len(content)
    if not content.endswith((b"\n", b"\r")):
        parts.append(b"\n")
        position += 1
    offsets: dict[int, int] = {}
    for idnum, body in sorted(bodies):
        offsets[idnum] = position
        chunk = b"%d 0 obj\n" % idnum + body + b"\nendobj\n"
        parts.append(chunk)
        position += len(chunk)
    xref_at = position
    if prelude.xref_stream:
        xref_id = prelude.size
        offsets[xref_id] = xref_at
        data = b"".join(struct.pack(">BIB", 1, offsets[i], 0) for i in sorted(offsets))
        index = b" ".join(b"%d %d" % run for run in _runs(sorted(offsets)))
        parts.append(
            b"%d 0 obj\n<< /Type /XRef " % xref_id
            + prelude.trailer.replace(b"/Size %d" % prelude.size, b"/Size %d" % (xref_id + 1))
            + b" /Prev %d /W [1 4 1] /Index [%s] /Length %d >>\nstream\n"
            % (prelude.prev, index, len(data))
            + data
            + b"\nendstream\nendobj\n"
        )
    else:
        table = [b"xref\n"]
        for first, count in _runs(sorted(offsets)):
            table.append(b"%d %d\n" % (first, count))
            table.extend(b"%010d 00000 n\r\n" % offsets[i] for i in range(first, first + count))
        table.append(b"trailer\n<< " + prelude.trailer + b" /Prev %d >>\n" % prelude.prev)
        parts.append(b"".join(table))
    parts.append(b"startxref\n%d\n%%%%EOF\n" % xref_at)
    return b"".join(parts)


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs of object numbers: (first, count), the xref's subsections."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][0] + runs[-1][1] == number:
            runs[-1][1] += 1
        else:
            runs.append([number, 1])
    return [(first, count) for first, count in runs]


def _read_pdf(content: bytes) -> str | None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(content))
        info: Any = reader.metadata or {}
        value = info.get("/" + STAMP_KEY)
        if value:
            return _decoded(str(value).encode("ascii", "replace"))
        metadata = cast(Any, reader.trailer["/Root"]).get("/Metadata")
        if metadata is not None:
            match = _XMP_VALUE.search(metadata.get_object().get_data())
            if match:
                return _decoded(match.group(1))
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        pass
    # A damaged file may still hold the plain-text entry: the newest (last) one wins.
    matches = re.findall(rb"/" + STAMP_KEY.encode() + rb"\s*\(([A-Za-z0-9._~-]{1,200})\)", content)
    return _decoded(matches[-1]) if matches else None


# --- the API ------------------------------------------------------------------------------------


def stamp(content: bytes, media_type: str, token: str) -> bytes:
    """``content`` with ``token`` in its metadata, pixels and page content untouched.

    ``media_type`` is the render's (``image/png``, ``image/jpeg``, ``application/pdf``); a
    mismatch with the bytes is an error rather than a corrupt file."""
    raw = _check_token(token)
    kind = sniff(content)
    if kind is None or kind != media_type:
        raise MasterError(f"The file is not the {media_type} it is said to be; not stamped.")
    if kind == "image/png":
        return _stamp_png(content, raw)
    if kind == "image/jpeg":
        return _stamp_jpeg(content, raw)
    return _stamp_pdf(content, raw)


def read_stamp(content: bytes) -> str | None:
    """The newest token ``stamp`` put into ``content`` (any supported type), or None."""
    kind = sniff(content)
    try:
        if kind == "image/png":
            return _read_png(content)
        if kind == "image/jpeg":
            return _read_jpeg(content)
        if kind == "application/pdf":
            return _read_pdf(content)
    except MasterError:
        return None
    return None
