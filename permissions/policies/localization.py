"""Translations: who may edit, translate, upload localized files and publish in which locale.

Staff principals have roles (``principal.StaffRole``): superusers and editors work in every
locale (Wagtail's page permissions still say what exactly they may do on each page); regional
marketers work only in their locales, never in the source locale, and never publish
(CLARIFICATIONS #2). Wagtail's own page permissions on each locale's tree enforce the same
boundary in Wagtail's views; this policy answers for what the portal adds (the admin hooks of
localization, wagtail-localize's translate views, XLIFF, localized files).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wagtail.models import Locale, Page

from .principal import principal_for

if TYPE_CHECKING:
    from .principal import UserLike

SUBMIT_TRANSLATION_PERMISSION = "wagtail_localize.submit_translation"


def _code(locale: Locale | str) -> str:
    return (locale if isinstance(locale, str) else locale.language_code).lower()


class TranslationPolicy:
    """The boundaries of regional marketers; every method is safe to call for any user."""

    def can_edit_locale(self, user: UserLike | None, locale: Locale | str) -> bool:
        """May ``user`` edit content of ``locale`` at all (before Wagtail's page permissions)?"""
        principal = principal_for(user)
        if principal.kind != "staff":
            return False
        if principal.staff_role in ("superuser", "editor"):
            return True
        if principal.staff_role != "marketer":
            return False
        code = _code(locale)
        return code in principal.locales and code != Locale.get_default().language_code

    def can_translate(
        self, user: UserLike | None, source: Any, target_locale: Locale | str
    ) -> bool:
        """May ``user`` create or update the translation of ``source`` (a page or a
        translatable snippet) into ``target_locale`` (wagtail-localize's Translate action)?"""
        if user is None or not user.is_authenticated:
            return False
        if not user.has_perm(SUBMIT_TRANSLATION_PERMISSION):
            return False
        if _code(target_locale) == _code(source.locale):
            return False
        return self.can_edit_locale(user, target_locale)

    def translatable_locales(self, user: UserLike | None, source: Any) -> list[Locale]:
        """The locales ``user`` may translate ``source`` into (for the Translate form)."""
        return [
            locale
            for locale in Locale.objects.exclude(pk=source.locale_id).order_by("language_code")
            if self.can_translate(user, source, locale)
        ]

    def can_edit_translation(self, user: UserLike | None, instance: Any) -> bool:
        """May ``user`` edit the translated object ``instance`` (its strings, PO, XLIFF)?"""
        if not self.can_edit_locale(user, instance.locale):
            return False
        if isinstance(instance, Page):
            return bool(instance.permissions_for_user(user).can_edit())
        return True

    def can_upload_localized_file(self, user: UserLike | None, page: Page) -> bool:
        """May ``user`` attach a localized file to ``page`` (a translation: never the source)?"""
        if page.locale_id == Locale.get_default().pk:
            return False
        return self.can_edit_locale(user, page.locale) and bool(
            page.permissions_for_user(user).can_edit()
        )

    def can_publish(self, user: UserLike | None, page: Page) -> bool:
        """May ``user`` publish (or unpublish) ``page`` directly, outside a workflow's approval?

        Marketers never do. A translation (a page outside the source locale) under a review
        workflow is published only by that workflow's final approval (which does not ask this),
        so only superusers publish it directly. Otherwise Wagtail's page permissions say.
        """
        principal = principal_for(user)
        if principal.kind != "staff" or principal.is_marketer:
            return False
        if principal.staff_role != "superuser" and page.locale_id != Locale.get_default().pk:
            if page.get_workflow() is not None:
                return False
        return bool(page.permissions_for_user(user).can_publish())

    def can_create(self, user: UserLike | None, parent: Page) -> bool:
        """May ``user`` create a page below ``parent`` (in ``parent``'s locale)?"""
        return self.can_edit_locale(user, parent.locale)

    def can_delete(self, user: UserLike | None, page: Page) -> bool:
        """Deleting live content takes it away from partners like unpublishing: it needs
        ``can_publish``; a draft only needs the locale."""
        if not self.can_edit_locale(user, page.locale):
            return False
        if page.live or page.get_descendants().live().exists():
            return self.can_publish(user, page)
        return True

    def can_move(self, user: UserLike | None, page: Page, destination: Page) -> bool:
        """Marketers never move pages (a translation's place mirrors its source's: it sits below
        the translation of the source's parent); others within a locale they may edit."""
        if principal_for(user).is_marketer:
            return False
        return self.can_edit_locale(user, page.locale) and self.can_edit_locale(
            user, destination.locale
        )

    def can_copy(self, user: UserLike | None, page: Page) -> bool:
        """Copying makes a new page from ``page``'s content: only within a locale one edits."""
        return self.can_edit_locale(user, page.locale)


translation_policy = TranslationPolicy()


class RegionalReviewPolicy:
    """Who reviews a translation regionally (the "Regional review" task, CLARIFICATIONS #2):
    the active marketers of its locale other than the one who submitted it; when there is no
    such marketer, the Moderators (other than the submitter). Superusers may always act."""

    def reviewer_ids(self, locale: Locale | str, submitter_id: int | None) -> frozenset[int]:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from .principal import MARKETER_GROUP_PREFIX, MODERATORS_GROUP

        code = _code(locale)
        user_model = get_user_model()
        active = user_model.objects.filter(is_active=True)
        if submitter_id is not None:
            active = active.exclude(pk=submitter_id)
        marketer_groups = Group.objects.filter(
            name__startswith=MARKETER_GROUP_PREFIX,
            page_permissions__permission__codename="change_page",
            page_permissions__page__locale__language_code=code,
        )
        marketers = frozenset(
            active.filter(groups__in=marketer_groups).values_list("pk", flat=True)
        )
        if marketers:
            return marketers
        return frozenset(active.filter(groups__name=MODERATORS_GROUP).values_list("pk", flat=True))

    def can_review(
        self, user: UserLike | None, locale: Locale | str, submitter_id: int | None
    ) -> bool:
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if user.is_superuser:
            return True
        return user.pk in self.reviewer_ids(locale, submitter_id)


regional_review_policy = RegionalReviewPolicy()
