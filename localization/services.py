"""Translation workflow services (wagtail-localize): content locales and regional marketers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import GroupPagePermission, Locale, Page, Site

from .models import MarketerScope

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

    from permissions.models import Region

# The role group: every regional marketer belongs to it (it holds admin access and nothing on
# pages). permissions.services.user_upsert(staff_role="marketer") puts a user in it.
MARKETERS_GROUP = "Marketers"
# One group per content locale; its page permissions are what limits a marketer to that locale's
# tree. permissions.policies.principal recognises these groups by this prefix and reads the
# locales from the pages they hold permissions on (permissions never imports localization).
MARKETER_GROUP_FORMAT = "Marketers ({code})"
# What a marketer does on his locale's tree: create and edit pages, then submit them for review.
# Never publish, never lock/bypass (CLARIFICATIONS #2).
MARKETER_PAGE_PERMISSIONS = ("add_page", "change_page")
MARKETER_PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("wagtail_localize", "submit_translation"),
)


@transaction.atomic
def locales_ensure() -> list[Locale]:
    """Create a Locale for every configured content language (idempotent)."""
    return [
        Locale.objects.get_or_create(language_code=code)[0]
        for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES
    ]


def _locale(value: Locale | str) -> Locale:
    if isinstance(value, Locale):
        return value
    code = value.strip().lower()
    try:
        return Locale.objects.get(language_code__iexact=code)
    except Locale.DoesNotExist:
        raise ValueError(f"unknown content locale {value!r}") from None


def locale_home(*, locale: Locale) -> Page | None:
    """The portal home of ``locale``: the translation of the default site's root page (the
    source-locale home), or None while the site structure does not exist yet."""
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        return None
    home = site.root_page
    if home.locale_id == locale.pk:
        return home
    return home.get_translation_or_none(locale)


def _role_group() -> Group:
    group, _ = Group.objects.get_or_create(name=MARKETERS_GROUP)
    for app_label, codename in MARKETER_PERMISSIONS[:1]:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:
            group.permissions.add(permission)
    return group


@transaction.atomic
def marketer_group_ensure(*, locale: Locale | str) -> Group:
    """The Wagtail group of ``locale``'s marketers, created or completed (idempotent).

    It holds admin access, wagtail-localize's ``submit_translation`` and add/change (not
    publish, not lock) on that locale's portal home, i.e. its whole tree, and nothing on any
    other tree. When the locale has no home yet, the page permissions are added by the next
    call (``kb.services.site_structure_ensure`` ends with one per locale through the
    ``portal_site_structure_ensured`` hook).

    Raises:
        ValueError: ``locale`` is the default (source) locale, which Editors own, or unknown.
    """
    locale = _locale(locale)
    if locale.pk == Locale.get_default().pk:
        raise ValueError(
            f"{locale.language_code} is the source locale: its pages are edited by Editors"
        )
    group, _ = Group.objects.get_or_create(
        name=MARKETER_GROUP_FORMAT.format(code=locale.language_code)
    )
    for app_label, codename in MARKETER_PERMISSIONS:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:
            group.permissions.add(permission)
    home = locale_home(locale=locale)
    if home is not None:
        # Exactly these rows: a permission on another tree (or a publish/lock one) is removed.
        GroupPagePermission.objects.filter(group=group).exclude(
            page=home, permission__codename__in=MARKETER_PAGE_PERMISSIONS
        ).delete()
        for codename in MARKETER_PAGE_PERMISSIONS:
            permission = Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            )
            GroupPagePermission.objects.get_or_create(group=group, page=home, permission=permission)
    return group


@transaction.atomic
def marketer_set(
    *,
    user: AbstractUser,
    locales: Iterable[Locale | str],
    regions: Iterable[Region] | None = None,
) -> AbstractUser:
    """Make ``user`` a regional marketer of exactly ``locales`` (and, if given, ``regions``).

    The user becomes staff, joins the "Marketers" role group and the group of each locale, and
    leaves the groups of other locales; other groups (Editors, Moderators) are left alone.
    ``regions`` None keeps the stored regions; an empty iterable clears them (every region).

    Raises:
        ValueError: a locale is unknown or is the source locale.
    """
    wanted = [marketer_group_ensure(locale=value) for value in locales]
    prefix = MARKETER_GROUP_FORMAT.split("{")[0]
    current = user.groups.filter(name__startswith=prefix).exclude(name=MARKETERS_GROUP)
    user.groups.remove(*[group for group in current if group not in wanted])
    user.groups.add(_role_group(), *wanted)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    if regions is not None:
        scope, _ = MarketerScope.objects.get_or_create(user=user)
        scope.regions.set(list(regions))
    # A principal resolved earlier in this request no longer tells the truth.
    if hasattr(user, "_portal_principal"):
        delattr(user, "_portal_principal")
    return user
