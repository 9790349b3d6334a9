"""Writes of the entitlement model. Admin forms, commands, imports and the demo all come here."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from guardian.shortcuts import assign_perm, remove_perm
from wagtail.log_actions import get_active_log_context, log
from wagtail.models import (
    GroupApprovalTask,
    Locale,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from .models import (
    EXCEPTION_CODENAME,
    GRANT_CODENAME,
    AccessChange,
    Membership,
    OrganizationChange,
    PageAudience,
    PageGroupObjectPermission,
    PartnerOrganization,
    PartnerType,
    Region,
    Tier,
)
from .policies.principal import region_ancestry
from .policies.rule import (
    UNRESTRICTED,
    Effective,
    Regions,
    chain_paths,
    combine,
    intersect_own,
    parse_tokens,
    tokens,
)
from .selectors import (
    DEFAULT_ACCESS,
    AccessState,
    access_diff,
    access_state_applied,
    access_state_of,
)

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from wagtail.models import Revision

    # The user model (AUTH_USER_MODEL), for annotations only: no app above permissions runs here.
    from accounts.models import User

logger = logging.getLogger("portal.permissions")


class StoredPaths(Protocol):
    """Where a caller collects the names of files stored for it (kb.services.StoredFiles), to
    delete them if its transaction fails."""

    paths: list[str]


def _encode(value: Regions) -> str | None:
    return None if value is None else tokens(value)


def _effective_of(row: PageAudience) -> Effective:
    return Effective(
        row.eff_public,
        row.eff_min_rank,
        parse_tokens(row.eff_regions),
        parse_tokens(row.eff_types),
        parse_tokens(row.eff_grants),
        parse_tokens(row.eff_exceptions),
    )


EFFECTIVE_FIELDS = [
    "eff_public",
    "eff_min_rank",
    "eff_regions",
    "eff_types",
    "eff_grants",
    "eff_exceptions",
]


def _effective_columns(eff: Effective) -> tuple[object, ...]:
    return (
        eff.public,
        eff.min_rank,
        _encode(eff.regions),
        _encode(eff.types),
        tokens(eff.grants),
        tokens(eff.exceptions),
    )


def _nearest_ancestor_row(page: Page) -> PageAudience | None:
    paths = [page.path[: Page.steplen * d] for d in range(1, page.depth)]
    return (
        PageAudience.objects.filter(page__path__in=paths).order_by("-page__depth").first()
        if paths
        else None
    )


def _earliest(*moments: datetime | None) -> datetime | None:
    """The earliest of the given expiry times (None: never expires)."""
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else None


def _own_effective(row: PageAudience) -> Effective:
    """A compiled row's own rule (no grants) as an Effective."""
    return Effective(
        row.own_public,
        row.own_min_rank,
        parse_tokens(row.own_regions),
        parse_tokens(row.own_types),
    )


def translation_source_of(page: Page) -> Page | None:
    """The source of ``page``'s translation group: its page in the default locale, or None when
    ``page`` is in the default locale or its group has no page there (a standalone page)."""
    default = Locale.get_default()
    if page.locale_id == default.pk:
        return None
    return (
        Page.objects.filter(translation_key=page.translation_key, locale=default)
        .exclude(pk=page.pk)
        .first()
    )


def _parallel(page: Page, source: Page) -> bool:
    """Does ``page`` sit where its source's translation belongs: at the source's depth, every
    ancestor a page of the same translation group as the source's ancestor at that depth?"""
    if page.depth != source.depth:
        return False
    keys = dict(
        Page.objects.filter(
            path__in=chain_paths(page.path)[:-1] + chain_paths(source.path)[:-1]
        ).values_list("path", "translation_key")
    )
    return all(
        keys.get(mine) is not None and keys.get(mine) == keys.get(theirs)
        for mine, theirs in zip(
            chain_paths(page.path)[:-1], chain_paths(source.path)[:-1], strict=True
        )
    )


@dataclass(frozen=True)
class _OwnRule:
    """What audience_compile writes as a node's own columns (and what it compiles from)."""

    public: bool
    min_tier: Tier | None
    min_rank: int | None
    regions: Regions
    types: Regions
    grants: frozenset[int]
    exceptions: frozenset[int]
    source_id: int | None = None
    source_live: bool = True
    detached: bool = False
    translation_own: dict[str, Any] | None = None
    # A translation expires with its source (visible(translation) needs visible(source)).
    source_expire_at: datetime | None = None


_NOBODY = frozenset[int]()


def _translation_rule(
    raw: dict[str, Any], source: Page | None, placed: bool, parents: dict[int, int | None]
) -> _OwnRule:
    """A translation's compiled own rule from its own fields (``raw``) and its source's row:
    its fields AND the source's own rule, the source's grants and exceptions; admits nobody
    when detached (misplaced, or its source has no compiled audience)."""
    source_row = PageAudience.objects.filter(page_id=source.pk).first() if source else None
    if source is None or source_row is None or not placed:
        return _OwnRule(
            public=False,
            min_tier=None,
            min_rank=None,
            regions=_NOBODY,
            types=None,
            grants=frozenset(),
            exceptions=frozenset(),
            detached=True,
            translation_own=raw,
        )
    tiers = {
        t.pk: t for t in Tier.objects.filter(pk__in=[raw["min_tier"], source_row.own_min_tier_id])
    }
    mine_tier = tiers.get(raw["min_tier"])
    mine = Effective(
        raw["public"],
        mine_tier.rank if mine_tier else None,
        frozenset(raw["regions"]) or None,
        frozenset(raw["types"]) or None,
    )
    both = intersect_own(mine, _own_effective(source_row), parents)
    # The tier whose rank the combined rule keeps (a rank change recompiles: recompute_all).
    min_tier = None
    if both.min_rank is not None:
        min_tier = next(
            (t for t in tiers.values() if t.rank == both.min_rank),
            None,
        )
    return _OwnRule(
        public=both.public,
        min_tier=min_tier,
        min_rank=both.min_rank,
        regions=both.regions,
        types=both.types,
        grants=parse_tokens(source_row.own_grants) or frozenset(),
        exceptions=parse_tokens(source_row.own_exceptions) or frozenset(),
        source_id=source.pk,
        source_live=source.live,
        translation_own=raw,
        source_expire_at=source.expire_at,
    )


def _raw_own(page: Page) -> dict[str, Any]:
    """A page's own audience fields (not its grants: a translation takes its source's)."""
    return {
        "public": bool(page.audience_public),
        "min_tier": page.audience_min_tier_id,
        "regions": sorted(r.pk for r in page.audience_regions.all()),
        "types": sorted(t.pk for t in page.audience_partner_types.all()),
    }


def _write_row(page: Page, rule: _OwnRule, parents: dict[int, int | None]) -> PageAudience:
    """Save a node's compiled row from its own rule and re-derive its subtree."""
    ancestor = _nearest_ancestor_row(page)
    own_expire_at = _earliest(page.expire_at, rule.source_expire_at)
    eff_expire_at = _earliest(own_expire_at, ancestor.eff_expire_at if ancestor else None)
    eff = combine(
        _effective_of(ancestor) if ancestor else UNRESTRICTED,
        public=rule.public,
        min_rank=rule.min_rank,
        regions=rule.regions,
        types=rule.types,
        parents=parents,
        grants=rule.grants,
        exceptions=rule.exceptions,
    )
    row, _ = PageAudience.objects.update_or_create(
        page_id=page.pk,
        defaults={
            "own_public": rule.public,
            "own_min_tier": rule.min_tier,
            "own_min_rank": rule.min_rank,
            "own_regions": _encode(rule.regions),
            "own_types": _encode(rule.types),
            "own_grants": tokens(rule.grants),
            "own_exceptions": tokens(rule.exceptions),
            "source_id": rule.source_id,
            "source_live": rule.source_live,
            "detached": rule.detached,
            "translation_own": rule.translation_own,
            "own_expire_at": own_expire_at,
            "eff_expire_at": eff_expire_at,
            **dict(zip(EFFECTIVE_FIELDS, _effective_columns(eff), strict=True)),
        },
    )
    _recompute_subtree(page.path, page.depth, eff, parents, eff_expire_at)
    return row


@transaction.atomic
def audience_compile(*, page: Page) -> PageAudience:
    """Compile a page's live audience fields (and its subtree's effective rules) into PageAudience.

    Called on every full save of an AudienceMixin page (publish, create, import), not on
    ``save_revision`` so a draft's audience never leaks into what partners see.

    A translation (a page whose group has a page in the default locale: its source) compiles
    its own fields AND its source's own rule, with its source's grants and exceptions, so
    ``visible(translation) = visible(source) AND own rule AND visible(parent)`` holds in every
    form that reads the compiled rows; a source recompiles its translations.
    """
    parents = region_ancestry()
    source = translation_source_of(page)
    if source is not None:
        rule = _translation_rule(_raw_own(page), source, _parallel(page, source), parents)
        return _write_row(page, rule, parents)
    tier = page.audience_min_tier
    own_grants, own_exceptions = _own_organization_tokens(page.pk)
    rule = _OwnRule(
        public=page.audience_public,
        min_tier=tier,
        min_rank=tier.rank if tier else None,
        regions=frozenset(r.pk for r in page.audience_regions.all()) or None,
        types=frozenset(t.pk for t in page.audience_partner_types.all()) or None,
        grants=own_grants,
        exceptions=own_exceptions,
    )
    row = _write_row(page, rule, parents)
    _translations_recompile(source=page, parents=parents)
    return row


def _translations_recompile(*, source: Page, parents: dict[int, int | None]) -> None:
    """Recompile the translations of ``source`` after its rule, grants or liveness changed
    (from each translation's stored own fields: no page object is loaded)."""
    translations = list(
        Page.objects.filter(translation_key=source.translation_key)
        .exclude(pk=source.pk)
        .filter(audience__isnull=False)
        .select_related("audience")
    )
    for translation in translations:
        row = translation.audience
        raw = row.translation_own
        if raw is None:  # compiled before it was known as a translation: from its fields
            specific = translation.specific
            if not hasattr(specific, "audience_public"):
                continue
            raw = _raw_own(specific)
        rule = _translation_rule(raw, source, _parallel(translation, source), parents)
        _write_row(translation, rule, parents)


def audience_follow_source(*, page: Page) -> int:
    """Make the translations of ``page`` follow its liveness (``source_live``), in the caller's
    transaction; returns how many rows changed. Called on every full save of a source, also
    one that only unpublishes it (which compiles nothing)."""
    from .signals import audience_recomputed

    rows = list(PageAudience.objects.filter(source_id=page.pk).exclude(source_live=page.live))
    for row in rows:
        row.source_live = page.live
        # save(): post_save tells search to reindex the translation's subtree.
        row.save(update_fields=["source_live", "updated_at"])
        audience_recomputed.send(sender=PageAudience, root_page_id=row.page_id)
    return len(rows)


def _recompute_rows(
    rows: list[PageAudience],
    base: dict[str, tuple[Effective, datetime | None]],
    parents: dict[int, int | None],
) -> None:
    """Recompute effective rules and expiry of ``rows`` (sorted by path) top-down and save the
    changes; ``base``: the effective rule and expiry above them, by path."""
    by_path = dict(base)
    changed = []
    for row in rows:
        path = row.page.path
        parent_eff, parent_expire_at = UNRESTRICTED, None
        for depth in range(len(path) // Page.steplen - 1, 0, -1):
            prefix = path[: Page.steplen * depth]
            if prefix in by_path:
                parent_eff, parent_expire_at = by_path[prefix]
                break
        eff = combine(
            parent_eff,
            public=row.own_public,
            min_rank=row.own_min_rank,
            regions=parse_tokens(row.own_regions),
            types=parse_tokens(row.own_types),
            parents=parents,
            grants=parse_tokens(row.own_grants) or frozenset(),
            exceptions=parse_tokens(row.own_exceptions) or frozenset(),
        )
        expire_at = _earliest(row.own_expire_at, parent_expire_at)
        by_path[path] = (eff, expire_at)
        new = (*_effective_columns(eff), expire_at)
        if new != tuple(getattr(row, name) for name in _RECOMPUTED_FIELDS):
            for name, value in zip(_RECOMPUTED_FIELDS, new, strict=True):
                setattr(row, name, value)
            changed.append(row)
    PageAudience.objects.bulk_update(changed, _RECOMPUTED_FIELDS, batch_size=500)


_RECOMPUTED_FIELDS = [*EFFECTIVE_FIELDS, "eff_expire_at"]


def _recompute_subtree(
    path: str,
    depth: int,
    eff: Effective,
    parents: dict[int, int | None],
    expire_at: datetime | None,
) -> None:
    rows = list(
        PageAudience.objects.filter(page__path__startswith=path, page__depth__gt=depth)
        .select_related("page")
        .only("page__path", *[f.name for f in PageAudience._meta.concrete_fields])
        .order_by("page__path")
    )
    _recompute_rows(rows, {path: (eff, expire_at)}, parents)


def _translation_rows_recompile(
    rows: Iterable[PageAudience], parents: dict[int, int | None]
) -> None:
    """Recompile translation rows from their stored own fields and their source now (after a
    move, a tier's rank or a region's parent changed: placement and the combined rule may
    differ). Sources are looked up afresh: a row may have been detached."""
    for row in sorted(rows, key=lambda r: r.page.path):
        page = row.page
        source = translation_source_of(page)
        raw = row.translation_own or {"public": False, "min_tier": None, "regions": [], "types": []}
        placed = source is not None and _parallel(page, source)
        _write_row(page, _translation_rule(raw, source, placed, parents), parents)


@transaction.atomic
def audience_recompute_subtree(*, page: Page) -> None:
    """Re-derive the effective rules of ``page`` and everything below it (after a move), and
    recompile the translations inside it or of a source inside it (their placement changed)."""
    row = PageAudience.objects.filter(page_id=page.pk).first()
    parents = region_ancestry()
    if row is None:
        ancestor = _nearest_ancestor_row(page)
        _recompute_subtree(
            page.path,
            page.depth,
            _effective_of(ancestor) if ancestor else UNRESTRICTED,
            parents,
            ancestor.eff_expire_at if ancestor else None,
        )
    else:
        rows = list(
            PageAudience.objects.filter(page__path__startswith=page.path)
            .select_related("page")
            .order_by("page__path")
        )
        ancestor = _nearest_ancestor_row(page)
        above = (
            (_effective_of(ancestor), ancestor.eff_expire_at) if ancestor else (UNRESTRICTED, None)
        )
        _recompute_rows(rows, {page.path[: -Page.steplen]: above}, parents)
    translations = PageAudience.objects.filter(
        models.Q(page__path__startswith=page.path, translation_own__isnull=False)
        | models.Q(source__path__startswith=page.path)
    ).select_related("page")
    _translation_rows_recompile(list(translations), parents)


@transaction.atomic
def audience_translations_adopt() -> int:
    """Compile as translations the rows of translation pages compiled before translations
    shared their source's audience (a database migrated from an earlier release); idempotent,
    one query when there is nothing to do. Run after every ``migrate`` (apps.py)."""
    default = Locale.get_default()
    rows = list(
        PageAudience.objects.filter(translation_own__isnull=True, detached=False)
        .exclude(page__locale=default)
        .filter(
            page__translation_key__in=Page.objects.filter(locale=default).values("translation_key")
        )
        .select_related("page")
    )
    parents = region_ancestry()
    for row in sorted(rows, key=lambda r: r.page.path):
        specific = row.page.specific
        if not hasattr(specific, "audience_public"):
            continue
        source = translation_source_of(specific)
        placed = source is not None and _parallel(specific, source)
        _sync_page_guardian(specific, _own_access(specific, True))
        _write_row(
            specific, _translation_rule(_raw_own(specific), source, placed, parents), parents
        )
    return len(rows)


@transaction.atomic
def audience_recompute_all() -> int:
    """Re-derive every compiled audience (after a tier's rank or a region's parent changed)."""
    ranks = dict(Tier.objects.values_list("id", "rank"))
    rows = list(PageAudience.objects.select_related("page").order_by("page__path"))
    for row in rows:
        row.own_min_rank = ranks.get(row.own_min_tier_id) if row.own_min_tier_id else None
    PageAudience.objects.bulk_update(rows, ["own_min_rank"], batch_size=500)
    for row in rows:  # force a full rewrite of the effective columns
        row.eff_public = None  # type: ignore[assignment]  # never saved: differs from any value
    parents = region_ancestry()
    _recompute_rows(rows, {}, parents)
    # Translations combine their rule with their source's: recompiled from the fresh sources.
    _translation_rows_recompile([r for r in rows if r.translation_own is not None], parents)
    return len(rows)


# --- grants and exceptions ------------------------------------------------------------------


def _own_organization_tokens(page_id: int | None) -> tuple[frozenset[int], frozenset[int]]:
    """Guardian groups granted / excepted on exactly this page (from the guardian table)."""
    grants: set[int] = set()
    exceptions: set[int] = set()
    if page_id is not None:
        for group_id, codename in PageGroupObjectPermission.objects.filter(
            content_object_id=page_id, permission__codename__in=[GRANT_CODENAME, EXCEPTION_CODENAME]
        ).values_list("group_id", "permission__codename"):
            (grants if codename == GRANT_CODENAME else exceptions).add(group_id)
    return frozenset(grants), frozenset(exceptions)


def _page_permission(codename: str) -> Permission:
    return Permission.objects.get(
        codename=codename, content_type=ContentType.objects.get_for_model(Page)
    )


def _sync_guardian(*, page_id: int, codename: str, group_ids: Iterable[int]) -> bool:
    """Make the guardian rows of ``codename`` on the page exactly ``group_ids``; True if changed.

    The guardian rows are the published mirror of the page's grant/exception fields (the policy
    reads them); only ``audience_apply`` writes them.
    """
    wanted = set(group_ids)
    current = set(
        PageGroupObjectPermission.objects.filter(
            content_object_id=page_id, permission__codename=codename
        ).values_list("group_id", flat=True)
    )
    if wanted == current:
        return False
    base_page = Page(pk=page_id)
    permission = _page_permission(codename)
    for group_id in current - wanted:
        remove_perm(permission, Group(pk=group_id), base_page)
    for group_id in wanted - current:
        assign_perm(permission, Group(pk=group_id), base_page)
    return True


@transaction.atomic
def audience_set_organizations(
    *,
    page: Page,
    codename: str,
    organizations: Iterable[PartnerOrganization],
    source: str | None = None,
    user: User | None = None,
) -> None:
    """Set the organisations granted / excluded (``codename``) on ``page`` and apply it at once.

    A direct write for operators' tools, imports and tests: the page's field is saved and applied
    (guardian mirror, compiled audience, audit) without a revision or review. The admin never
    comes here: there grants and exceptions are fields of the revision, applied on publish.
    """
    if codename not in (GRANT_CODENAME, EXCEPTION_CODENAME):
        raise ValueError(f"unknown audience permission {codename!r}")
    specific = Page.objects.get(pk=page.pk).specific
    if translation_source_of(specific) is not None:
        raise ValueError(
            "grants and exceptions are set on the source page; they apply to its translations"
        )
    name = "audience_grants" if codename == GRANT_CODENAME else "audience_exceptions"
    wanted = list(organizations)
    source = source or AccessChange.Source.SYSTEM
    if {o.pk for o in getattr(specific, name).all()} == {o.pk for o in wanted}:
        # The field already says so; make sure the guardian mirror does too (idempotent).
        audience_apply(page=specific, force=True, source=source, user=user)
        return
    getattr(specific, name).set(wanted)
    # The save applies (AudienceMixin.save -> audience_apply): no argument crosses Page.save(),
    # so the attribution goes through access_change_source.
    with access_change_source(source=source, user=user):
        # update_fields names only the field: no other (draft) value of the page row moves.
        specific.save(update_fields=[name], clean=False)
    if not specific.live:
        audience_apply(page=specific, force=True, source=source, user=user)


@transaction.atomic
def audience_refresh_organizations(*, page: Page) -> None:
    """Mirror the page's guardian grants/exceptions into PageAudience and re-derive its subtree."""
    grants, exceptions = _own_organization_tokens(page.pk)
    updated = PageAudience.objects.filter(page_id=page.pk).update(
        own_grants=tokens(grants), own_exceptions=tokens(exceptions)
    )
    if updated:
        audience_recompute_subtree(page=page)
        _translations_recompile(source=page, parents=region_ancestry())


def audience_organizations(*, page: Page, codename: str) -> list[PartnerOrganization]:
    """The organisations holding ``codename`` on ``page`` as applied (published)."""
    group_ids = PageGroupObjectPermission.objects.filter(
        content_object_id=page.pk, permission__codename=codename
    ).values_list("group_id", flat=True)
    return list(PartnerOrganization.objects.filter(group_id__in=group_ids))


def audience_set_grants(*, page: Page, organizations: Iterable[PartnerOrganization]) -> None:
    audience_set_organizations(page=page, codename=GRANT_CODENAME, organizations=organizations)


def audience_set_exceptions(*, page: Page, organizations: Iterable[PartnerOrganization]) -> None:
    audience_set_organizations(page=page, codename=EXCEPTION_CODENAME, organizations=organizations)


# --- applying access on publish, and its audit ----------------------------------------------


@dataclass(frozen=True)
class AccessContext:
    source: str
    user: User | None = None


# Who is applying access outside the admin (an import, the demo seed) when the apply happens
# inside Page.save() (Wagtail's publish, add_child): set by ``access_change_source`` around the
# operation, read by ``audience_apply`` for the audit. Direct calls pass ``source`` instead.
# Ambient state like Wagtail's own LogContext (an asgiref Local) that attributes the admin's
# changes to the request user, scoped to a ``with`` block; it carries only who and why, never
# data that a form hands to a later hook: what is applied is always read from the page itself.
_access_context: ContextVar[AccessContext | None] = ContextVar("portal_access", default=None)


@contextmanager
def access_change_source(*, source: str, user: User | None = None) -> Iterator[None]:
    """Attribute the access changes applied inside the block to ``source`` (and ``user``)."""
    if source not in AccessChange.Source.values:
        raise ValueError(f"unknown access change source {source!r}")
    token = _access_context.set(AccessContext(source, user))
    try:
        yield
    finally:
        _access_context.reset(token)


def _attribution(
    page: Page, explicit: AccessContext | None
) -> tuple[str, Revision | None, User | None, User | None]:
    """(source, revision, requested_by, applied_by) of an apply happening now."""
    context = explicit or _access_context.get()
    if context is not None:
        return context.source, None, context.user, context.user
    # Inside Wagtail's publish the page's live_revision is the revision being published.
    revision = page.live_revision if page.live_revision_id else None
    requested_by = revision.user if revision is not None else None
    if revision is not None and revision.approved_go_live_at is not None:
        # publish_scheduled publishes a revision whose approved go-live time has come.
        return AccessChange.Source.SCHEDULED, revision, requested_by, None
    applied_by = get_active_log_context().user  # the admin request's user (Wagtail sets it)
    if applied_by is not None:
        return AccessChange.Source.ADMIN, revision, requested_by, applied_by
    return AccessChange.Source.SYSTEM, revision, requested_by, None


ACCESS_CHANGE_LOG_ACTION = "permissions.access_change"


@transaction.atomic
def audience_apply(
    *,
    page: Page,
    was_live: bool | None = None,
    force: bool = False,
    source: str | None = None,
    user: User | None = None,
) -> list[AccessChange]:
    """Make what partners see of ``page`` its own (published) access fields, and audit it.

    Called on every full save of an AudienceMixin page (``AudienceMixin.save``): Wagtail's
    publish (admin, workflow approval, scheduled publishing), imports and the demo. Syncs the
    guardian grants/exceptions from the page's fields, compiles PageAudience (subtree included)
    and, when anything changed, writes one AccessChange per change and one "Access changed"
    entry in the page's history, in this transaction.

    A page that is not live is left alone (its values are a draft or scheduled, applied when it
    goes live), except on its first save, which compiles it so that a subtree under a page
    never published is still bounded by that page's rule; ``force`` applies regardless (direct
    service writes).

    Parameters:
        page: the specific page object as saved (its field values are what is applied).
        was_live: whether the page was live before this save (None: as it is now). A page
            going live records its whole access, compared with ``DEFAULT_ACCESS``.
        force: apply even if the page is not live.
        source: who applies (an ``AccessChange.Source``) for a direct call, with ``user``;
            None: the enclosing ``access_change_source``, else Wagtail's publish context.

    Returns:
        The AccessChange rows written (empty when nothing changed).
    """
    if source is not None and source not in AccessChange.Source.values:
        raise ValueError(f"unknown access change source {source!r}")
    explicit = AccessContext(source, user) if source is not None else None
    # Translations follow their source's liveness at once, also when this save only
    # unpublishes (or expires) the source and compiles nothing.
    audience_follow_source(page=page)
    applied = access_state_applied(page_id=page.pk)
    translation = translation_source_of(page) is not None
    if not page.live and not force:
        if applied is None:
            _sync_page_guardian(page, _own_access(page, translation))
            audience_compile(page=page)
        return []
    if was_live is None:
        was_live = page.live
    after = _own_access(page, translation)
    before = applied if (applied is not None and was_live) else DEFAULT_ACCESS
    _sync_page_guardian(page, after)
    audience_compile(page=page)
    deltas = access_diff(before, after)
    if not deltas or not page.live:
        return []
    source, revision, requested_by, applied_by = _attribution(page, explicit)
    now = timezone.now()
    rows = AccessChange.objects.bulk_create(
        [
            AccessChange(
                page_id=page.pk,
                page_title=page.title[:255],
                field=delta.field,
                organization_id=delta.organization_id,
                organization_name=delta.organization_name,
                before=delta.before,
                after=delta.after,
                source=source,
                revision=revision,
                requested_by=requested_by,
                applied_by=applied_by,
                created_at=now,
            )
            for delta in deltas
        ]
    )
    log(
        instance=page,
        action=ACCESS_CHANGE_LOG_ACTION,
        user=applied_by,
        revision=revision,
        data={
            "source": source,
            "requested_by": _user_label(requested_by),
            "changes": [
                {
                    "field": d.field,
                    "organization": d.organization_name or None,
                    "before": d.before,
                    "after": d.after,
                }
                for d in deltas
            ],
        },
        content_changed=False,
    )
    logger.info("Access of page %s changed (%s): %d change(s)", page.pk, source, len(deltas))
    return rows


def _own_access(page: Page, translation: bool) -> AccessState:
    """The access ``page``'s fields set. Grants and exceptions exist only on the source of a
    translation group (they apply to every translation): a translation's own are ignored, so
    a copied or edited grant on it can never open it to anyone its source hides from."""
    state = access_state_of(page)
    if translation:
        state = replace(state, grant_ids=frozenset(), exception_ids=frozenset())
    return state


def _user_label(user: AbstractUser | None) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def _sync_page_guardian(page: Page, state: AccessState) -> None:
    group_ids = dict(
        PartnerOrganization.objects.filter(
            pk__in=state.grant_ids | state.exception_ids
        ).values_list("id", "group_id")
    )
    changed = _sync_guardian(
        page_id=page.pk,
        codename=GRANT_CODENAME,
        group_ids=[group_ids[o] for o in state.grant_ids if o in group_ids],
    )
    changed |= _sync_guardian(
        page_id=page.pk,
        codename=EXCEPTION_CODENAME,
        group_ids=[group_ids[o] for o in state.exception_ids if o in group_ids],
    )
    if changed:
        logger.debug("guardian mirror of page %s updated", page.pk)


# --- tiers, regions, partner types ----------------------------------------------------------


M = TypeVar("M", Tier, Region, PartnerType)


@dataclass(frozen=True)
class Upserted(Generic[M]):
    """What an upsert of a tier, region or partner type did.

    ``audiences_stale`` is True when compiled audiences read something that changed (an existing
    tier's rank, a region's place in the tree): the caller re-derives them with
    ``audience_recompute_all`` once, after its last change.
    """

    instance: M
    created: bool
    audiences_stale: bool = False


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP
"""``region_upsert(parent=KEEP)``: leave the parent as it is (a new region has none)."""


def _save_validated(instance: models.Model, changed: bool) -> None:
    # A row that is already as asked is not written again (no signals, no search update).
    if changed:
        instance.full_clean()
        instance.save()


@transaction.atomic
def tier_upsert(*, key: str, name: str, rank: int, displace: bool = False) -> Upserted[Tier]:
    """Create or update the tier ``key`` (validated with full_clean).

    Ranks are unique, so tiers that trade ranks (gold 2→1, silver 1→2) would collide half-way.
    With ``displace`` a tier holding ``rank`` first steps aside above every rank in use; the
    caller then upserts that tier with its own new rank (import_bundle does so for a bundle's
    tiers, whose ranks it has checked to be unique). Without it the collision is a
    ValidationError.

    Raises:
        ValidationError: an invalid key or name, or (without ``displace``) a rank in use.
    """
    found = Tier.objects.filter(key=key).first()
    created = found is None
    stale = found is not None and found.rank != rank
    if displace:
        holder = Tier.objects.filter(rank=rank).exclude(key=key).first()
        if holder is not None:
            top = Tier.objects.aggregate(top=models.Max("rank"))["top"] or 0
            holder.rank = max(top, rank) + 1
            holder.save(update_fields=["rank"])
            stale = True
    tier = Tier(key=key) if found is None else found
    changed = created or (tier.name, tier.rank) != (name, rank)
    tier.name, tier.rank = name, rank
    _save_validated(tier, changed)
    return Upserted(tier, created, stale)


@transaction.atomic
def region_upsert(*, key: str, name: str, parent: Region | None | _Keep = KEEP) -> Upserted[Region]:
    """Create or update the region ``key`` (validated with full_clean).

    ``parent`` KEEP leaves the parent as it is, so a caller whose parent region does not exist
    yet (it comes later in a bundle) upserts every region first and sets the parents in a second
    round. A changed parent (also a first parent of a new region) makes ``audiences_stale``:
    an audience for a region covers its sub-regions.

    Raises:
        ValidationError: an invalid key or name.
    """
    found = Region.objects.filter(key=key).first()
    created = found is None
    region = Region(key=key) if found is None else found
    parent_id = region.parent_id if parent is KEEP else (parent.pk if parent else None)
    moved = region.parent_id != parent_id
    changed = created or moved or region.name != name
    region.name, region.parent_id = name, parent_id
    _save_validated(region, changed)
    return Upserted(region, created, moved)


@transaction.atomic
def partner_type_upsert(*, key: str, name: str) -> Upserted[PartnerType]:
    """Create or update the partner type ``key`` (validated with full_clean).

    Raises:
        ValidationError: an invalid key or name.
    """
    found = PartnerType.objects.filter(key=key).first()
    created = found is None
    partner_type = PartnerType(key=key) if found is None else found
    changed = created or partner_type.name != name
    partner_type.name = name
    _save_validated(partner_type, changed)
    return Upserted(partner_type, created)


# --- organisations, users, memberships ------------------------------------------------------


def organization_group(*, key: str) -> Group:
    group, _ = Group.objects.get_or_create(name=f"partner-org:{key}")
    return group


#: The organisation fields an operator edits (the admin snippet form, imports, the demo).
ORGANIZATION_FIELDS = (
    "key",
    "name",
    "tier",
    "region",
    "partner_type",
    "country",
    "status",
    "logo",
    "primary_color",
    "secondary_color",
    "contact_name",
    "contact_phone",
    "contact_email",
    "contact_web",
    "contact_block",
)

#: What a co-brand render shows of an organisation: a change to any of these bumps
#: ``brand_kit_version`` (renders are cached per brand-kit version) and is audited.
BRAND_KIT_FIELDS = (
    "name",
    "logo",
    "primary_color",
    "secondary_color",
    "contact_name",
    "contact_phone",
    "contact_email",
    "contact_web",
    "contact_block",
)


def _brand_kit_of(organization: PartnerOrganization) -> dict[str, Any]:
    """The brand-kit values as stored (the logo by its file name)."""
    values = {name: getattr(organization, name) for name in BRAND_KIT_FIELDS if name != "logo"}
    values["logo"] = organization.logo.name if organization.logo else ""
    return values


def _stored_brand_kit(organization: PartnerOrganization) -> dict[str, Any] | None:
    """The brand kit as the database holds it (None for a new organisation).

    Read from the row, not the instance: a ModelForm (the admin) has already put the new values
    on the instance when the service is called. The row is locked so two concurrent edits bump
    the version twice rather than both writing the same number.
    """
    if organization.pk is None:
        return None
    stored: dict[str, Any] | None = (
        PartnerOrganization.objects.select_for_update()
        .filter(pk=organization.pk)
        .values(*BRAND_KIT_FIELDS, "brand_kit_version")
        .first()
    )
    if stored is None:
        return None
    stored["logo"] = stored["logo"] or ""
    return stored


def _brand_kit_diff(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The changed brand-kit fields, as (before, after) dicts; logos by their base name."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name in BRAND_KIT_FIELDS:
        if (before.get(name) or "") != (after.get(name) or ""):
            if name == "logo":
                old[name] = (before[name] or "").rsplit("/", 1)[-1]
                new[name] = (after[name] or "").rsplit("/", 1)[-1]
            else:
                old[name] = before.get(name)
                new[name] = after.get(name)
    return old, new


def organization_change_record(
    *,
    organization: PartnerOrganization,
    action: str,
    actor: AbstractUser | None = None,
    subject_email: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> OrganizationChange:
    """Write one row of the organisation's audit trail (call inside the change's transaction)."""
    if action not in OrganizationChange.Action.values:
        raise ValueError(f"unknown organisation change {action!r}")
    authenticated = actor is not None and actor.is_authenticated
    return OrganizationChange.objects.create(
        organization=organization,
        # AbstractUser here is the AUTH_USER_MODEL (accounts.User), which permissions cannot
        # import (layers); the FK takes it.
        actor=actor if authenticated else None,  # type: ignore[misc]
        actor_email=(actor.email if authenticated and actor is not None else "") or "",
        action=action,
        subject_email=subject_email,
        before=before,
        after=after,
    )


def _brand_kit_audit(
    organization: PartnerOrganization,
    before: dict[str, Any] | None,
    actor: AbstractUser | None,
) -> bool:
    """After a save: bump the brand-kit version and audit the change if the kit changed.

    A logo change gets its own row (file names), the other fields one row with before/after.
    Returns whether the kit changed. A new organisation starts at version 1, unaudited.
    """
    if before is None:
        return False
    old, new = _brand_kit_diff(before, _brand_kit_of(organization))
    if not new:
        return False
    PartnerOrganization.objects.filter(pk=organization.pk).update(
        brand_kit_version=models.F("brand_kit_version") + 1
    )
    organization.brand_kit_version = before["brand_kit_version"] + 1
    if "logo" in new:
        organization_change_record(
            organization=organization,
            action=OrganizationChange.Action.LOGO,
            actor=actor,
            before={"logo": old.pop("logo")},
            after={"logo": new.pop("logo")},
        )
    if new:
        organization_change_record(
            organization=organization,
            action=OrganizationChange.Action.BRAND_KIT,
            actor=actor,
            before=old,
            after=new,
        )
    return True


def _organization_write(
    organization: PartnerOrganization,
    values: dict[str, Any],
    actor: AbstractUser | None = None,
) -> PartnerOrganization:
    """Set ``values`` (None: unchanged) on ``organization``, validate and save it.

    Every path that saves an organisation comes here (the admin, imports, the demo, the
    portal's organisation page), so this is where a brand-kit change bumps
    ``brand_kit_version`` and is audited (``_brand_kit_audit``). A replaced logo's old file is
    deleted once the transaction commits; a failed save deletes the newly stored file.
    """
    before = _stored_brand_kit(organization)
    for name, value in values.items():
        if value is None:
            continue
        if name == "logo":
            # As a ModelForm does: a file is stored on save, False clears, a stored file stays.
            PartnerOrganization._meta.get_field("logo").save_form_data(organization, value)
        else:
            setattr(organization, name, value)
    if organization.group_id is None:
        # Every organisation is a guardian principal: grants and exceptions name its group.
        organization.group = organization_group(key=organization.key)
    if before is not None:
        # The counter is the row's (locked above), never a stale copy on the instance.
        organization.brand_kit_version = before["brand_kit_version"]
    organization.full_clean()
    logo_before = organization.logo.name if organization.logo else ""
    try:
        organization.save()
    except BaseException:
        stored = organization.logo.name if organization.logo else ""
        if stored and stored != logo_before and stored != (before or {}).get("logo"):
            organization.logo.storage.delete(stored)
        raise
    _brand_kit_audit(organization, before, actor)
    old_logo = (before or {}).get("logo") or ""
    new_logo = organization.logo.name if organization.logo else ""
    if old_logo and old_logo != new_logo:
        storage = organization.logo.storage
        transaction.on_commit(lambda: storage.delete(old_logo))
    return organization


@transaction.atomic
def organization_create(
    *,
    key: str,
    name: str,
    tier: Tier,
    region: Region,
    partner_type: PartnerType,
    country: str,
    status: str | None = None,
    logo: UploadedFile | Literal[False] | None = None,
    primary_color: str | None = None,
    secondary_color: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
    contact_web: str | None = None,
    contact_block: str | None = None,
    actor: AbstractUser | None = None,
) -> PartnerOrganization:
    """Create an organisation and its guardian group (validated with full_clean).

    Values left as None take the model's defaults (active, the default brand colours, no
    contact block). ``logo`` is an uploaded file (checked by the field's content validator and
    stored in the organisation's residency bucket on save), as the admin form hands it over.
    """
    return _organization_write(
        PartnerOrganization(key=key),
        {
            "name": name,
            "tier": tier,
            "region": region,
            "partner_type": partner_type,
            "country": country,
            "status": status,
            "logo": logo,
            "primary_color": primary_color,
            "secondary_color": secondary_color,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "contact_email": contact_email,
            "contact_web": contact_web,
            "contact_block": contact_block,
        },
        actor,
    )


@transaction.atomic
def organization_update(
    *,
    organization: PartnerOrganization,
    key: str | None = None,
    name: str | None = None,
    tier: Tier | None = None,
    region: Region | None = None,
    partner_type: PartnerType | None = None,
    country: str | None = None,
    status: str | None = None,
    logo: UploadedFile | Literal[False] | None = None,
    primary_color: str | None = None,
    secondary_color: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
    contact_web: str | None = None,
    contact_block: str | None = None,
    actor: AbstractUser | None = None,
) -> PartnerOrganization:
    """Change an organisation (validated with full_clean); values left as None are kept.

    ``logo``: an uploaded file replaces the logo, False removes it. A changed ``status`` takes
    effect on the members' very next request (see ``organization_set_status``). The guardian
    group keeps its name when the key changes (grants and exceptions refer to the group).
    """
    return _organization_write(
        organization,
        {
            "key": key,
            "name": name,
            "tier": tier,
            "region": region,
            "partner_type": partner_type,
            "country": country,
            "status": status,
            "logo": logo,
            "primary_color": primary_color,
            "secondary_color": secondary_color,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "contact_email": contact_email,
            "contact_web": contact_web,
            "contact_block": contact_block,
        },
        actor,
    )


@transaction.atomic
def organization_upsert(
    *,
    key: str,
    name: str,
    tier: Tier,
    region: Region,
    partner_type: PartnerType,
    country: str,
    status: str | None = None,
    contact_block: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
    contact_web: str | None = None,
    primary_color: str | None = None,
    secondary_color: str | None = None,
) -> PartnerOrganization:
    """Create or update an organisation by ``key`` (imports and the demo).

    ``status`` None keeps the current status (new organisations start active), so an update that
    does not mention it never re-activates a suspended partner. Empty colours are kept too;
    the contact fields left as None are kept (an import without them changes none of them).
    """
    values: dict[str, Any] = {
        "name": name,
        "tier": tier,
        "region": region,
        "partner_type": partner_type,
        "country": country.upper(),
        "status": status,
        "contact_block": contact_block,
        "contact_name": contact_name,
        "contact_phone": contact_phone,
        "contact_email": contact_email,
        "contact_web": contact_web,
        "primary_color": primary_color or None,
        "secondary_color": secondary_color or None,
    }
    organization = PartnerOrganization.objects.filter(key=key).first()
    if organization is None:
        return organization_create(key=key, **values)
    return organization_update(organization=organization, **values)


STAFF_GROUPS = {"editor": "Editors", "moderator": "Moderators", "marketer": "Marketers"}


@transaction.atomic
def user_upsert(
    *,
    email: str,
    password: str | None,
    first_name: str | None = None,
    last_name: str | None = None,
    preferred_language: str | None = None,
    time_zone: str | None = None,
    organization: PartnerOrganization | None = None,
    role: str = Membership.Role.MEMBER,
    staff_role: str | None = None,
) -> User:
    """Create or update a user with either an organisation membership or a staff role.

    Profile fields left as None keep their current value. Partner users are never superusers;
    a user with neither an organisation nor a staff role loses any membership.
    """
    if organization is not None and staff_role:
        raise ValueError("a user belongs to an organisation or has a staff role, not both")
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first() or User(email=email.lower())
    for name, value in (
        ("first_name", first_name),
        ("last_name", last_name),
        ("preferred_language", preferred_language),
        ("time_zone", time_zone),
    ):
        if value is not None:
            setattr(user, name, value)
    user.is_staff = bool(staff_role)
    user.is_superuser = False if not staff_role else user.is_superuser
    if password:
        user.set_password(password)
    elif not user.pk:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if staff_role:
        if staff_role not in STAFF_GROUPS:
            raise ValueError(f"unknown staff role {staff_role!r}")
        Membership.objects.filter(user=user).delete()
        user.groups.set([Group.objects.get(name=STAFF_GROUPS[staff_role])])
    else:
        user.groups.clear()
        if organization is not None:
            membership_set(user=user, organization=organization, role=role)
        else:
            Membership.objects.filter(user=user).delete()
    return user


@transaction.atomic
def membership_set(*, user: User, organization: PartnerOrganization, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ValueError(f"unknown role {role!r}")
    membership, _ = Membership.objects.update_or_create(
        user=user, defaults={"organization": organization, "role": role}
    )
    return membership


class MemberRuleError(ValueError):
    """A member change refused by the organisation's rules; ``str(exc)`` is user-readable."""


def _active_admins(organization: PartnerOrganization) -> models.QuerySet[Membership]:
    return Membership.objects.filter(
        organization=organization, role=Membership.Role.ADMIN, user__is_active=True
    )


def _lock_organization(organization: PartnerOrganization) -> None:
    """Serialise member changes of one organisation: the last-admin check and the change it
    guards must not interleave with another admin's change (two admins demoting each other)."""
    PartnerOrganization.objects.select_for_update().filter(pk=organization.pk).first()


def _leaves_an_admin(membership: Membership) -> bool:
    """Would the organisation still have an active admin without ``membership``'s admin role?"""
    return _active_admins(membership.organization).exclude(pk=membership.pk).exists()


@transaction.atomic
def member_role_change(*, membership: Membership, role: str, actor: AbstractUser) -> Membership:
    """Make a member an admin or an admin a member (audited).

    Raises:
        MemberRuleError: the change would leave the organisation without an active admin.
    """
    if role not in Membership.Role.values:
        raise MemberRuleError(gettext("Unknown role."))
    _lock_organization(membership.organization)
    membership.refresh_from_db()
    if membership.role == role:
        return membership
    if (
        membership.role == Membership.Role.ADMIN
        and membership.user.is_active
        and not _leaves_an_admin(membership)
    ):
        raise MemberRuleError(
            gettext("%(email)s is the organisation's last admin: make someone else an admin first.")
            % {"email": membership.user.email}
        )
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    organization_change_record(
        organization=membership.organization,
        action=OrganizationChange.Action.ROLE,
        actor=actor,
        subject_email=membership.user.email,
        before={"role": before},
        after={"role": role},
    )
    return membership


@transaction.atomic
def member_set_active(*, membership: Membership, active: bool, actor: AbstractUser) -> Membership:
    """Deactivate or reactivate a member's account (audited).

    A deactivated account cannot log in, and its open sessions stop working on their next
    request: Django's ModelBackend gives no user for an inactive account (``get_user``), so
    the session is anonymous from then on, whatever the session engine.

    Raises:
        MemberRuleError: an admin deactivating themselves, or the organisation's last active
            admin being deactivated.
    """
    _lock_organization(membership.organization)
    membership.refresh_from_db()
    user = membership.user
    user.refresh_from_db(fields=["is_active"])
    if user.is_active == active:
        return membership
    if not active:
        if actor is not None and user.pk == actor.pk:
            raise MemberRuleError(gettext("You cannot deactivate your own account."))
        if membership.role == Membership.Role.ADMIN and not _leaves_an_admin(membership):
            raise MemberRuleError(
                gettext("%(email)s is the organisation's last admin and cannot be deactivated.")
                % {"email": user.email}
            )
    user.is_active = active
    user.save(update_fields=["is_active"])
    organization_change_record(
        organization=membership.organization,
        action=(
            OrganizationChange.Action.REACTIVATE if active else OrganizationChange.Action.DEACTIVATE
        ),
        actor=actor,
        subject_email=user.email,
        before={"active": not active},
        after={"active": active},
    )
    return membership


@transaction.atomic
def organization_set_status(*, organization: PartnerOrganization, status: str) -> None:
    """Suspend or re-activate. Takes effect on the members' very next request (the policy reads
    the status on every request), so a suspension locks everyone out at once."""
    organization.status = status
    organization.full_clean()
    organization.save(update_fields=["status", "updated_at"])


def audience_dimension_in_use(*, instance: Region | PartnerType) -> int:
    """How many pages name this region/type in their own audience.

    Deleting such a row would silently drop it from those audiences and *widen* them (an empty
    region list means "all regions"), so deletion is refused while this is non-zero.
    """
    column = "own_regions" if isinstance(instance, Region) else "own_types"
    return PageAudience.objects.filter(**{f"{column}__contains": f"|{instance.pk}|"}).count()


def organization_set_logo(
    *,
    organization: PartnerOrganization,
    name: str,
    content: bytes,
    stored: StoredPaths | None = None,
    actor: AbstractUser | None = None,
) -> PartnerOrganization:
    """Check a logo by its content, store it in the organisation's residency bucket and point
    the brand kit at it. The previous logo object is deleted once the row is saved.

    Raises:
        files.validation.UploadRejected: the file was refused; nothing was stored.
    """
    from django.core.files.base import ContentFile

    from files.validation import validate_upload

    name = validate_upload(name=name, content=content, kind="logo")
    with transaction.atomic():
        before = _stored_brand_kit(organization)
        old = organization.logo.name if organization.logo else ""
        organization.logo.save(name, ContentFile(content), save=False)
        if stored is not None:
            stored.paths.append(organization.logo.name)
        try:
            organization.save(update_fields=["logo", "updated_at"])
        except BaseException:
            organization.logo.storage.delete(organization.logo.name)
            raise
        _brand_kit_audit(organization, before, actor)
        if old and old != organization.logo.name:
            storage = organization.logo.storage
            transaction.on_commit(lambda: storage.delete(old))
    return organization


# --- review: the approval workflow ------------------------------------------------------------

APPROVAL_WORKFLOW = "Approval"
APPROVAL_TASK = "Approval by Moderators"


@transaction.atomic
def approval_workflow_ensure(*, roots: Iterable[Page]) -> Workflow:
    """Make sure the "Approval" workflow (one group-approval task for Moderators) exists and is
    assigned to each of ``roots`` (the portal homes, i.e. the library trees); idempotent.

    Migration permissions/0006 does the same for homes that exist when it runs; this covers
    homes created later (``kb.services.site_structure_ensure``).
    """
    moderators, _ = Group.objects.get_or_create(name="Moderators")
    task = GroupApprovalTask.objects.filter(name=APPROVAL_TASK).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=APPROVAL_TASK)
    task.groups.add(moderators)
    workflow = Workflow.objects.filter(name=APPROVAL_WORKFLOW).first()
    if workflow is None:
        workflow = Workflow.objects.create(name=APPROVAL_WORKFLOW, active=True)
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    for root in roots:
        if not WorkflowPage.objects.filter(page_id=root.pk).exists():
            WorkflowPage.objects.create(page_id=root.pk, workflow=workflow)
    return workflow
