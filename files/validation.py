"""Upload validation: every file is checked by its content before anything is stored.

Every way a file comes in calls ``validate_upload`` first: the admin's document and image forms
(``files.forms``), the brand kit logo (a validator on ``PartnerOrganization.logo``) and
``kb.services.document_create`` (import_bundle, seed_demo). A refused file raises
``UploadRejected`` (a ``ValidationError``) whose message names the file and the reason.

The rules, in order (the first failure is reported):

- the file name is sanitised (``sanitize_filename``): directories dropped, Unicode NFC, control
  and format characters removed, length limited; its extension must be allowed for the kind;
- the size is within the kind's limit and not zero;
- executables (MZ, ELF, Mach-O, Java class, shebang scripts) are refused whatever their name;
- the leading magic bytes must be those of the extension's type (a ZIP named ``.pdf`` is refused);
- polyglots: nothing HTML-like (``<script``, ``<html`` …) anywhere in a non-text file, and no ZIP
  central directory at the end of a file that is not a ZIP;
- then the type's own parser: Pillow open + pixel limit + verify + decode for images, pypdf for
  PDFs (no JavaScript, launch actions or embedded files; not encrypted; not truncated), a
  streamed decompression of every member of a ZIP/OOXML file with a size budget (zip bombs),
  strict UTF-8 without NUL for text, and a script-free check for SVG (only if SVG is allowed).

Files are read in blocks from a seekable file object, never whole into memory, so a 200 MB
upload costs a few megabytes to check.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

if TYPE_CHECKING:
    from pypdf import PdfReader

BLOCK = 1024 * 1024
# Longest marker below; blocks overlap by this much so a marker split over two blocks is found.
_OVERLAP = 32

# Leading bytes of formats we never accept, whatever the file is called.
EXECUTABLE_MAGIC = {
    b"MZ": gettext_noop("a Windows executable"),
    b"\x7fELF": gettext_noop("an ELF executable"),
    b"\xfe\xed\xfa\xce": gettext_noop("a Mach-O executable"),
    b"\xfe\xed\xfa\xcf": gettext_noop("a Mach-O executable"),
    b"\xce\xfa\xed\xfe": gettext_noop("a Mach-O executable"),
    b"\xcf\xfa\xed\xfe": gettext_noop("a Mach-O executable"),
    b"\xca\xfe\xba\xbe": gettext_noop("a Mach-O universal binary or Java class"),
    b"#!": gettext_noop("a script"),
}
# Leading bytes of the formats we know, to name what a mislabelled file really is.
KNOWN_MAGIC = {
    b"%PDF-": "pdf",
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
    b"PK\x03\x04": "zip",
    b"PK\x05\x06": "zip",
    b"\x1f\x8b": "gzip",
    b"Rar!": "rar",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"\xd0\xcf\x11\xe0": "ole",
    b"{\\rtf": "rtf",
}
# Extension → the magic kinds its content may start with.
EXPECTED_KIND = {
    "pdf": {"pdf"},
    "png": {"png"},
    "jpg": {"jpeg"},
    "jpeg": {"jpeg"},
    "gif": {"gif"},
    "webp": {"webp"},
    "avif": {"avif"},
    "zip": {"zip"},
    "docx": {"zip"},
    "pptx": {"zip"},
    "xlsx": {"zip"},
    "txt": {"text"},
    "csv": {"text"},
    "svg": {"text"},
}
# Extension → Pillow formats its content may have.
IMAGE_FORMATS = {
    "png": {"PNG"},
    "jpg": {"JPEG", "MPO"},
    "jpeg": {"JPEG", "MPO"},
    "gif": {"GIF"},
    "webp": {"WEBP"},
    "avif": {"AVIF"},
}
OOXML_FOLDER = {"docx": "word/", "pptx": "ppt/", "xlsx": "xl/"}
# Things a browser would run if the bytes were ever taken for HTML (lower-case; matched on a
# lower-cased copy of each block).
HTML_MARKERS = (
    b"<script",
    b"<html",
    b"<!doctype html",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<svg",
    b"<body",
    b"<meta http-equiv",
    b"javascript:",
    b"<?php",
)
# In compressed binary data a short marker turns up by chance (a 200 MB file holds "<svg" in
# any letter case with a probability of about 40%): anywhere in a binary file only the long
# markers that run code are refused, the full list applies to the first HEAD_BYTES (where a
# browser sniffs) and to the whole of a text file. Chance of a 6+ byte marker: < 1e-4 per GB.
HTML_MARKERS_ANYWHERE = (
    b"<script",
    b"<!doctype html",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<meta http-equiv",
    b"javascript:",
)
HEAD_BYTES = 1024
# PDF dictionary keys and action types that carry scripts, launch programs or hide files.
PDF_ACTIVE_KEYS = frozenset(
    {"/JS", "/JavaScript", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA"}
)
PDF_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute"})
PDF_MAX_OBJECTS = 2_000_000
SVG_FORBIDDEN = re.compile(
    rb"<script|<!doctype|<!entity|<foreignobject|<iframe|<embed|<object|javascript:"
    rb"|\son[a-z]+\s*=|<\?xml-stylesheet|@import",
)
SVG_HREF = re.compile(rb"""href\s*=\s*["']\s*([^"'\s]*)""")
WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)


class UploadRejected(ValidationError):
    """An upload refused by ``validate_upload``; the message names the file and the reason."""


@dataclass(frozen=True)
class UploadRules:
    """What one entry point accepts."""

    kind: str
    extensions: frozenset[str]
    max_size: int
    # Largest width × height; None: the image limit (PORTAL_UPLOAD_MAX_IMAGE_PIXELS).
    max_pixels: int | None = None


def rules_for(kind: str) -> UploadRules:
    """The rules of an entry point: ``document``, ``image`` or ``logo``."""
    if kind == "document":
        exts = settings.WAGTAILDOCS_EXTENSIONS
        size = settings.WAGTAILDOCS_MAX_UPLOAD_SIZE
    elif kind == "image":
        from wagtail.images.utils import get_allowed_image_extensions

        exts = get_allowed_image_extensions()
        size = settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE
    elif kind == "logo":
        exts = settings.PORTAL_LOGO_EXTENSIONS
        size = settings.PORTAL_LOGO_MAX_UPLOAD_SIZE
        # A logo is placed into a zone a few hundred pixels wide: far fewer pixels than a
        # banner master, and every co-brand render decodes it.
        return UploadRules(
            kind,
            frozenset(e.lower() for e in exts),
            int(size),
            int(settings.PORTAL_LOGO_MAX_PIXELS),
        )
    else:
        raise ValueError(f"unknown upload kind {kind!r}")
    return UploadRules(kind, frozenset(e.lower() for e in exts), int(size))


def sanitize_filename(name: str, *, max_length: int | None = None) -> str:
    """A safe storage file name from a client-supplied one.

    Keeps only the last path component (``../../etc/passwd`` → ``passwd``), normalises to NFC,
    drops control and format characters (including right-to-left overrides that hide a second
    extension), replaces characters Windows forbids, strips leading/trailing dots and spaces,
    prefixes reserved device names and shortens the stem so the whole name fits ``max_length``.

    Raises:
        UploadRejected: nothing usable is left of the name.
    """
    max_length = max_length or settings.PORTAL_UPLOAD_MAX_FILENAME
    original = name
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name:
        raise UploadRejected(
            _('"%(name)s": not a usable file name') % {"name": _printable(original)}
        )
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem.strip(" .") or "file"
    if WINDOWS_RESERVED.match(stem):
        stem = f"_{stem}"
    ext = ext[:16]
    room = max_length - (len(ext) + 1 if ext else 0)
    stem = stem[: max(room, 1)].rstrip(" .") or "file"
    return f"{stem}.{ext}" if ext else stem


def validate_upload(*, name: str, content: bytes | IO[bytes], kind: str) -> str:
    """Check one upload by its content before it is stored; return the sanitised file name.

    Parameters:
        name: the name the client gave.
        content: the bytes, or a seekable binary file object (left at position 0).
        kind: ``document``, ``image`` or ``logo`` (see ``rules_for``).

    Raises:
        UploadRejected: naming the file and why it was refused.
    """
    rules = rules_for(kind)
    clean = sanitize_filename(name)
    fileobj = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    try:
        _check(fileobj, clean, rules)
    except UploadRejected as exc:
        raise UploadRejected(
            _('"%(name)s": %(reason)s') % {"name": clean, "reason": exc.messages[0]}
        ) from None
    finally:
        fileobj.seek(0)
    return clean


def _check(f: IO[bytes], name: str, rules: UploadRules) -> None:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if rules.kind == "logo" and (ext == "svg" or _looks_like_svg(f)):
        # Decision (docs/organizations.md): co-brand renders need pixels, rasterising SVG
        # needs a renderer (cairo) the portal does not ship, and sanitising SVG is fragile.
        raise UploadRejected(
            _(
                "SVG logos are not accepted: upload a PNG or JPEG (export the SVG at about "
                "1000 pixels wide)"
            )
        )
    if ext not in rules.extensions:
        allowed = ", ".join(sorted(rules.extensions))
        raise UploadRejected(
            _("file type .%(ext)s is not allowed (allowed: %(allowed)s)")
            % {"ext": ext or _("(none)"), "allowed": allowed}
        )
    if ext not in EXPECTED_KIND:
        raise UploadRejected(
            _("no content check exists for .%(ext)s files, so they are refused") % {"ext": ext}
        )
    size = f.seek(0, io.SEEK_END)
    if size == 0:
        raise UploadRejected(_("the file is empty"))
    if size > rules.max_size:
        raise UploadRejected(
            _("the file is %(size)s, more than the %(limit)s allowed here")
            % {"size": _mb(size), "limit": _mb(rules.max_size)}
        )
    f.seek(0)
    head = f.read(4096)
    for magic, what in EXECUTABLE_MAGIC.items():
        if head.startswith(magic):
            raise UploadRejected(
                _("the content is %(what)s; executables are never accepted") % {"what": _(what)}
            )
    actual = _magic_kind(head)
    expected = EXPECTED_KIND[ext]
    if actual not in expected:
        found = actual if actual != "text" else _("text or unknown data")
        raise UploadRejected(
            _(
                "the content is %(found)s, not what a .%(ext)s file must be (the name and the "
                "content disagree)"
            )
            % {"found": found, "ext": ext}
        )
    if actual != "text":
        if actual != "zip":
            _refuse_html(f)
            if _is_zip(f):
                raise UploadRejected(
                    _("the file also contains a ZIP archive (a polyglot), which is refused")
                )
        else:
            _refuse_html_head(head[:HEAD_BYTES])
    if actual == "pdf":
        _check_pdf(f, size)
    elif ext in IMAGE_FORMATS:
        _check_image(f, IMAGE_FORMATS[ext], rules.max_pixels)
    elif actual == "zip":
        _check_zip(f, ext)
    elif ext == "svg":
        _check_svg(f)
    else:
        _check_text(f)


def _looks_like_svg(f: IO[bytes]) -> bool:
    """Whether the file starts like an SVG document, whatever its name says."""
    f.seek(0)
    head = f.read(HEAD_BYTES).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    f.seek(0)
    return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head)


def _magic_kind(head: bytes) -> str:
    for magic, kind in KNOWN_MAGIC.items():
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "avif"
    return "text"


def _blocks(f: IO[bytes]) -> Iterator[bytes]:
    """The file in BLOCK-sized pieces, each starting with the previous one's last bytes."""
    f.seek(0)
    tail = b""
    while block := f.read(BLOCK):
        yield tail + block
        tail = block[-_OVERLAP:]


def _refuse_html(f: IO[bytes]) -> None:
    """Binary files: every marker in the head, the long ones anywhere."""
    f.seek(0)
    _refuse_html_head(f.read(HEAD_BYTES))
    for block in _blocks(f):
        _refuse_html_head(block, HTML_MARKERS_ANYWHERE)


def _refuse_html_head(block: bytes, markers: tuple[bytes, ...] = HTML_MARKERS) -> None:
    lowered = block.lower()
    for marker in markers:
        if marker in lowered:
            raise UploadRejected(
                _(
                    'the file contains HTML or script ("%(marker)s"), which a browser could run '
                    "(a polyglot); refused"
                )
                % {"marker": marker.decode()}
            )


def _is_zip(f: IO[bytes]) -> bool:
    f.seek(0)
    try:
        return zipfile.is_zipfile(f)
    except Exception:  # noqa: BLE001 - a ZIP trailer too broken to read is still suspicious
        return True
    finally:
        f.seek(0)


def _check_pdf(f: IO[bytes], size: int) -> None:
    from pypdf import PdfReader

    f.seek(max(0, size - 1024))
    if b"%%EOF" not in f.read():
        raise UploadRejected(_("the PDF is truncated (no %%EOF at its end)"))
    f.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(f, strict=False)
            if reader.is_encrypted:
                raise UploadRejected(_("the PDF is encrypted, so its content cannot be checked"))
            _refuse_pdf_active_content(reader)
            count = len(reader.pages)
            if count == 0:
                raise UploadRejected(_("the PDF has no pages"))
            for page in reader.pages:
                page.mediabox  # noqa: B018 - parses the page dictionary
    except UploadRejected:
        raise
    except RecursionError as exc:
        raise UploadRejected(_("the PDF is not readable (nested too deeply)")) from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure on hostile bytes is a refusal
        raise UploadRejected(
            _("the PDF is not readable (%(error)s)") % {"error": type(exc).__name__}
        ) from exc


def _refuse_pdf_active_content(reader: PdfReader) -> None:
    """Look at every object of the PDF (object streams included), not at raw bytes: stream
    data (ASCII85, Flate) can contain "/JS" by chance, while real actions are dictionaries."""
    from pypdf.generic import DictionaryObject

    ids: set[tuple[int, int]] = set()
    for generation, numbers in reader.xref.items():
        ids.update((number, generation) for number in numbers)
    ids.update((number, 0) for number in reader.xref_objStm)
    if len(ids) > PDF_MAX_OBJECTS:
        raise UploadRejected(
            _("the PDF has more than %(limit)s objects") % {"limit": f"{PDF_MAX_OBJECTS:,}"}
        )
    from pypdf.generic import IndirectObject

    dictionaries = [reader.trailer]
    for number, generation in sorted(ids):
        try:
            obj = reader.get_object(IndirectObject(number, generation, reader))
        except Exception:  # noqa: BLE001, S112 - unreadable leftovers are not active content
            continue
        if isinstance(obj, DictionaryObject):
            dictionaries.append(obj)
    for dictionary in dictionaries:
        active: frozenset[str] | set[str] = PDF_ACTIVE_KEYS.intersection(dictionary.keys())
        action = dictionary.get("/S")
        if not active and isinstance(action, str) and action in PDF_ACTIVE_ACTIONS:
            active = {action}
        if active:
            raise UploadRejected(
                _(
                    "the PDF has active content (%(keys)s: scripts, launch actions or embedded "
                    "files), which is refused"
                )
                % {"keys": ", ".join(sorted(active))}
            )


def _check_image(f: IO[bytes], formats: set[str], max_pixels: int | None = None) -> None:
    from PIL import Image

    limit = max_pixels or settings.PORTAL_UPLOAD_MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            f.seek(0)
            with Image.open(f, formats=sorted(formats)) as image:
                width, height = image.size
                if width * height > limit:
                    raise UploadRejected(
                        _(
                            "the image is %(width)s×%(height)s pixels, more than the %(limit)s "
                            "allowed (a decompression bomb?)"
                        )
                        % {"width": width, "height": height, "limit": f"{limit:,}"}
                    )
                image.verify()
            # verify() leaves the image unusable and does not decode pixels: decode them too,
            # so truncated or corrupt data is found now and not when a rendition is made.
            f.seek(0)
            with Image.open(f, formats=sorted(formats)) as image:
                if image.format == "JPEG":
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRejected(
            _("the image is a decompression bomb (%(error)s)") % {"error": exc}
        ) from exc
    except Exception as exc:  # noqa: BLE001 - any decoder failure on hostile bytes is a refusal
        raise UploadRejected(
            _("the image is not a valid %(formats)s image (%(error)s)")
            % {"formats": "/".join(sorted(formats)), "error": type(exc).__name__}
        ) from exc


def _check_zip(f: IO[bytes], ext: str) -> None:
    max_total = settings.PORTAL_ZIP_MAX_UNCOMPRESSED
    max_entries = settings.PORTAL_ZIP_MAX_ENTRIES
    max_ratio = settings.PORTAL_ZIP_MAX_RATIO
    f.seek(0)
    try:
        archive = zipfile.ZipFile(f)
    except Exception as exc:  # noqa: BLE001 - hostile headers raise many types (fuzzing found
        # NotImplementedError for an unknown format version)
        raise UploadRejected(
            _("the archive is not a readable ZIP file (%(error)s)") % {"error": type(exc).__name__}
        ) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > max_entries:
            raise UploadRejected(
                _("the archive has %(count)s entries (at most %(limit)s)")
                % {"count": len(infos), "limit": max_entries}
            )
        names = {info.filename for info in infos}
        if ext in OOXML_FOLDER:
            folder = OOXML_FOLDER[ext]
            if "[Content_Types].xml" not in names or not any(n.startswith(folder) for n in names):
                raise UploadRejected(
                    _("the file is a ZIP archive but not a .%(ext)s document") % {"ext": ext}
                )
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise UploadRejected(_("the document contains macros (vbaProject.bin)"))
        total = 0
        for info in infos:
            entry = info.filename
            parts = entry.replace("\\", "/").split("/")
            if entry.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", entry):
                raise UploadRejected(
                    _('the archive entry "%(entry)s" leaves its folder')
                    % {"entry": _printable(entry)}
                )
            if info.flag_bits & 0x1:
                raise UploadRejected(
                    _("the archive is encrypted, so its content cannot be checked")
                )
            if info.is_dir():
                continue
            written = 0
            try:
                with archive.open(info) as member:
                    first = member.read(16)
                    for magic, what in EXECUTABLE_MAGIC.items():
                        if magic != b"#!" and first.startswith(magic):
                            raise UploadRejected(
                                _('the archive entry "%(entry)s" is %(what)s')
                                % {"entry": _printable(entry), "what": _(what)}
                            )
                    written = len(first)
                    while chunk := member.read(BLOCK):
                        written += len(chunk)
                        ratio = written / max(info.compress_size, 1)
                        if (
                            total + written > max_total
                            or written > info.file_size
                            or (written > BLOCK and ratio > max_ratio)
                        ):
                            raise UploadRejected(
                                _(
                                    'the archive entry "%(entry)s" expands beyond its limits '
                                    "(a zip bomb?)"
                                )
                                % {"entry": _printable(entry)}
                            )
            except UploadRejected:
                raise
            except Exception as exc:  # noqa: BLE001 - corrupt or hostile member data
                raise UploadRejected(
                    _('the archive entry "%(entry)s" is corrupt (%(error)s)')
                    % {"entry": _printable(entry), "error": type(exc).__name__}
                ) from exc
            total += written
            if total > max_total:
                raise UploadRejected(_("the archive expands beyond its limit (a zip bomb?)"))


def _check_text(f: IO[bytes]) -> None:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    for block in _blocks(f):
        if b"\x00" in block:
            raise UploadRejected(_("the text file contains NUL bytes (binary data)"))
        _refuse_html_head(block)
    f.seek(0)
    try:
        while block := f.read(BLOCK):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise UploadRejected(_("the text file is not valid UTF-8")) from exc


def _check_svg(f: IO[bytes]) -> None:
    f.seek(0)
    data = f.read(settings.PORTAL_LOGO_MAX_UPLOAD_SIZE + 1).lower()
    if b"<svg" not in data:
        raise UploadRejected(_("the file is not an SVG image"))
    found = SVG_FORBIDDEN.search(data)
    if found:
        raise UploadRejected(
            _(
                'the SVG contains "%(found)s" (scripts, event handlers, entities or foreign '
                "content are refused)"
            )
            % {"found": found.group(0).decode(errors="replace").strip()}
        )
    for href in SVG_HREF.findall(data):
        if href and not href.startswith((b"#", b"data:image/png", b"data:image/jpeg")):
            raise UploadRejected(_("the SVG links to an external resource, which is refused"))


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))[:120]


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
