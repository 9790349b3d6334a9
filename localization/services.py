"""Translation workflow services (wagtail-localize); the regional-marketer flows build on these.

A translation group is a page in the default locale (its *source*) and its copies in the other
content locales, which share its ``translation_key``. ``page_translation_create`` makes or updates
a copy the way wagtail-localize's Translate action does (a ``TranslationSource`` of the source,
translated strings in its translation memory, ``create_or_update_translation``), so the admin's
translation editor, PO/XLIFF files and "Sync translated pages" all see the same translation.
Imports (``import_bundle``) and the demo call it; the admin flow uses wagtail-localize's own views.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import transaction
from wagtail.models import Locale, Page
from wagtail_localize.models import (
    String,
    StringTranslation,
    TranslationContext,
    TranslationSource,
)
from wagtail_localize.models import (
    Translation as LocalizeTranslation,
)
from wagtail_localize.segments import StringSegmentValue, TemplateSegmentValue
from wagtail_localize.segments.extract import extract_segments

from kb.services import Audience, locales_ensure

__all__ = [
    "TranslationError",
    "locale_for",
    "locales_ensure",
    "page_translation_create",
    "page_translation_sync",
]

# Grants and exceptions belong to the source and apply to the whole group (CLARIFICATIONS 3).
SOURCE_ONLY_FIELDS = ("audience_grants", "audience_exceptions")


class TranslationError(ValueError):
    """A translation that cannot be made (the message says which page, which locale, and why)."""


def locale_for(code: str | Locale) -> Locale:
    """The content ``Locale`` of a language code given in any case (``pt-BR`` is ``pt-br``).

    Raises:
        TranslationError: no content locale has this code.
    """
    if isinstance(code, Locale):
        return code
    normalised = code.strip().lower().replace("_", "-")
    locale = Locale.objects.filter(language_code__iexact=normalised).first()
    if locale is None:
        known = ", ".join(
            Locale.objects.order_by("language_code").values_list("language_code", flat=True)
        )
        raise TranslationError(f'unknown locale "{code}" (content locales: {known})')
    return locale


@transaction.atomic
def page_translation_create(
    *,
    source: Page,
    locale: str | Locale,
    fields: dict[str, Any] | None = None,
    audience: Audience | None = None,
    publish: bool = False,
    user=None,
) -> Page:
    """Create or update the translation of ``source`` into ``locale`` through wagtail-localize.

    The translation is placed under the translation of the source's parent in ``locale``. The
    given ``fields`` (translated values: ``title``, ``summary``, ``body``, ...) are stored in
    wagtail-localize's translation memory wherever they line up with the source's segments (the
    translation editor then shows them, and a later sync keeps them); a value that does not line
    up (a rich text with another paragraph structure) is written to the page as it is. Texts not
    given keep their earlier translation, or the source's text for a new translation.

    ``audience`` is the translation's *own* rule (tier, regions, types, public), which can only
    narrow the source's: what partners see of a translation is also bounded by its source and
    its parent. None keeps an existing translation's own rule, and gives a new translation the
    source's (no narrowing). Grants and exceptions exist on the source only.

    Idempotent for (source, locale): a second call updates the same page; a call that changes
    nothing writes no revision. Without ``publish`` a live translation stays as it is and the
    change waits as a draft revision (the admin flow publishes only after review; imports
    publish, CLARIFICATIONS 1).

    Parameters:
        source: a page in the default locale.
        locale: the target locale or its language code (any case).
        fields: translated field values by field name.
        audience: the translation's own audience (no grants or exceptions).
        publish: publish the new revision.
        user: recorded on the revisions, translations and publish log.

    Returns:
        The translated page (specific).

    Raises:
        TranslationError: the source is itself a translation, the locale is unknown or the
            source's own, the source's parent has no translation in the locale, or grants or
            exceptions were given.
    """
    source = source.specific
    target = locale_for(locale)
    _check_translatable(source, target)
    fields = dict(fields or {})
    for name in SOURCE_ONLY_FIELDS:
        if name in fields:
            raise TranslationError(
                f'"{source.title}": {name} are set on the source and apply to every translation'
            )
    if audience is not None and (audience.grants or audience.exceptions):
        raise TranslationError(
            f'"{source.title}": grants and exceptions are set on the source and apply to every '
            "translation; a translation only narrows by tier, region or partner type"
        )
    translation_source = _source_refreshed(source)
    direct = _memory_store(translation_source, source, target, fields, user)
    LocalizeTranslation.objects.get_or_create(
        source=translation_source, target_locale=target, defaults={"enabled": True}
    )
    return _translation_write(
        translation_source, target, direct=direct, audience=audience, publish=publish, user=user
    )


@transaction.atomic
def page_translation_sync(*, source: Page, publish: bool = False, user=None) -> list[Page]:
    """Bring every existing translation of ``source`` up to its current content.

    The texts come from the translation memory (new or changed source texts fall back to the
    source's until translated); each translation keeps its own audience. Without ``publish``
    the result waits as a draft revision of each translation (to be reviewed), so a live
    translation never changes unseen.

    Returns:
        The translations brought up to date (specific pages), in locale order.
    """
    source = source.specific
    translation_source = _source_refreshed(source)
    pages = []
    for translation in (
        LocalizeTranslation.objects.filter(source=translation_source, enabled=True)
        .select_related("target_locale")
        .order_by("target_locale__language_code")
    ):
        if source.get_translation_or_none(translation.target_locale) is None:
            continue  # the copy was deleted; a new create_translation makes it again
        pages.append(
            _translation_write(
                translation_source,
                translation.target_locale,
                direct={},
                audience=None,
                publish=publish,
                user=user,
            )
        )
    return pages


# --- internals --------------------------------------------------------------------------------


def _check_translatable(source: Page, target: Locale) -> None:
    default = Locale.get_default()
    if source.locale_id != default.pk:
        raise TranslationError(
            f'"{source.title}" is in locale "{source.locale.language_code}": a translation\'s '
            f'source must be a page in the default locale "{default.language_code}" (a '
            "translation of a translation is not made)"
        )
    if target.pk == source.locale_id:
        raise TranslationError(
            f'"{source.title}" is already in locale "{target.language_code}": translate it into '
            "another locale"
        )
    parent = source.get_parent()
    if parent is None or parent.get_translation_or_none(target) is None:
        raise TranslationError(
            f'"{source.title}": its parent "{parent.title if parent else "-"}" has no translation '
            f'in "{target.language_code}"; translate the parent first'
        )


def _source_refreshed(source: Page) -> TranslationSource:
    translation_source, created = TranslationSource.get_or_create_from_instance(source)
    if not created:
        translation_source.update_from_db()
    return translation_source


def _segments_of(instance: Page, name: str) -> list:
    prefix = name + "."
    return [s for s in extract_segments(instance) if s.path == name or s.path.startswith(prefix)]


def _shape(segments: list) -> list[tuple]:
    shape = []
    for segment in segments:
        if isinstance(segment, StringSegmentValue):
            shape.append(("string", segment.path, segment.order))
        elif isinstance(segment, TemplateSegmentValue):
            shape.append(("template", segment.path, segment.template, segment.string_count))
        else:
            shape.append((type(segment).__name__, segment.path))
    return shape


def _memory_store(
    translation_source: TranslationSource,
    source: Page,
    target: Locale,
    fields: dict[str, Any],
    user,
) -> dict[str, Any]:
    """Store the translated ``fields`` as StringTranslations where their segments line up with
    the source's; return the ones that do not (written directly to the page)."""
    direct: dict[str, Any] = {}
    if not fields:
        return direct
    probe = translation_source.as_instance()
    for name, value in fields.items():
        setattr(probe, name, value)
    for name, value in fields.items():
        original = _segments_of(source, name)
        translated = _segments_of(probe, name)
        strings = [s for s in original if isinstance(s, StringSegmentValue)]
        if not strings or _shape(original) != _shape(translated):
            direct[name] = value
            continue
        for before, after in zip(
            strings, [s for s in translated if isinstance(s, StringSegmentValue)], strict=True
        ):
            context = TranslationContext.objects.get(
                object_id=translation_source.object_id, path=before.path
            )
            string = String.from_value(source.locale, before.string)
            current = StringTranslation.objects.filter(
                translation_of=string, locale=target, context=context
            ).first()
            if current is not None and current.data == after.string.data:
                continue
            StringTranslation.objects.update_or_create(
                translation_of=string,
                locale=target,
                context=context,
                defaults={
                    "data": after.string.data,
                    "translation_type": StringTranslation.TRANSLATION_TYPE_MANUAL,
                    "tool_name": "",
                    "last_translated_by": user,
                    "has_error": False,
                    "field_error": "",
                },
            )
    return direct


def _own_audience(page: Page) -> Audience:
    return Audience(
        min_tier=page.audience_min_tier,
        regions=list(page.audience_regions.all()),
        partner_types=list(page.audience_partner_types.all()),
        public=page.audience_public,
    )


def _audience_set(page: Page, audience: Audience) -> None:
    page.audience_public = audience.public
    page.audience_min_tier = audience.min_tier
    page.audience_regions = list(audience.regions)
    page.audience_partner_types = list(audience.partner_types)
    # Never copied from the source: the source's grants and exceptions govern the group.
    page.audience_grants = []
    page.audience_exceptions = []


def _translation_write(
    translation_source: TranslationSource,
    target: Locale,
    *,
    direct: dict[str, Any],
    audience: Audience | None,
    publish: bool,
    user,
) -> Page:
    source = translation_source.get_source_instance()
    existing = source.get_translation_or_none(target)
    if existing is None:
        # A new copy under the parent's translation, not live until its revision is published.
        page, _created = translation_source.create_or_update_translation(
            target, user=user, publish=False, fallback=True
        )
        page = Page.objects.get(pk=page.pk).specific
        wanted = audience if audience is not None else _own_audience(source)
    else:
        existing = existing.specific
        wanted = audience if audience is not None else _own_audience(existing)
        # The translation memory applied in memory only: the page row (what partners see of a
        # live page) changes when a revision is published, never by saving a draft.
        page = translation_source.get_ephemeral_translated_instance(target, fallback=True)
        if (
            existing.live
            and not existing.has_unpublished_changes
            and _state(_applied(page, direct, wanted)) == _state(existing)
        ):
            return existing
    _applied(page, direct, wanted)
    if existing is None:
        page.save()  # the own audience and direct texts on the draft copy (not live yet)
    revision = page.save_revision(user=user, log_action=True)
    if publish:
        revision.publish(user=user)
    page = Page.objects.get(pk=page.pk).specific
    return page


def _applied(page: Page, direct: dict[str, Any], audience: Audience) -> Page:
    for name, value in direct.items():
        setattr(page, name, value)
    _audience_set(page, audience)
    return page


# Page bookkeeping that differs between a translation and its in-memory update without the
# content having changed.
_BOOKKEEPING = {
    "id",
    "page_ptr",
    "path",
    "depth",
    "numchild",
    "url_path",
    "draft_title",
    "live",
    "has_unpublished_changes",
    "first_published_at",
    "last_published_at",
    "latest_revision_created_at",
    "live_revision",
    "latest_revision",
    "locked",
    "locked_at",
    "locked_by",
    "owner",
    "content_type",
    "translation_key",
    "locale",
    "alias_of",
    "expired",
}
_BLOCK_KEY = re.compile(r' data-block-key="[^"]*"')


def _state(page: Page) -> tuple:
    """A page's content and own audience as comparable values."""
    values: list[tuple] = []
    for field in page._meta.concrete_fields:
        if field.name in _BOOKKEEPING or field.name.endswith("_ptr"):
            continue
        value = field.get_prep_value(field.value_from_object(page))
        values.append((field.name, _comparable(value)))
    for name in ("audience_regions", "audience_partner_types"):
        values.append((name, tuple(sorted(row.pk for row in getattr(page, name).all()))))
    return tuple(values)


def _comparable(value: Any) -> Any:
    # Rich text and stream values get fresh block keys / ids each time they are built.
    if isinstance(value, str):
        stripped = _BLOCK_KEY.sub("", value)
        if stripped.startswith("[") and '"id"' in stripped:
            try:
                return _comparable(json.loads(stripped))
            except ValueError:
                return stripped
        return stripped
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    return value
