"""Where files live: local media (the embedded default) or S3 buckets, one per residency region.

A stored file's *name* says where its object is. Names starting ``regions/<key>/`` live in the
bucket that ``PORTAL_STORAGE_REGIONS[<key>]`` names, under the rest of the name as object key;
every other name lives in the default bucket. ``RoutingStorage`` (the default storage when S3 is
configured) dispatches on that prefix, so Wagtail, the views and the commands keep using one
storage, and moving a file between regions is "copy, verify, repoint the row, delete the old"
(``storage_residency --move``).

Without S3 the default storage stays Django's ``FileSystemStorage``: a ``regions/...`` name is
then simply a folder under MEDIA_ROOT.

Which region a file must live in is decided by the app that owns the file's row (kb/placements.py
for items' files, from permissions.selectors.item_single_region; an organisation's brand kit and
co-brand renders by the organisation's region), through ``region_key_for`` here: a region's
bucket, or its nearest ancestor region's when the map has no entry for a sub-region; everything
else goes to the default bucket.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import posixpath
import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, TypedDict, TypeGuard, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage
from django.core.signals import setting_changed
from django.utils.deconstruct import deconstructible

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config


class RegionLike(Protocol):
    """What residency needs of a region (permissions.models.Region; files imports no app)."""

    @property
    def pk(self) -> Any: ...

    @property
    def key(self) -> str: ...

    @property
    def parent(self) -> RegionLike | None: ...


class OrganizationLike(Protocol):
    """What residency needs of an organisation (permissions.models.PartnerOrganization)."""

    @property
    def region_id(self) -> int | None: ...

    @property
    def region(self) -> RegionLike | None: ...


class S3Settings(TypedDict):
    """``settings.PORTAL_S3`` (portal_site/settings/base.py), set when ``S3_BUCKET`` is."""

    bucket: str
    endpoint_url: str | None
    region: str | None
    access_key: str | None
    secret_key: str | None
    addressing_style: str
    presign_seconds: int
    max_attempts: int
    connect_timeout: float
    read_timeout: float
    health_seconds: float


class S3BucketStorage(Protocol):
    """What this module uses of django-storages' S3 storage (an untyped package)."""

    bucket: Any

    def exists(self, name: str) -> bool: ...

    def url(self, name: str, parameters: dict[str, str | None], expire: int) -> str: ...


REGION_PREFIX = "regions/"


def content_sha256(content: bytes | IO[bytes]) -> str:
    """The SHA-256 (hex) of ``content``: bytes, or a binary file read in blocks from its start
    (and left at its start), so a large upload is never held whole in memory."""
    digest = hashlib.sha256()
    if isinstance(content, bytes | bytearray):
        digest.update(content)
        return digest.hexdigest()
    if content.seekable():
        content.seek(0)
    for block in iter(lambda: content.read(1024 * 1024), b""):
        digest.update(block)
    if content.seekable():
        content.seek(0)
    return digest.hexdigest()


class StorageUnavailable(Exception):
    """The object store could not be reached or failed; the request should be retried later."""


def storage_errors() -> tuple[type[BaseException], ...]:
    """Exception classes that mean "the object store failed" (not "the object is missing")."""
    errors: list[type[BaseException]] = [StorageUnavailable]
    try:
        from botocore.exceptions import BotoCoreError, ClientError

        errors += [BotoCoreError, ClientError]
    except ImportError:  # pragma: no cover - boto3 is a dependency
        pass
    return tuple(errors)


def s3_enabled() -> bool:
    return bool(getattr(settings, "PORTAL_S3", None))


def s3_settings() -> S3Settings:
    """``settings.PORTAL_S3``; only called with S3 configured (``s3_enabled()``)."""
    return cast(S3Settings, settings.PORTAL_S3)


def _is_s3(storage: Storage) -> TypeGuard[S3BucketStorage]:
    """A bucket of the object store (not a folder: local media, or a residency test folder)."""
    return hasattr(storage, "bucket")


def client_config() -> Config:
    """botocore Config: s3v4 signatures, addressing style, retries with backoff, timeouts."""
    from botocore.config import Config

    s3 = s3_settings()
    return Config(
        signature_version="s3v4",
        s3={"addressing_style": s3["addressing_style"]},
        retries={"mode": "standard", "max_attempts": s3["max_attempts"]},
        connect_timeout=s3["connect_timeout"],
        read_timeout=s3["read_timeout"],
    )


def _s3_storage_class() -> type[Storage]:
    from storages.backends.s3 import S3Storage

    class PortalS3Storage(S3Storage):
        """One bucket. Objects are private: no ACL is sent (the bucket owner's private default)
        and URLs are presigned (querystring auth) for ``PORTAL_S3["presign_seconds"]``."""

        def get_default_settings(self) -> dict[str, Any]:
            s3 = s3_settings()
            values: dict[str, Any] = super().get_default_settings()
            values.update(
                access_key=s3["access_key"],
                secret_key=s3["secret_key"],
                bucket_name=s3["bucket"],
                endpoint_url=s3["endpoint_url"],
                region_name=s3["region"],
                addressing_style=s3["addressing_style"],
                signature_version="s3v4",
                default_acl=None,
                querystring_auth=True,
                querystring_expire=s3["presign_seconds"],
                # Names are unique by construction (unique_name): no HEAD probe for a free
                # name, and a save can never replace another file's object.
                file_overwrite=True,
                client_config=client_config(),
                transfer_config=transfer_config(),
                max_memory_size=8 * 1024 * 1024,
            )
            return values

        def get_available_name(self, name: str, max_length: int | None = None) -> str:
            from storages.utils import clean_name

            return unique_name(clean_name(name), max_length=max_length)

        def _save(self, name: str, content: File[Any]) -> str:
            # Through the client, not django-storages' ``self.bucket.Object(key)``: boto3 builds
            # that resource class anew on every call (~2-3 ms, a tenth of a 1 MB upload here).
            if self.gzip:
                saved: str = super()._save(name, content)
                return saved
            from storages.utils import ReadBytesWrapper, clean_name, is_seekable

            cleaned: str = clean_name(name)
            key = self._normalize_name(cleaned)
            params = self._get_write_parameters(key, content)
            client = self.connection.meta.client
            # A file already on disk (Django's TemporaryUploadedFile, an opened file) is sent
            # with upload_file: s3transfer then reads each part from disk while sending instead
            # of holding parts in memory, so a 200 MB upload costs a few MB of RAM.
            path = _disk_path(content)
            if path is not None:
                client.upload_file(
                    path, self.bucket_name, key, ExtraArgs=params, Config=self.transfer_config
                )
                return cleaned
            if is_seekable(content):
                content.seek(0, os.SEEK_SET)
            body = ReadBytesWrapper(content)
            # s3transfer closes the file it was given (boto/s3transfer#80): not ours to close.
            original_close = body.close
            body.close = lambda: None
            try:
                client.upload_fileobj(
                    body, self.bucket_name, key, ExtraArgs=params, Config=self.transfer_config
                )
            finally:
                body.close = original_close
            return cleaned

    return PortalS3Storage


# The random component of a stored name on S3: "_" + 16 hex digits (64 bits) before the extension.
UNIQUE_SUFFIX = re.compile(r"_[0-9a-f]{16}$")


def unique_name(name: str, *, max_length: int | None = None) -> str:
    """``documents/a.pdf`` → ``documents/a_<16 hex digits>.pdf``, without asking the store.

    Django's ``get_available_name`` sends a HEAD per upload to find a free name (and another per
    collision). A collision needs the same folder, stem and 64 random bits (a million uploads of
    one file name into one folder: ~3 in 100 million), so in practice an object is never
    overwritten, and the name costs no request. A name that already carries such a component
    (a file moved between buckets) gets a fresh one instead of a second. Downloads are offered
    under the name without it (``display_name``).

    Raises:
        SuspiciousFileOperation: path traversal, or ``max_length`` leaves no room for the stem.
    """
    dir_name, file_name = posixpath.split(name)
    if ".." in dir_name.split("/"):
        raise SuspiciousFileOperation(f"Detected path traversal attempt in '{dir_name}'")
    root, ext = posixpath.splitext(file_name)
    root = UNIQUE_SUFFIX.sub("", root)
    suffix = f"_{secrets.token_hex(8)}{ext}"
    if max_length is not None:
        room = max_length - len(posixpath.join(dir_name, suffix))
        if room < 1:
            raise SuspiciousFileOperation(
                f'no room for a file name in "{name}" within {max_length} characters'
            )
        root = root[:room]
    return posixpath.join(dir_name, f"{root}{suffix}")


def display_name(filename: str) -> str:
    """The name to offer a downloader: ``a_<16 hex digits>.pdf`` → ``a.pdf`` (unique_name's
    component is for the store, not for people)."""
    root, ext = posixpath.splitext(filename)
    return UNIQUE_SUFFIX.sub("", root) + ext or filename


def transfer_config() -> TransferConfig:
    """Multipart uploads: bounded concurrency and parts held in memory (peak RSS stays small)."""
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(
        multipart_threshold=8 * 1024 * 1024,
        multipart_chunksize=8 * 1024 * 1024,
        max_concurrency=4,
    )
    # Parts read from a file object are buffered; s3transfer's default (10) costs ~100 MB.
    config.max_in_memory_upload_chunks = 2
    return config


def _disk_path(content: File[Any]) -> str | None:
    """The path of a whole file on disk behind ``content``, if there is one."""
    if hasattr(content, "temporary_file_path"):
        path: str = content.temporary_file_path()
        return path
    raw = getattr(content, "file", content)
    name = getattr(raw, "name", None)
    if isinstance(raw, io.BufferedReader) and isinstance(name, str) and os.path.isfile(name):
        return name
    return None


def bucket_storage(region_key: str | None = None) -> Storage:
    """The storage of one bucket: the default bucket, or the named residency region's."""
    return _bucket_storage(region_key)


@functools.cache
def _bucket_storage(region_key: str | None) -> Storage:
    options: dict[str, str] = {}
    if region_key is not None:
        try:
            entry = settings.PORTAL_STORAGE_REGIONS[region_key]
        except KeyError as exc:
            raise ImproperlyConfigured(
                f'no bucket for residency region "{region_key}" in PORTAL_STORAGE_REGIONS'
            ) from exc
        if "location" in entry:
            # A folder instead of a bucket (tests and local trials of residency).
            return FileSystemStorage(location=entry["location"])
        options = {"bucket_name": entry["bucket"]}
        if entry.get("endpoint_url"):
            options["endpoint_url"] = entry["endpoint_url"]
        if entry.get("region_name"):
            options["region_name"] = entry["region_name"]
    if not s3_enabled():
        if region_key is not None:
            return FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "regions" / region_key)
        return FileSystemStorage()
    return _s3_storage_class()(**options)


def reset_storages() -> None:
    """Forget the built storages (after settings change in tests)."""
    _bucket_storage.cache_clear()
    forget_store_health()


def split_name(name: str) -> tuple[str | None, str]:
    """``regions/emea/documents/a.pdf`` → ``("emea", "documents/a.pdf")``.

    Any other name → ``(None, name)`` (the default bucket).
    """
    if name.startswith(REGION_PREFIX):
        key, _, rest = name[len(REGION_PREFIX) :].partition("/")
        if key in settings.PORTAL_STORAGE_REGIONS and rest:
            return key, rest
    return None, name


def join_name(region_key: str | None, key: str) -> str:
    return f"{REGION_PREFIX}{region_key}/{key}" if region_key else key


@deconstructible
class RoutingStorage(Storage):
    """The default storage with S3: each name goes to its bucket (see module docstring)."""

    def _route(self, name: str) -> tuple[Storage, str, str | None]:
        region_key, key = split_name(name)
        return bucket_storage(region_key), key, region_key

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        storage, key, _ = self._route(name)
        return storage.open(key, mode)

    def _save(self, name: str, content: IO[Any]) -> str:
        # ``name`` already comes from get_available_name (the bucket's own): the bucket storage's
        # _save, not save(), so the name is not worked out (or probed for) a second time.
        storage, key, region_key = self._route(name)
        # Storage's own protocol (save() calls _save()); django-stubs leave the private half out.
        saved: str = storage._save(key, content)  # type: ignore[attr-defined]
        return join_name(region_key, saved)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        storage, key, region_key = self._route(name)
        prefix = len(join_name(region_key, ""))
        room = None if max_length is None else max_length - prefix
        return join_name(region_key, storage.get_available_name(key, max_length=room))

    def delete(self, name: str) -> None:
        storage, key, _ = self._route(name)
        storage.delete(key)

    def exists(self, name: str) -> bool:
        storage, key, _ = self._route(name)
        return storage.exists(key)

    def size(self, name: str) -> int:
        storage, key, _ = self._route(name)
        return storage.size(key)

    # Storage.url takes None (FileSystemStorage answers its base URL); a routed name is a file's.
    def url(self, name: str, **kwargs: Any) -> str:  # type: ignore[override]
        storage, key, _ = self._route(name)
        return storage.url(key, **kwargs) if kwargs else storage.url(key)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        storage, key, _ = self._route(path)
        return storage.listdir(key)

    def get_modified_time(self, name: str) -> datetime:
        storage, key, _ = self._route(name)
        return storage.get_modified_time(key)

    def path(self, name: str) -> str:
        storage, key, _ = self._route(name)
        return storage.path(key)


def presigned_url(
    name: str, *, filename: str, as_attachment: bool, content_type: str | None = None
) -> str | None:
    """A short-lived presigned GET URL for a stored file, or None when it is stored locally
    (the caller then streams it). Call only after the permission check.

    The database row is the source of truth for existence (``storage_orphans`` reports rows
    whose object is missing), so there is no HEAD per download. To keep the 503 page for a
    store that cannot be reached, one HEAD on the object is made when the bucket has not answered
    for ``PORTAL_S3["health_seconds"]`` (default 30; 0 = every download): a missing object found
    by that HEAD is a 404 here, an unreachable store a 503 before the user is redirected. Any
    store error seen by a request (kb.middleware) forgets the bucket's answer at once.

    Raises:
        FileNotFoundError: no such object.
        botocore errors: the store failed (the middleware answers 503).
    """
    if not s3_enabled():
        return None
    region_key, key = split_name(name)
    storage = bucket_storage(region_key)
    if not _is_s3(storage):
        return None
    _check_reachable(region_key, storage, key, name)
    from django.utils.http import content_disposition_header

    parameters = {
        "ResponseContentDisposition": content_disposition_header(
            as_attachment, display_name(filename)
        ),
        "ResponseCacheControl": "private, no-store",
    }
    if content_type:
        parameters["ResponseContentType"] = content_type
    return storage.url(key, parameters=parameters, expire=s3_settings()["presign_seconds"])


# Bucket (residency key, None = default) → time.monotonic() of its last answer to a HEAD.
_answered: dict[str | None, float] = {}


def _check_reachable(region_key: str | None, storage: S3BucketStorage, key: str, name: str) -> None:
    window = s3_settings().get("health_seconds", 30)
    last = _answered.get(region_key)
    now = time.monotonic()
    if last is not None and now - last < window:
        return
    found = storage.exists(key)  # a store error propagates: 503 (kb.middleware)
    _answered[region_key] = now
    if not found:
        raise FileNotFoundError(name)


def forget_store_health() -> None:
    """After a store error: the next download asks the store again (HEAD) before redirecting."""
    _answered.clear()


# ---------------------------------------------------------------------------------- residency


def region_key_for(region: RegionLike | None) -> str | None:
    """The residency map key of ``region``: itself, or its nearest ancestor with an entry."""
    mapped = settings.PORTAL_STORAGE_REGIONS
    seen: set[int] = set()
    while region is not None and region.pk not in seen:
        if region.key in mapped:
            return region.key
        seen.add(region.pk)
        region = region.parent
    return None


def organization_region_key(organization: OrganizationLike) -> str | None:
    """Residency map key of an organisation's brand kit (and co-brand renders)."""
    return region_key_for(organization.region) if organization.region_id else None


def prefixed(name: str, region_key: str | None) -> str:
    """``name`` re-homed under ``region_key`` (or the default bucket)."""
    _, key = split_name(name)
    return join_name(region_key, key)


def iter_objects(region_key: str | None) -> Iterator[tuple[str, datetime | None]]:
    """Every stored object in one bucket (or local folder): (storage name, last modified)."""
    storage = bucket_storage(region_key)
    if _is_s3(storage):
        for obj in storage.bucket.objects.all():
            yield join_name(region_key, obj.key), obj.last_modified
        return
    # Not a bucket: a folder (bucket_storage builds a FileSystemStorage for every other case).
    root = Path(cast(FileSystemStorage, storage).location)
    if not root.is_dir():
        return
    regional = root / REGION_PREFIX.rstrip("/")
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if region_key is None and regional in path.parents:
            continue  # regional folders under MEDIA_ROOT are listed by their own region
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        yield join_name(region_key, path.relative_to(root).as_posix()), modified


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("PORTAL_S3", "PORTAL_STORAGE_REGIONS", "MEDIA_ROOT", "STORAGES"):
        reset_storages()


setting_changed.connect(_on_setting_changed)
