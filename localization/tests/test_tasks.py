"""Translation tasks per source item and locale, through an item's whole life."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone
from wagtail.models import Locale
from wagtail_localize.models import TranslationSource

from accounts.tests.factories import UserFactory
from files.tests.factories import make_pdf_bytes
from kb.models import ItemAttachment, PortalItemPage
from kb.services import (
    FileSpec,
    document_create,
    item_upsert,
    library_for_locale,
    localized_file_attach,
    localized_file_confirm,
)
from localization.models import CoverageSnapshot, TranslationTask
from localization.services import coverage_snapshot_record, translation_tasks_refresh

pytestmark = pytest.mark.django_db


def sync(source: PortalItemPage, code: str) -> PortalItemPage:
    """Translate / re-sync ``source`` into ``code`` as a draft (the Translate action)."""
    translation_source, _ = TranslationSource.update_or_create_from_instance(source)
    page, _ = translation_source.create_or_update_translation(
        Locale.objects.get(language_code=code), publish=False, fallback=True
    )
    return PortalItemPage.objects.get(pk=page.pk).specific


def upsert(key: str, title: str, content: bytes) -> PortalItemPage:
    return item_upsert(
        key=key,
        kind="product_sheet",
        title=title,
        parent=library_for_locale("en"),
        files=[FileSpec(name=f"tt-{key}.pdf", content=content, title="Datasheet")],
    )


def states(source) -> dict[str, str]:
    return {
        task.locale.language_code: task.state
        for task in TranslationTask.objects.filter(source=source).select_related("locale")
    }


def test_a_task_follows_the_item_through_its_life(portal, django_capture_on_commit_callbacks):
    run = lambda: django_capture_on_commit_callbacks(execute=True)  # noqa: E731
    admin = UserFactory(email="root@vendor.example", is_staff=True, is_superuser=True)
    with run():
        source = upsert("life", "Life", make_pdf_bytes("v1"))
    assert states(source) == {"de": "missing", "cs": "missing"}
    assert TranslationTask.objects.get(source=source, locale__language_code="cs").reasons == "new"

    with run():
        czech = sync(source, "cs")
    assert states(source)["cs"] == "in_progress"

    with run():
        czech.get_workflow().start(czech, admin)
    assert states(source)["cs"] == "in_review"

    with run():
        czech.current_workflow_state.cancel(user=admin)
        czech.get_latest_revision().publish()
    assert states(source) == {"de": "missing", "cs": "done"}

    # The source is republished: the translation is behind it.
    with run():
        source = upsert("life", "Life, second edition", make_pdf_bytes("v1"))
    task = TranslationTask.objects.get(source=source, locale__language_code="cs")
    assert (task.state, task.reasons) == ("out_of_date", "source_changed")
    with run():
        sync(source, "cs").get_latest_revision().publish()
    assert states(source)["cs"] == "done"

    # A localized file, then a new version of its master.
    master = ItemAttachment.objects.get(page=source)
    with run():
        localized_file_attach(
            translation=czech,
            master=master,
            document=document_create(name="tt-life-cs.pdf", content=make_pdf_bytes("cs")),
            user=admin,
            publish=True,
        )
    assert states(source)["cs"] == "done"
    # Same text, new file: only the master's file changed (no content change to sync).
    Page = PortalItemPage
    with run():
        upsert("life", "Life, second edition", make_pdf_bytes("v2"))
        Page.objects.filter(pk=czech.pk).update(last_published_at=timezone.now())
    task = TranslationTask.objects.get(source=source, locale__language_code="cs")
    assert (task.state, task.stale_files) == ("out_of_date", 1)
    assert "files_out_of_date" in task.reasons
    with run():
        localized_file_confirm(attachment=ItemAttachment.objects.get(page=czech), user=admin)
    assert states(source)["cs"] == "done"

    snapshot = CoverageSnapshot.objects.get(locale__language_code="cs", day=timezone.localdate())
    assert (snapshot.done, snapshot.total) == (1, 1)

    with run():
        PortalItemPage.objects.get(pk=source.pk).specific.unpublish()
    assert states(source) == {}


def test_full_refresh_and_backdated_snapshots(portal):
    source = upsert("full", "Full", make_pdf_bytes("full"))
    TranslationTask.objects.all().delete()
    assert translation_tasks_refresh() == 2
    assert translation_tasks_refresh() == 0  # nothing changed
    cs = Locale.objects.get(language_code="cs")
    old = coverage_snapshot_record(
        locale=cs, day=date(2026, 11, 1), counts={"missing": 5, "done": 1}
    )
    assert (old.missing, old.done, old.total) == (5, 1, 6)
    today = coverage_snapshot_record(locale=cs)
    assert today.missing >= 1 and states(source)["cs"] == "missing"
    with pytest.raises(ValueError):
        coverage_snapshot_record(locale=cs, counts={"finished": 1})


def test_refresh_command_prints_each_locale(portal):
    import io

    from django.core.management import call_command

    upsert("command", "Command", make_pdf_bytes("command"))
    out = io.StringIO()
    call_command("translation_tasks_refresh", stdout=out)
    text = out.getvalue()
    assert "cs: 0/" in text and "de: 0/" in text
    assert CoverageSnapshot.objects.filter(day=timezone.localdate()).count() == 2
