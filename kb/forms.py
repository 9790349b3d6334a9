"""Admin page forms of kb's pages."""

from __future__ import annotations

from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from permissions.panels import AudienceAdminPageForm


class ProductSheetAdminForm(AudienceAdminPageForm):
    """A product sheet's form: a version label is published once, with a note of what changed.

    Checked on every save of the form (a draft submitted for approval, scheduled or published
    later is checked here, before anyone approves it): a NEW label (not the newest recorded
    version's) needs a "what changed" note different from the previous version's, and a label
    this sheet already published is refused. Keeping the newest label lets an editor correct
    its note.
    """

    def clean(self) -> dict[str, Any]:
        from .models import ProductSheetVersion
        from .services import rich_text_plain

        cleaned = super().clean()
        label = (cleaned.get("version_label") or "").strip()
        note = cleaned.get("change_note") or ""
        history = (
            ProductSheetVersion.objects.filter(page_id=self.instance.pk)
            if self.instance.pk
            else ProductSheetVersion.objects.none()
        )
        latest = history.first()
        if not label:
            if latest is not None:
                self.add_error(
                    "version_label",
                    _("This sheet has published versions: keep a version label (now %(label)s).")
                    % {"label": latest.version_label},
                )
            return cleaned
        if latest is not None and latest.version_label == label:
            return cleaned  # the current version: its note may be corrected
        used = history.filter(version_label=label).first()
        if used is not None:
            self.add_error(
                "version_label",
                _(
                    "Version %(label)s was already published on %(date)s. Give this version "
                    "a new label."
                )
                % {
                    "label": label,
                    "date": formats.date_format(
                        timezone.localtime(used.published_at), "SHORT_DATE_FORMAT"
                    ),
                },
            )
        elif not rich_text_plain(note):
            self.add_error(
                "change_note",
                _("Say what changed in version %(label)s: partners read it in the history.")
                % {"label": label},
            )
        elif latest is not None and rich_text_plain(note) == rich_text_plain(latest.note):
            self.add_error(
                "change_note",
                _("This is the note of version %(previous)s: say what changed in %(label)s.")
                % {"previous": latest.version_label, "label": label},
            )
        return cleaned
