"""Regional marketers over HTTP (issue #11, deliverable 2): a Czech marketer works on Czech
pages only, submits for review, never publishes, never changes access.

Every refused request leaves the page as it was: its title, live state, place and existence.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from wagtail.models import Page, WorkflowState
from wagtail_localize.models import StringSegment, Translation

from permissions.panels import ACCESS_FIELDS
from permissions.policies.localization import translation_policy
from permissions.policies.principal import principal_for
from tests.test_access_review import edit_form, post_edit

pytestmark = pytest.mark.django_db

User = get_user_model()


def client_for(world_ids, name: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(pk=world_ids[name]))
    return client


def snapshot(page_id: int) -> tuple:
    page = Page.objects.get(pk=page_id)
    return (page.title, page.live, page.path, page.latest_revision_id, page.has_unpublished_changes)


def assert_refused(response) -> None:
    """Refused: 403, or Wagtail's redirect with its "permission" message."""
    if response.status_code == 302:
        assert "/login/" not in response["Location"], "the marketer was logged out"
        # Only the messages this request added (not those still queued from earlier ones).
        added = [str(m) for m in response.wsgi_request._messages._queued_messages]
        assert any("permission" in m.lower() for m in added), (response["Location"], added)
        return
    assert response.status_code == 403, response.status_code


def put_string(client: Client, translation: Translation, segment: StringSegment, value: str):
    """What the translation editor sends when a string is saved."""
    return client.put(
        f"/admin/localize/translate/{translation.pk}/strings/{segment.pk}/edit/",
        data=encode_multipart(BOUNDARY, {"value": value}),
        content_type=MULTIPART_CONTENT,
    )


def test_principal_knows_marketer_and_locales(world_ids):
    jiri = User.objects.get(pk=world_ids["jiri"])
    principal = principal_for(jiri)
    assert principal.staff_role == "marketer"
    assert principal.locales == frozenset({"cs"})
    assert principal_for(User.objects.get(pk=world_ids["editor"])).staff_role == "editor"
    assert principal_for(User.objects.get(pk=world_ids["moderator"])).staff_role == "editor"
    assert translation_policy.can_edit_locale(jiri, "cs")
    assert not translation_policy.can_edit_locale(jiri, "de")
    assert not translation_policy.can_edit_locale(jiri, "en")


@pytest.mark.parametrize("which", ["en", "de"])
def test_other_locales_refused_at_every_admin_url(world_ids, which):
    client = client_for(world_ids, "jiri")
    page_id = world_ids[which]
    before = snapshot(page_id)
    page = Page.objects.get(pk=page_id)
    parent_id = page.get_parent().pk
    cs_home = Page.objects.get(pk=world_ids["cs"]).get_parent().get_parent()

    assert_refused(client.get(f"/admin/pages/{page_id}/edit/"))
    assert_refused(
        client.post(f"/admin/pages/{page_id}/edit/", {"title": "Hacked", "action-publish": "1"})
    )
    assert_refused(client.post(f"/admin/pages/{page_id}/unpublish/", {}))
    assert_refused(client.post(f"/admin/pages/{page_id}/delete/", {}))
    assert_refused(client.post(f"/admin/pages/{page_id}/move/{cs_home.pk}/confirm/", {}))
    assert_refused(
        client.post(
            f"/admin/pages/{page_id}/copy/",
            {"new_title": "Copy", "new_slug": "copy", "new_parent_page": parent_id},
        )
    )
    assert snapshot(page_id) == before
    assert Page.objects.get(pk=page_id).get_children().count() == 0
    assert not Page.objects.filter(slug="copy").exists()


def test_translate_only_into_own_locale(world_ids):
    client = client_for(world_ids, "jiri")
    fresh = Page.objects.get(pk=world_ids["fresh"])
    de = fresh.locale.__class__.objects.get(language_code="de")
    cs = fresh.locale.__class__.objects.get(language_code="cs")
    url = f"/admin/localize/submit/page/{fresh.pk}/"

    form = client.get(url)
    assert form.status_code == 200
    offered = {locale.language_code for locale in form.context["form"].fields["locales"].queryset}
    assert offered == {"cs"}

    assert_refused(client.post(url, {"locales": [de.pk]}))
    assert fresh.get_translation_or_none(de) is None

    response = client.post(url, {"locales": [cs.pk]})
    assert response.status_code == 302
    translated = fresh.get_translation(cs)
    # A new translation is a draft: it goes live only through review.
    assert not translated.live


def test_translate_into_other_locale_refused_for_german_marketer_too(world_ids):
    client = client_for(world_ids, "hans")
    fresh = Page.objects.get(pk=world_ids["fresh"])
    cs = fresh.locale.__class__.objects.get(language_code="cs")
    assert_refused(client.post(f"/admin/localize/submit/page/{fresh.pk}/", {"locales": [cs.pk]}))
    assert fresh.get_translation_or_none(cs) is None


def test_own_locale_edit_and_submit_for_review_but_never_publish(world_ids):
    client = client_for(world_ids, "jiri")
    cs_id = world_ids["cs"]
    live_title = Page.objects.get(pk=cs_id).title
    # The translation editor (wagtail-localize) opens, without a publish button.
    response = client.get(f"/admin/pages/{cs_id}/edit/")
    assert response.status_code == 200
    props = response.context["props"] if "props" in response.context else ""
    assert '"canPublish": false' in props or '"canPublish":false' in props

    translation = Translation.objects.get(pk=world_ids["cs_translation"])
    title_segment = StringSegment.objects.get(source=translation.source, context__path="title")
    edited = put_string(client, translation, title_segment, "Bitevní karta F9")
    assert edited.status_code in (200, 201), edited.content

    # Publishing from the translation editor is refused.
    assert_refused(client.post(f"/admin/pages/{cs_id}/edit/", {"action": "publish"}))
    assert Page.objects.get(pk=cs_id).title == live_title

    response = client.post(f"/admin/localization/translations/{translation.pk}/submit/")
    assert response.status_code == 302
    page = Page.objects.get(pk=cs_id)
    assert page.title == live_title  # still the live one
    assert page.get_latest_revision_as_object().title == "Bitevní karta F9"
    state = page.current_workflow_state
    assert state is not None and state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.current_task_state.task.specific.name == "Regional review"

    # Unpublishing, deleting, moving a live Czech page: refused as well.
    for url in (
        f"/admin/pages/{cs_id}/unpublish/",
        f"/admin/pages/{cs_id}/delete/",
        f"/admin/pages/{cs_id}/move/{page.get_parent().get_parent().pk}/confirm/",
    ):
        assert_refused(client.post(url, {}))
    assert Page.objects.get(pk=cs_id).live


def test_plain_editor_on_own_locale_submits_without_publish_and_access_read_only(world_ids):
    client = client_for(world_ids, "jiri")
    library = Page.objects.get(pk=world_ids["cs"]).get_parent().specific
    data, _disabled = edit_form(client, library)
    response = client.get(f"/admin/pages/{library.pk}/edit/")
    assert b'name="action-publish"' not in response.content
    # The access fields are read-only for a marketer (permissions.panels).
    form = response.context["form"]
    access = [name for name in ACCESS_FIELDS if name in form.fields]
    assert access and not form.may_change_access
    assert all(form.fields[name].widget.attrs.get("disabled") for name in access)
    data["title"] = ["Knihovna (nová)"]
    response = post_edit(client, library, data, action="submit")
    assert response.status_code == 302, response.content[:2000]
    library = Page.objects.get(pk=library.pk)
    assert library.current_workflow_state.status == WorkflowState.STATUS_IN_PROGRESS
    assert library.title != "Knihovna (nová)"  # not published


def test_moderator_cannot_publish_translation_directly(world_ids):
    client = client_for(world_ids, "moderator")
    cs_id = world_ids["cs"]
    before = snapshot(cs_id)
    assert_refused(client.post(f"/admin/pages/{cs_id}/edit/", {"action": "publish"}))
    assert snapshot(cs_id) == before


def test_source_locale_editor_still_edits_everywhere(world_ids):
    editor = User.objects.get(pk=world_ids["editor"])
    for key in ("en", "de", "cs"):
        assert translation_policy.can_edit_locale(
            editor, Page.objects.get(pk=world_ids[key]).locale
        )
    response = client_for(world_ids, "editor").get(f"/admin/pages/{world_ids['en']}/edit/")
    assert response.status_code == 200


def test_strings_of_another_locale_refused(world_ids):
    client = client_for(world_ids, "jiri")
    translation = Translation.objects.get(pk=world_ids["de_translation"])
    segment = StringSegment.objects.get(source=translation.source, context__path="title")
    assert_refused(put_string(client, translation, segment, "Gehackt"))
    assert not translation.source.stringsegment_set.filter(
        string__translations__data="Gehackt"
    ).exists()
    for url in (
        f"/admin/localize/translate/{translation.pk}/pofile/download/",
        f"/admin/localization/translations/{translation.pk}/xliff/1.2/",
        f"/admin/localization/translations/{translation.pk}/xliff/",
    ):
        assert_refused(client.get(url))
    assert_refused(client.post(f"/admin/localization/translations/{translation.pk}/submit/"))
    assert Page.objects.get(pk=world_ids["de"]).current_workflow_state is None
