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


def _pdf_objects_update(
    content: bytes, objects: list[tuple[int, object]], trailer: dict[str, object], prev: int
) -> bytes:
    """``content`` + the ``objects`` (id, pypdf object) + an xref section and trailer pointing
    back at ``prev`` — a PDF incremental update (ISO 32000-1, 7.5.6)."""
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        StreamObject,
    )

    out = io.BytesIO()
    out.write(content)
    if not content.endswith((b"\n", b"\r")):
        out.write(b"\n")
    offsets: dict[int, int] = {}
    for idnum, obj in sorted(objects, key=lambda item: item[0]):
        offsets[idnum] = out.tell()
        out.write(f"{idnum} 0 obj\n".encode())
        obj.write_to_stream(out)  # type: ignore[attr-defined]
        out.write(b"\nendobj\n")
    # Contiguous runs of object numbers: the xref's subsections.
    runs: list[list[int]] = []
    for idnum in sorted(offsets):
        if runs and runs[-1][-1] + 1 == idnum:
            runs[-1].append(idnum)
        else:
            runs.append([idnum])
    xref_at = out.tell()
    if _last_xref_is_stream(content, prev):
        # The file uses cross-reference streams: the update does too (PDF 1.5).
        xref_id = int(trailer["/Size"])  # type: ignore[call-overload]
        offsets[xref_id] = xref_at
        if runs and runs[-1][-1] + 1 == xref_id:
            runs[-1].append(xref_id)
        else:
            runs.append([xref_id])
        stream = StreamObject()
        stream.set_data(
            b"".join(struct.pack(">BIB", 1, offsets[i], 0) for run in runs for i in run)
        )
        stream[NameObject("/Type")] = NameObject("/XRef")
        stream[NameObject("/W")] = ArrayObject([NumberObject(1), NumberObject(4), NumberObject(1)])
        stream[NameObject("/Index")] = ArrayObject(
            [NumberObject(n) for run in runs for n in (run[0], len(run))]
        )
        for key, value in trailer.items():
            stream[NameObject(key)] = value  # type: ignore[assignment]
        stream[NameObject("/Size")] = NumberObject(xref_id + 1)
        stream[NameObject("/Prev")] = NumberObject(prev)
        out.write(f"{xref_id} 0 obj\n".encode())
        stream.write_to_stream(out)
        out.write(b"\nendobj\n")
    else:
        out.write(b"xref\n")
        for run in runs:
            out.write(f"{run[0]} {len(run)}\n".encode())
            for idnum in run:
                out.write(f"{offsets[idnum]:010d} 00000 n\r\n".encode())
        out.write(b"trailer\n")
        tail = DictionaryObject({NameObject(k): v for k, v in trailer.items()})  # type: ignore[misc]
        tail[NameObject("/Prev")] = NumberObject(prev)
        tail.write_to_stream(out)
        out.write(b"\n")
    out.write(f"startxref\n{xref_at}\n%%EOF\n".encode())
    return out.getvalue()


def _last_xref_is_stream(content: bytes, prev: int) -> bool:
    return not content[prev : prev + 16].lstrip().startswith(b"xref")


def _stamp_pdf(content: bytes, token: bytes) -> bytes:
    """An incremental update written directly (pypdf reads only the trailer, the catalog and
    the information dictionary: a stamp costs the same for 2 pages or 2,000)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    from pypdf.generic import (
        DictionaryObject,
        IndirectObject,
        NameObject,
        StreamObject,
        TextStringObject,
    )

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise MasterError("The PDF is encrypted; it cannot be stamped.")
        trailer = reader.trailer
        size = int(trailer["/Size"])
        prev = int(reader._startxref)
        root_ref = trailer.raw_get("/Root")
        if not isinstance(root_ref, IndirectObject):
            raise MasterError("The PDF has no document catalog; it cannot be stamped.")
        root = DictionaryObject(root_ref.get_object())
        info_ref = trailer.raw_get("/Info") if "/Info" in trailer else None
        if isinstance(info_ref, IndirectObject):
            info = DictionaryObject(info_ref.get_object() or {})
            info_id = info_ref.idnum
        else:
            info, info_id = DictionaryObject(), size
            size += 1
        info[NameObject("/" + STAMP_KEY)] = TextStringObject(token.decode("ascii"))

        existing = None
        metadata = root.get("/Metadata")
        if metadata is not None:
            try:
                existing = metadata.get_object().get_data()
            except (PyPdfError, ValueError, AttributeError):
                existing = None
        stream = StreamObject()
        stream.set_data(_xmp_packet(token, existing))
        stream[NameObject("/Type")] = NameObject("/Metadata")
        stream[NameObject("/Subtype")] = NameObject("/XML")
        metadata_id = size
        size += 1
        root[NameObject("/Metadata")] = IndirectObject(metadata_id, 0, None)

        new_trailer: dict[str, object] = {
            "/Size": _number(size),
            "/Root": root_ref,
            "/Info": IndirectObject(info_id, 0, None),
        }
        if "/ID" in trailer:
            new_trailer["/ID"] = trailer["/ID"]
        objects = [(root_ref.idnum, root), (info_id, info), (metadata_id, stream)]
        return _pdf_objects_update(content, objects, new_trailer, prev)
    except MasterError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise MasterError(f"The PDF is damaged and cannot be stamped ({exc}).") from exc


def _number(value: int):
    from pypdf.generic import NumberObject

    return NumberObject(value)


def _read_pdf(content: bytes) -> str | None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(content))
        info = reader.metadata or {}
        value = info.get("/" + STAMP_KEY)
        if value:
            return _decoded(str(value).encode("ascii", "replace"))
        metadata = reader.trailer["/Root"].get("/Metadata")
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
