"""Per-download identifiers written into a finished render's metadata, without re-encoding.

* PNG: a ``tEXt`` chunk ``PortalCobrandId`` (with its CRC) just before ``IEND``;
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
    for kind, start, end, data_start, data_end in _png_chunks(content):
        is_ours = kind in (b"tEXt", b"iTXt") and (
            (_png_text(content[data_start:data_end]) or (b"",))[0] == STAMP_KEY.encode()
        )
        if is_ours:
            parts.append(view[kept_from:start])
            kept_from = end
        elif kind == b"IEND":
            parts.append(view[kept_from:start])
            data = STAMP_KEY.encode() + b"\x00" + token
            chunk = b"tEXt" + data
            parts.append(
                memoryview(
                    struct.pack(">I", len(data)) + chunk + struct.pack(">I", zlib.crc32(chunk))
                )
            )
            parts.append(view[start:])
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


def _stamp_pdf(content: bytes, token: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError
    from pypdf.generic import NameObject, StreamObject

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise MasterError("The PDF is encrypted; it cannot be stamped.")
        writer = PdfWriter(reader, incremental=True)
        writer.add_metadata({"/" + STAMP_KEY: token.decode("ascii")})
        existing = None
        root = writer._root_object
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
        root[NameObject("/Metadata")] = writer._add_object(stream)
        out = io.BytesIO()
        writer.write(out)
    except MasterError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise MasterError(f"The PDF is damaged and cannot be stamped ({exc}).") from exc
    return out.getvalue()


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
