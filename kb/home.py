"""The portal home: what each persona finds when they open it (issue #14, docs/home.md).

* A partner: new for them, updated since they downloaded, expiring soon, withdrawn, their
  organisation (tier, region, type, its partner admins as contacts), and the panels other apps
  contribute (co-brand; training later).
* Staff (editors, moderators, regional marketers): what waits for them in the admin (reviews,
  their drafts; a marketer's translation tasks, from localization), and what is new or expiring.
* A suspended partner: the notice only.

Reads only what the user may see: items through ``visible_to`` (page_policy), files through
document_policy's queryset form, whatever the number of items or downloads in a fixed number of
queries. The apps above kb add panels through the ``portal_home_panels`` Wagtail hook (kb
never imports them).
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.db.models import CharField, Exists, F, OuterRef
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise as StrPromise
from django.utils.translation import get_language
from wagtail import hooks
from wagtail.models import Page

from files.models import PortalDocument
from permissions.models import Membership, PartnerOrganization
from permissions.policies.files import document_policy
from permissions.policies.organizations import organization_policy
from permissions.policies.pages import page_policy
from permissions.policies.principal import Principal, principal_for

from .models import ItemAttachment, LibraryIndexPage, MarketingAssetPage, PortalItemPage
from .selectors import (
    DownloadUpdate,
    DownloadWithdrawal,
    _name_products,
    _one_per_translation_group,
    default_locale,
    downloads_updated,
    downloads_withdrawn,
    locale_cached,
)

HOME_PANELS_HOOK = "portal_home_panels"
# "Expiring soon": what goes away for the user within this many days.
EXPIRING_DAYS = 30
# How many partner admins the organisation block names (an organisation has a few).
ADMIN_CONTACTS = 6
# How many entries the staff panels list (their counts say how many there are in all).
STAFF_PANEL_LIMIT = 5
# How many entries each list of a partner's home shows (home_feed's limit; the only size whose
# downloads lists are cached).
HOME_LIST_LIMIT = 8

Persona = Literal["partner", "staff", "suspended", "member"]


@dataclass
class HomePanel:
    """A block another app (or kb itself) adds to the home through ``portal_home_panels``.

    ``slot`` names it (``section[data-home-slot=<slot>]``: "cobrand", "training",
    "translations", "review", "drafts"); ``template`` renders its body below the ``title``
    heading kb writes, reading ``data`` (``context``). ``placement``: the main column (staff
    work lists) or the side column (a partner's extras). Lower ``order`` first.
    """

    slot: str
    title: str | StrPromise  # lazy translations welcome: rendered in the user's language
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    placement: Literal["main", "aside"] = "aside"
    order: int = 100


@dataclass
class HomePanels:
    main: list[HomePanel] = field(default_factory=list)
    aside: list[HomePanel] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.main or self.aside)


@dataclass(frozen=True)
class Contact:
    """A partner admin of the user's organisation, as a contact."""

    name: str
    email: str


@dataclass
class OrganizationCard:
    """The user's own organisation: what the rules read of it and whom to ask."""

    name: str
    tier: str
    region: str
    partner_type: str
    admins: list[Contact]
    # The organisation page (brand kit, members), for its partner admins only.
    manage_url: str | None = None


@dataclass
class ExpiringItem:
    """A visible item that goes away for the user at ``expires_at`` (its own expiry, a
    section's above it, or its source's)."""

    item: PortalItemPage
    expires_at: datetime


@dataclass
class ExpiringFile:
    """A file of a visible item whose served version expires at ``expires_at`` (withdrawn
    then unless a newer version replaces it)."""

    item: PortalItemPage
    file_title: str
    version_number: int
    expires_at: datetime


@dataclass
class HomeFeed:
    new_for_you: list[PortalItemPage]
    # Per file version: what the user downloaded that has a newer version now ("v2 → v3").
    updated_since_download: list[DownloadUpdate]
    sections: list[LibraryIndexPage]
    suspended: bool = False
    # What the user downloaded and can no longer get (named as they saw it).
    withdrawn: list[DownloadWithdrawal] = field(default_factory=list)
    expiring: list[ExpiringItem] = field(default_factory=list)
    expiring_files: list[ExpiringFile] = field(default_factory=list)
    organization: OrganizationCard | None = None
    persona: Persona = "member"
    new_days: int = 30
    expiring_days: int = EXPIRING_DAYS


def _persona(principal: Principal) -> Persona:
    # Which blocks the home shows; what each block lists is the policies' to say.
    if principal.kind == "suspended":
        return "suspended"
    if principal.kind == "staff":
        return "staff"
    if principal.kind == "partner":
        return "partner"
    return "member"


def home_feed(*, user, home: Page, limit: int = HOME_LIST_LIMIT) -> HomeFeed:
    """What the home shows ``user`` (only what they may see): new items, what they downloaded
    that was updated or withdrawn since (``downloads_updated``, ``downloads_withdrawn``), what
    expires soon, and their organisation. A suspended organisation's member gets the notice
    and nothing else. A fixed number of queries, however many items and downloads."""
    principal = principal_for(user)
    persona = _persona(principal)
    if persona == "suspended":
        return HomeFeed(
            new_for_you=[], updated_since_download=[], sections=[], suspended=True, persona=persona
        )
    now = timezone.now()
    items = PortalItemPage.objects.live().visible_to(user).select_related("locale")
    # This home's language and the source language, one item per translation group (a Czech
    # partner gets the Czech version, not also its English source and a German copy).
    readable = {home.locale_id, default_locale().pk}
    new, sections = _new_and_sections_cached(user, home, items, readable, now, limit)
    expiring, expiring_files = _expiring_cached(user, items, readable, home.locale_id, now, limit)
    updated, withdrawn = _downloads_news(user, limit)
    return HomeFeed(
        new_for_you=new,
        updated_since_download=updated,
        sections=sections,
        withdrawn=withdrawn,
        expiring=expiring,
        expiring_files=expiring_files,
        organization=_organization_card(user, principal) if persona == "partner" else None,
        persona=persona,
        new_days=settings.PORTAL_NEW_DAYS,
    )


# How long a user's "updated since you downloaded" and "withdrawn" lists are reused. They are
# the home's most expensive part (two wide statements whose SQL takes longer to build than to
# run: bench/pages.py); publishing, unpublishing, moving or deleting a page and any access change
# start a new generation of keys at once (kb.navigation.nav_forget), a download of the user's that
# changes either list starts a new token of theirs (downloads_news_after_download), and a file
# version that expires by the clock shows up within this time.
HOME_DOWNLOADS_TTL = 60
# The per-user token: lives longer than the lists it names (a lost token only costs a miss).
_DOWNLOADS_TOKEN_TTL = 24 * 3600


def _downloads_token_key(user_id: int) -> str:
    return f"portal:home:downloads-token:{user_id}"


def _downloads_token(user_id: int) -> str:
    """The user's current downloads token (a fresh one when the cache has none)."""
    key = _downloads_token_key(user_id)
    token = cache.get(key)
    if token is None:
        token = uuid.uuid4().hex
        # add: two threads of one user missing together keep one token.
        if not cache.add(key, token, _DOWNLOADS_TOKEN_TTL):
            token = cache.get(key) or token
    return token


def _downloads_key(user, token: str, limit: int, language: str | None) -> str:
    from .navigation import NAV_GENERATION_KEY

    return (
        f"portal:home:downloads:{cache.get(NAV_GENERATION_KEY, 0)}:{_entitlement(user)}:"
        f"{user.pk}:{token}:{limit}:{language}"
    )


def _downloads_news(user, limit: int) -> tuple[list, list]:
    """``downloads_updated`` and ``downloads_withdrawn`` for ``user``, reused for
    HOME_DOWNLOADS_TTL seconds per (content generation, entitlement, user, the user's downloads
    token, language). No query on a hit.

    The token changes when one of the user's downloads may change either list
    (``downloads_news_after_download``); most downloads do not (a file downloaded for the first
    time is on neither list), so a partner who downloads often keeps the cached lists.
    """
    if limit != HOME_LIST_LIMIT:
        return downloads_updated(user, limit=limit), downloads_withdrawn(user, limit=limit)
    key = _downloads_key(user, _downloads_token(user.pk), limit, get_language())
    cached = cache.get(key)
    if cached is None:
        cached = (downloads_updated(user, limit=limit), downloads_withdrawn(user, limit=limit))
        cache.set(key, cached, HOME_DOWNLOADS_TTL)
    return cached


def _news_changed_by(cached: tuple[list, list], *, item_id: int, lineage: int | None) -> bool:
    """Whether a new download of file ``lineage`` (its served version) from ``item_id`` may
    change these lists (kb.selectors: downloads_updated, downloads_withdrawn). It can only take
    entries off, never add one: an update of that file (the user now has the served version);
    a whole item whose last download was that file (downloaded again elsewhere); a withdrawn
    file of that item (the replacement rule) or that file downloaded from another item. An entry
    past the limit that goes away changes nothing shown."""
    updated, withdrawn = cached
    if lineage is None:
        return any(w.item_id == item_id for w in withdrawn)
    return any(u.lineage == lineage for u in updated) or any(
        w.item_id == item_id or w.lineage == lineage or w.event_lineage == lineage
        for w in withdrawn
    )


def downloads_news_forget(*, user_id: int) -> None:
    """Compute ``user_id``'s cached home downloads lists again on the next home (a new token)."""
    cache.set(_downloads_token_key(user_id), uuid.uuid4().hex, _DOWNLOADS_TOKEN_TTL)


def downloads_news_after_download(*, user, item_id: int, lineage: int | None) -> None:
    """After ``user``'s download of file ``lineage`` from ``item_id`` (committed): start a new
    downloads token when their cached home lists may change, so the next home computes them
    again; keep it otherwise. Called by kb.services.download_record (on commit).

    Every language's cached lists are read; none cached also starts a new token, so a home
    computed from the state before the download (a request in flight) is never kept.
    """
    token = _downloads_token(user.pk)
    keys = [
        _downloads_key(user, token, HOME_LIST_LIMIT, code) for code, _name in settings.LANGUAGES
    ]
    found = cache.get_many(keys).values()
    if not found or any(
        _news_changed_by(value, item_id=item_id, lineage=lineage) for value in found
    ):
        downloads_news_forget(user_id=user.pk)


def _entitlement(user) -> str:
    """A digest of what ``user`` may see (the policy's filter key): equal for every member of an
    organisation with the same grants, never for two different entitlements."""
    return hashlib.sha256(repr(page_policy.filter_key(user)).encode()).hexdigest()


T = TypeVar("T")


def _shared_by_entitlement(
    kind: str,
    user,
    parts: tuple,
    now: datetime,
    compute: Callable[[], T],
    expiries: Callable[[T], Iterable[datetime | None]],
) -> T:
    """``compute()``, reused for HOME_DOWNLOADS_TTL seconds per (content generation,
    entitlement, ``parts``, UI language), and no longer than until the first of its
    ``expiries``: for home lists of visible items only, so everyone with the same entitlement
    (an organisation's members) shares one computation a minute. A publish, unpublish, move,
    delete or access change starts a new generation (kb.navigation.nav_forget), so an item
    appears or goes at once."""
    from .navigation import NAV_GENERATION_KEY

    key = (
        f"portal:home:{kind}:{cache.get(NAV_GENERATION_KEY, 0)}:{_entitlement(user)}:"
        f"{':'.join(map(str, parts))}:{get_language()}"
    )
    cached = cache.get(key)
    if cached is None:
        cached = compute()
        cache.set(key, cached, _ttl_until_first(expiries(cached), now))
    return cached


def _new_and_sections_cached(
    user, home: Page, items, readable: set[int], now: datetime, limit: int
) -> tuple[list[PortalItemPage], list[LibraryIndexPage]]:
    """``_new_and_sections``, shared per entitlement (``_shared_by_entitlement``); only the
    "new" window's edge (PORTAL_NEW_DAYS) may be a minute late."""
    return _shared_by_entitlement(
        "new",
        user,
        (home.pk, "-".join(map(str, sorted(readable))), limit),
        now,
        lambda: _new_and_sections(user, home, items, readable, now, limit),
        lambda found: (getattr(page, "expires", None) for page in [*found[0], *found[1]]),
    )


def _new_and_sections(
    user, home: Page, items, readable: set[int], now: datetime, limit: int
) -> tuple[list[PortalItemPage], list[LibraryIndexPage]]:
    """Items first published in the last PORTAL_NEW_DAYS (one per translation group, the home's
    language preferred, products named in it) and the home's sections ``user`` may see. Three
    queries."""
    since = now - timedelta(days=settings.PORTAL_NEW_DAYS)
    # ``expires``: when each listed page stops being visible by the clock (the cache's bound).
    candidates = list(
        items.filter(first_published_at__gte=since, locale_id__in=readable)
        .annotate(expires=F("audience__eff_expire_at"))
        .order_by("-first_published_at")[: limit * 2]
    )
    new = _one_per_translation_group(candidates, prefer=home.locale_id)[:limit]
    sections = list(
        LibraryIndexPage.objects.live()
        .child_of(home)
        .visible_to(user)
        .annotate(expires=F("audience__eff_expire_at"))
        .order_by("path")
    )
    # Products named in the home's content language (one cached read for the cards).
    _name_products(new, locale_cached(home.locale_id).language_code)
    return new, sections


def _expiring_cached(
    user, items, readable: set[int], prefer: int, now: datetime, limit: int
) -> tuple[list[ExpiringItem], list[ExpiringFile]]:
    """``_expiring``, shared per entitlement (``_shared_by_entitlement``)."""
    return _shared_by_entitlement(
        "expiring",
        user,
        ("-".join(map(str, sorted(readable))), prefer, limit),
        now,
        lambda: _expiring(items, readable, prefer, now, limit),
        lambda found: [e.expires_at for e in found[0]] + [f.expires_at for f in found[1]],
    )


def _ttl_until_first(expiries: Iterable[datetime | None], now: datetime) -> int:
    """How long a cached home list may be reused: HOME_DOWNLOADS_TTL, or less, so that it is
    computed again as soon as one of its entries expires by the clock (no publish or access
    change marks that moment: the entry must not stay listed after it)."""
    soonest = min((at for at in expiries if at is not None), default=None)
    if soonest is None:
        return HOME_DOWNLOADS_TTL
    return max(1, min(HOME_DOWNLOADS_TTL, math.ceil((soonest - now).total_seconds())))


def _expiring(
    items, readable: set[int], prefer: int, now: datetime, limit: int
) -> tuple[list[ExpiringItem], list[ExpiringFile]]:
    """Visible items whose effective expiry (``PageAudience.eff_expire_at``: the item's, a
    section's above it or its source's, whichever comes first) falls in the next
    ``EXPIRING_DAYS``; and files of visible items whose served version expires then. Three
    queries."""
    until = now + timedelta(days=EXPIRING_DAYS)
    rows = list(
        items.filter(
            locale_id__in=readable,
            audience__eff_expire_at__gt=now,
            audience__eff_expire_at__lte=until,
        )
        .annotate(expires=F("audience__eff_expire_at"))
        .order_by("expires", "pk")[: limit * 2]
    )
    expiring = [
        ExpiringItem(item, item.expires)
        for item in _one_per_translation_group(rows, prefer=prefer)[:limit]
    ]
    shown = items.filter(locale_id__in=readable).values("pk")
    # A served version (document_policy: not deleted, not expired yet) that expires soon.
    attachments = (
        ItemAttachment.objects.filter(page_id__in=shown)
        .filter(document_policy.servable_version_q("document__", now))
        .filter(document__expire_at__lte=until)
        .select_related("document", "page")
        .order_by("document__expire_at", "pk")[: limit * 2]
    )
    masters = (
        MarketingAssetPage.objects.filter(pk__in=shown)
        .filter(document_policy.servable_version_q("master_document__", now))
        .filter(master_document__expire_at__lte=until)
        .select_related("master_document")
        .order_by("master_document__expire_at", "pk")[:limit]
    )
    found: list[ExpiringFile] = []
    # (Filtered on expire_at and the master: neither is None here.)
    for att in attachments:
        doc = att.document
        title = att.title or doc.title
        found.append(
            ExpiringFile(att.page, title, doc.version_number, cast(datetime, doc.expire_at))
        )
    for asset in masters:
        master = cast(PortalDocument, asset.master_document)
        expires = cast(datetime, master.expire_at)
        found.append(ExpiringFile(asset, master.title, master.version_number, expires))
    # One entry per file and language group: the same file on a translation and its source
    # is the same news.
    seen: set[tuple[object, str]] = set()
    files = []
    for entry in sorted(found, key=lambda e: (e.expires_at, e.item.locale_id != prefer)):
        key = (entry.item.translation_key, entry.file_title)
        if key not in seen:
            seen.add(key)
            files.append(entry)
    return expiring, files[:limit]


def _organization_card(user, principal: Principal) -> OrganizationCard | None:
    """The partner's own organisation (``principal_for`` resolved it: never another one), its
    active partner admins as contacts, and the link to the organisation page when
    organization_policy lets ``user`` manage it. Two queries."""
    if principal.organization is None:
        return None
    org = PartnerOrganization.objects.select_related("tier", "region", "partner_type").get(
        pk=principal.organization.pk
    )
    admins = (
        Membership.objects.filter(
            organization_id=org.pk, role=Membership.Role.ADMIN, user__is_active=True
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")[:ADMIN_CONTACTS]
    )
    contacts = [Contact(m.user.get_full_name() or m.user.email, m.user.email) for m in admins]
    # The principal's own organisation: may ``user`` manage it? (No query: the principal knows.)
    manage_url = (
        reverse("accounts:organization")
        if organization_policy.manages_an_organization(user)
        else None
    )
    return OrganizationCard(
        name=org.name,
        tier=org.tier.name,
        region=org.region.name,
        partner_type=org.partner_type.name,
        admins=contacts,
        manage_url=manage_url,
    )


def home_panels(*, request, home: Page) -> HomePanels:
    """The panels the apps contribute through the ``portal_home_panels`` hook, by placement.

    Each hook takes ``(request, home)`` and returns a ``HomePanel`` or None; it asks
    permissions/ itself what the user may see. A suspended member (or an anonymous visitor)
    gets none: the home shows them the notice only."""
    if _persona(principal_for(request.user)) == "suspended" or not request.user.is_authenticated:
        return HomePanels()
    found: list[HomePanel] = []
    for hook in hooks.get_hooks(HOME_PANELS_HOOK):
        panel = hook(request, home)
        if panel is not None:
            found.append(panel)
    found.sort(key=lambda p: p.order)
    return HomePanels(
        main=[p for p in found if p.placement == "main"],
        aside=[p for p in found if p.placement == "aside"],
    )


# --- staff: what waits for them in the admin ---------------------------------------------------


@dataclass
class AdminEntry:
    """A page in the admin: its title, where to open it, and what state it is in."""

    title: str
    url: str
    when: datetime | None
    note: str = ""
    in_review: bool = False


@dataclass
class AdminList:
    entries: list[AdminEntry]
    total: int


def _edit_url(page_id: int) -> str:
    return reverse("wagtailadmin_pages:edit", args=[page_id])


def home_reviews(*, user, limit: int = STAFF_PANEL_LIMIT) -> AdminList:
    """Pages whose workflow task ``user`` may act on now (Wagtail's ``reviewable_by``: the
    tasks' own permission rules, e.g. the Approval group, a locale's regional reviewers),
    newest first. A fixed number of queries per active task type, none per page."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import TaskState

    page_type = ContentType.objects.get_for_model(Page)
    states = (
        TaskState.objects.reviewable_by(user)
        .filter(revision__base_content_type=page_type)
        .select_related("revision", "task")
        .order_by("-started_at", "-pk")
    )
    total = states.count()
    rows = list(states[:limit]) if total else []
    pages = Page.objects.in_bulk([int(s.revision.object_id) for s in rows])
    entries = []
    for state in rows:
        page = pages.get(int(state.revision.object_id))
        if page is None:
            continue
        entries.append(
            AdminEntry(
                state.revision.object_str or page.draft_title or page.title,
                _edit_url(page.pk),
                state.started_at,
                note=state.task.name,
            )
        )
    return AdminList(entries, total)


def home_drafts(*, user, limit: int = STAFF_PANEL_LIMIT) -> AdminList:
    """Pages ``user`` edited last whose changes are not live yet (drafts, and whether each is
    in a workflow), most recently edited first. Two queries."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import WorkflowState

    page_type = ContentType.objects.get_for_model(Page)
    in_review = WorkflowState.objects.filter(
        base_content_type=page_type,
        object_id=Cast(OuterRef("pk"), output_field=CharField()),
        status=WorkflowState.STATUS_IN_PROGRESS,
    )
    pages = (
        Page.objects.filter(latest_revision__user=user, has_unpublished_changes=True)
        .annotate(in_review=Exists(in_review))
        .order_by("-latest_revision_created_at", "-pk")
    )
    total = pages.count()
    rows = list(pages[:limit]) if total else []
    return AdminList(
        [
            AdminEntry(
                p.draft_title or p.title,  # the title being edited
                _edit_url(p.pk),
                p.latest_revision_created_at,
                in_review=p.in_review,
            )
            for p in rows
        ],
        total,
    )
