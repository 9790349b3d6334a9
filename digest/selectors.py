"""What a digest tells one user: reads only, every item through the page policy.

Every list of items starts from ``PortalItemPage.objects.live().visible_to(user)``, which is
``page_policy.filter_visible`` (permissions/policies/pages.py, the only place that decides access),
evaluated when the digest is built, i.e. at sending time: an item the user could see yesterday
but not now is not named. The downloads sections are the home page's version-aware reads
(``kb.selectors.downloads_updated`` / ``downloads_withdrawn``), which ask the same policy.

One exception, the withdrawn list (CLARIFICATIONS 8, docs/decisions.md): it names what the user
themself downloaded, by the title they saw then (``title_seen``), and nothing else about it: no
current title, no link to an item they may no longer open. ``digest/tests/test_properties.py``
checks both against ``page_policy.can_view`` on random worlds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from wagtail.models import Locale

from kb.models import PortalItemPage
from kb.selectors import (
    DownloadUpdate,
    DownloadWithdrawal,
    _one_per_translation_group,
    downloads_updated,
    downloads_withdrawn,
)

# How many download updates / withdrawals are read to count the ones beyond the shown entries
# ("… and N more"): the reads cost a fixed number of queries whatever the limit.
_COUNTED = 200


@dataclass(frozen=True)
class DigestEntry:
    """One item named in a digest."""

    item: PortalItemPage
    url: str  # absolute (PORTAL_BASE_URL): the e-mail is read outside the portal
    at: datetime  # first published (new), last published (updated)


@dataclass(frozen=True)
class DigestDownloadEntry:
    """An item the user may see now, with the files of it they downloaded that have a newer
    version now ("X1 datasheet (EN): v1 → v2 (2026.2) — what changed: …")."""

    item: PortalItemPage
    url: str
    at: datetime | None  # when partners got the newest of these versions
    files: list[DownloadUpdate]


@dataclass(frozen=True)
class DigestWithdrawnEntry:
    """Something the user downloaded and can no longer get: named by ``withdrawal.title_seen``
    only. ``url`` is the item's address when one file of an item they still see was withdrawn,
    else empty (never a link to an item they may not open)."""

    withdrawal: DownloadWithdrawal
    url: str = ""


@dataclass
class DigestSection:
    entries: list = field(default_factory=list)
    more: int = 0  # entries beyond PORTAL_DIGEST_MAX_ITEMS, only counted

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
    withdrawn: DigestSection = field(default_factory=DigestSection)

    def __bool__(self) -> bool:
        return bool(self.new or self.updated or self.downloads or self.withdrawn)

    @property
    def item_count(self) -> int:
        sections = (self.new, self.updated, self.downloads, self.withdrawn)
        return sum(len(s.entries) + s.more for s in sections)

    @property
    def downloads_only(self) -> bool:
        """Only news about the user's own downloads (the ``notify_new_versions`` e-mail)."""
        return not (self.new or self.updated)


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


def _downloads(user, since: datetime, until: datetime) -> list[DigestDownloadEntry]:
    """``kb.selectors.downloads_updated`` for the window, one entry per item (its files in the
    order the read gives, newest update first)."""
    entries: dict[int, DigestDownloadEntry] = {}
    for update in downloads_updated(user, since=since, limit=_COUNTED):
        # The read's ``since`` is inclusive and it has no end: the window is (since, until].
        if update.when is None or not since < update.when <= until:
            continue
        entry = entries.get(update.item.pk)
        if entry is None:
            entry = entries[update.item.pk] = DigestDownloadEntry(
                update.item, absolute_url(update.item), update.when, []
            )
        entry.files.append(update)
    return list(entries.values())


def _withdrawn(user, since: datetime, until: datetime) -> list[DigestWithdrawnEntry]:
    """``kb.selectors.downloads_withdrawn`` for the window (withdrawals whose time is known to
    fall in it; one whose time nothing records, an organisation's grant removed say, is on the
    home page only). A withdrawn file of an item the user still sees links that item, asked of
    the policy once more here, at sending time; a whole item is never linked."""
    found = [
        w
        for w in downloads_withdrawn(user, since=since, limit=_COUNTED)
        if w.when is not None and since < w.when <= until
    ]
    linkable = {w.item.pk for w in found if not w.whole_item and w.item is not None}
    if linkable:
        linkable = set(_visible_items(user).filter(pk__in=linkable).values_list("pk", flat=True))
    return [
        DigestWithdrawnEntry(
            w,
            absolute_url(w.item)
            if not w.whole_item and w.item is not None and w.item.pk in linkable
            else "",
        )
        for w in found
    ]


def _limited(entries: list, limit: int) -> DigestSection:
    return DigestSection(entries[:limit], more=max(0, len(entries) - limit))


def digest_content(
    user, *, since: datetime, until: datetime, downloads_only: bool = False
) -> DigestContent:
    """What the digest of ``user`` for (``since``, ``until``] names.

    - downloads: the files they downloaded that have a newer version published in the window
      (``kb.selectors.downloads_updated``), one entry per item, each file "v1 → v2 (label)"
      with what changed;
    - new: items first published in the window, one per translation group in the user's
      content language (else the source's), as the home page's "New for you";
    - updated: items published again in the window (first published before it), one per
      translation group likewise;
    - withdrawn: what they downloaded that was withdrawn in the window
      (``kb.selectors.downloads_withdrawn``), by the title they saw (CLARIFICATIONS 8).

    A translation group is listed once among downloads, new and updated: under downloads,
    else new, else updated. ``downloads_only``: the downloads and withdrawn sections only
    (the ``notify_new_versions`` e-mail of a user without the digest).

    Each section holds at most ``PORTAL_DIGEST_MAX_ITEMS`` entries and counts the rest.
    """
    limit = settings.PORTAL_DIGEST_MAX_ITEMS
    downloads = _downloads(user, since, until)
    withdrawn = _withdrawn(user, since, until)
    if downloads_only:
        return DigestContent(
            since=since,
            until=until,
            new=DigestSection(),
            updated=DigestSection(),
            downloads=_limited(downloads, limit),
            withdrawn=_limited(withdrawn, limit),
        )
    default, own = _content_locale_ids(user)
    prefer = own if own is not None else default
    readable = {default, prefer}
    window = _visible_items(user).filter(locale_id__in=readable)
    # Each group once: "updated since you downloaded" says most, then new, then updated.
    listed = {entry.item.translation_key for entry in downloads}
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
        downloads=_limited(downloads, limit),
        withdrawn=_limited(withdrawn, limit),
    )
