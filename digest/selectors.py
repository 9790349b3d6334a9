"""What a digest tells one user: reads only, every item through the page policy.

Every list starts from ``PortalItemPage.objects.live().visible_to(user)``, which is
``page_policy.filter_visible`` (permissions/policies/pages.py, the only place that decides access),
evaluated when the digest is built, i.e. at sending time: an item the user could see yesterday
but not now is not named. ``digest/tests/test_properties.py`` checks this against
``page_policy.can_view`` on random worlds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import F, Max, OuterRef, QuerySet, Subquery
from wagtail.models import Locale

from kb.models import DownloadEvent, PortalItemPage
from kb.selectors import _one_per_translation_group


@dataclass(frozen=True)
class DigestEntry:
    """One item named in a digest."""

    item: PortalItemPage
    url: str  # absolute (PORTAL_BASE_URL): the e-mail is read outside the portal
    at: datetime  # first published (new), last published (updated)
    downloaded_at: datetime | None = None  # "updates of what you downloaded": the last download


@dataclass
class DigestSection:
    entries: list[DigestEntry] = field(default_factory=list)
    more: int = 0  # visible items beyond PORTAL_DIGEST_MAX_ITEMS, only counted

    def __bool__(self) -> bool:
        return bool(self.entries)


@dataclass
class DigestContent:
    """A user's digest for the window (``since``, ``until``]: empty means no e-mail."""

    since: datetime
    until: datetime
    new: DigestSection
    updated: DigestSection
    downloads: DigestSection

    def __bool__(self) -> bool:
        return bool(self.new or self.updated or self.downloads)

    @property
    def item_count(self) -> int:
        return sum(len(s.entries) + s.more for s in (self.new, self.updated, self.downloads))


def _visible_items(user) -> QuerySet[PortalItemPage]:
    # visible_to() is page_policy.filter_visible: asked now, at sending time.
    return PortalItemPage.objects.live().visible_to(user)


def _content_locale_ids(user) -> tuple[int, int | None]:
    """The default (source) locale's id and the id of the content locale in the user's UI
    language, None when the portal has no content in that language (then they read the
    sources, as on the home page)."""
    default = Locale.get_default().pk
    language = getattr(user, "preferred_language", None) or settings.LANGUAGE_CODE
    own = Locale.objects.filter(language_code=language).values_list("pk", flat=True).first()
    return default, own


def absolute_url(page) -> str:
    """``page``'s address for an e-mail: PORTAL_BASE_URL (never a request's Host header) plus
    the page's path in its site (with its language prefix)."""
    parts = page.get_url_parts()
    path = parts[2] if parts else "/"
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def _section(items: list[PortalItemPage], at: str, limit: int) -> DigestSection:
    shown = items[:limit]
    return DigestSection(
        [DigestEntry(item, absolute_url(item), getattr(item, at)) for item in shown],
        more=len(items) - len(shown),
    )


def downloads_updated_for_digest(
    user, since: datetime, until: datetime | None = None
) -> list[PortalItemPage]:
    """Items ``user`` downloaded that were published again after their last download of it,
    that publication falling in (``since``, ``until``], visible to ``user`` now; newest first,
    each with ``last_download`` (when they last downloaded it).

    One function so the version-aware selector (per file version, issue #12 part 5) can replace
    it without touching the digest.
    """
    last_download = (
        DownloadEvent.objects.filter(user_id=user.pk, item_id=OuterRef("pk"))
        .values("item_id")
        .annotate(at=Max("downloaded_at"))
        .values("at")
    )
    items = (
        _visible_items(user)
        .annotate(last_download=Subquery(last_download))
        .filter(last_download__isnull=False, last_published_at__gt=F("last_download"))
        .filter(last_published_at__gt=since)
    )
    if until is not None:
        items = items.filter(last_published_at__lte=until)
    return list(items.order_by("-last_published_at", "-pk"))


def digest_content(user, *, since: datetime, until: datetime) -> DigestContent:
    """What the digest of ``user`` for (``since``, ``until``] names.

    - new: items first published in the window, one per translation group in the user's
      content language (else the source's), as the home page's "New for you";
    - updated: items published again in the window (first published before it), one per
      translation group likewise;
    - downloads: ``downloads_updated_for_digest``.

    A translation group is listed once: under downloads, else new, else updated.

    Each list holds at most ``PORTAL_DIGEST_MAX_ITEMS`` entries and counts the rest.
    """
    limit = settings.PORTAL_DIGEST_MAX_ITEMS
    default, own = _content_locale_ids(user)
    prefer = own if own is not None else default
    readable = {default, prefer}
    window = _visible_items(user).filter(locale_id__in=readable)
    downloads = downloads_updated_for_digest(user, since, until)
    # Each group once: "updated since you downloaded" says most, then new, then updated.
    listed = {item.translation_key for item in downloads}
    new = [
        item
        for item in _one_per_translation_group(
            list(
                window.filter(first_published_at__gt=since, first_published_at__lte=until).order_by(
                    "-first_published_at", "-pk"
                )
            ),
            prefer=prefer,
        )
        if item.translation_key not in listed
    ]
    listed |= {item.translation_key for item in new}
    updated = [
        item
        for item in _one_per_translation_group(
            list(
                window.filter(
                    first_published_at__lte=since,
                    last_published_at__gt=since,
                    last_published_at__lte=until,
                ).order_by("-last_published_at", "-pk")
            ),
            prefer=prefer,
        )
        if item.translation_key not in listed
    ]
    return DigestContent(
        since=since,
        until=until,
        new=_section(new, "first_published_at", limit),
        updated=_section(updated, "last_published_at", limit),
        downloads=_downloads_section(downloads, limit),
    )


def _downloads_section(items: list[PortalItemPage], limit: int) -> DigestSection:
    shown = items[:limit]
    return DigestSection(
        [
            DigestEntry(item, absolute_url(item), item.last_published_at, item.last_download)
            for item in shown
        ],
        more=len(items) - len(shown),
    )
