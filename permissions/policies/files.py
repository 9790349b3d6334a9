"""Files: item documents, raw media under ``/media/``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.db.models import Q, QuerySet
from django.utils import timezone
from wagtail.models import Page

from .pages import page_policy
from .principal import principal_for

if TYPE_CHECKING:
    from files.models import PortalDocument

    from .principal import UserLike

_QuerySet = TypeVar("_QuerySet", bound=QuerySet[Any, Any])


class VersionLike(Protocol):
    """A version of a file as the policy needs it (a document, or a listed file's summary)."""

    def is_expired(self) -> bool: ...


class DocumentPolicy:
    """Files: downloadable when attached to (or the master of) an item the user may see."""

    def filter_visible(self, user: UserLike | None, queryset: _QuerySet) -> _QuerySet:
        principal = principal_for(user)
        if principal.kind == "staff":
            return queryset
        visible_pages = Page.objects.filter(page_policy.visible_q(principal)).values("pk")
        # Only the versions that published pages use (a pending version is referenced by a
        # draft revision only) and that have not expired.
        return queryset.filter(
            Q(attachments__page__in=visible_pages) | Q(master_of__in=visible_pages),
            self.servable_version_q(),
        ).distinct()

    def servable_version_q(self, prefix: str = "", now: datetime | None = None) -> Q:
        """``can_have_version``'s rule for partners as a filter on documents (through
        ``prefix``, e.g. ``"document__"``): not deleted, not past its expiry at ``now``."""
        now = now or timezone.now()
        return Q(**{f"{prefix}deleted_at__isnull": True}) & (
            Q(**{f"{prefix}expire_at__isnull": True}) | Q(**{f"{prefix}expire_at__gt": now})
        )

    def can_have_version(self, user: UserLike | None, document: VersionLike) -> bool:
        """May ``user`` be served (or shown) this version of a file at all? A version whose
        expiry has passed is withdrawn for everyone but staff, even before any scheduler ran."""
        if getattr(document, "deleted_at", None) is not None:
            return False  # a deleted version has no file left to serve
        return principal_for(user).kind == "staff" or not document.is_expired()

    def can_download(self, user: UserLike | None, item: Page, document: PortalDocument) -> bool:
        """May ``user`` download ``document`` as a file of ``item``?"""
        if not page_policy.can_view(user, item):
            return False
        # Which documents are an item's files is the item's to say (kb: its attachments and
        # master document). A section or the home has no files: the URL names no item, the same
        # 404 as a hidden one (staff included, so the answer never says which pages exist).
        has_file = getattr(item.specific, "has_file", None)
        if has_file is None or not has_file(document.pk):
            return False
        return self.can_have_version(user, document)

    # --- the admin's file versions (kb.version_admin_views; docs/file-versions.md) ---

    def can_see_versions(self, user: UserLike | None) -> bool:
        """May ``user`` open a file's "Versions" history in the admin? Staff: the history names
        only files and the items using them, all of which staff see anyway."""
        return principal_for(user).kind == "staff"

    def can_add_version(self, user: UserLike | None) -> bool:
        """May ``user`` upload a new version of a file, restore an older one as a new version,
        and propose it to the items using the file? Editors (Editors/Moderators, and staff who
        may change source pages) and superusers: the people who edit items' files. A marketer
        changes only the localized files of his locales (localization), never a master file."""
        principal = principal_for(user)
        return principal.kind == "staff" and principal.staff_role in ("superuser", "editor")

    def can_propose_version(self, user: UserLike | None, page: Page) -> bool:
        """May ``user`` make a draft revision of ``page`` that adopts a new version? Whoever may
        add versions and may edit that page in Wagtail (the revision is reviewed by the page's
        workflow like any other change: CLARIFICATIONS 2 and 6)."""
        if not self.can_add_version(user):
            return False
        can_edit: bool = page.permissions_for_user(user).can_edit()
        return can_edit

    def can_download_any_version(self, user: UserLike | None) -> bool:
        """May ``user`` download any version of a file, older, pending or expired ones included,
        from the admin history? Staff (issue #12): partners only ever get a published item's
        current version, through the item's stable URL (``can_download``)."""
        return principal_for(user).kind == "staff"

    def can_delete_version(self, user: UserLike | None) -> bool:
        """May ``user`` delete a version of a file (its row and its stored object)? Superusers
        only (issue #12: "an admin-only action"): history is otherwise never rewritten, and
        editors correct a version by uploading or restoring another."""
        principal = principal_for(user)
        return principal.kind == "staff" and principal.staff_role == "superuser"

    def can_serve_directly(self, user: UserLike | None, document: PortalDocument) -> bool:
        """Wagtail's own /documents/ URL (used by the admin): staff, or a visible item's file."""
        same: QuerySet[PortalDocument] = type(document).objects.filter(pk=document.pk)
        return self.filter_visible(user, same).exists()


class MediaPolicy:
    """Raw media files under ``/media/`` (the admin's thumbnails and originals): staff only,
    and per file the same answer as everywhere else. Partners use the item views."""

    def can_browse(self, user: UserLike | None) -> bool:
        return principal_for(user).kind == "staff"

    def can_read(self, user: UserLike | None, name: str) -> bool:
        """May ``user`` read the stored file ``name`` through ``/media/``?

        Images (originals and renditions: the admin shows them) for staff; a document when the
        document policy lets the user have it; co-brand renders and brand-kit logos never here
        (they have their own checked views: ``CobrandPolicy``, ``BrandKitPolicy``); a name that
        no image or document row points at: never (fail closed)."""
        if not self.can_browse(user) or not name:
            return False
        from files.models import PortalDocument, PortalImage, PortalRendition

        if PortalImage.objects.filter(file=name).exists():
            return True
        if PortalRendition.objects.filter(file=name).exists():
            return True
        document = PortalDocument.objects.filter(file=name).first()
        if document is not None:
            return document_policy.can_serve_directly(user, document)
        return False


document_policy = DocumentPolicy()
media_policy = MediaPolicy()
