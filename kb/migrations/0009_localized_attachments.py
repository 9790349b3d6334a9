"""Localized files (CLARIFICATIONS #7): an attachment of a translation points to its master
attachment and stores the SHA-256 of the master's file it translates; the language tag goes.

Today's language-tagged attachments are converted: an attachment of item P (locale X) tagged
with language L != X moves to P's translation in L, if there is one, as a localized file of
P's first attachment in X (by sort order; none: a file of the translation only), recorded as
up to date with that master's current file. Revisions follow: the moved attachment leaves P's
revisions and joins the translation's latest and live revisions (publishing either would
otherwise undo the move). Without a translation in L the attachment stays a file of P (its
title names the language; upload it to the translation once there is one).
"""

from django.db import migrations, models
import django.db.models.deletion


def _revisions(Revision, page_id):
    return Revision.objects.filter(
        object_id=str(page_id),
        base_content_type__app_label="wagtailcore",
        base_content_type__model="page",
    )


def convert(apps, schema_editor):
    ItemAttachment = apps.get_model("kb", "ItemAttachment")
    PortalItemPage = apps.get_model("kb", "PortalItemPage")
    Revision = apps.get_model("wagtailcore", "Revision")
    tagged = ItemAttachment.objects.select_related("page__locale", "document").order_by(
        "page_id", "sort_order", "pk"
    )
    for attachment in tagged:
        page = attachment.page
        if attachment.language == page.locale.language_code:
            continue
        translation = PortalItemPage.objects.filter(
            translation_key=page.translation_key, locale__language_code=attachment.language
        ).first()
        if translation is None:
            continue
        master = (
            ItemAttachment.objects.filter(page_id=page.pk, language=page.locale.language_code)
            .select_related("document")
            .order_by("sort_order", "pk")
            .first()
        )
        attachment.page_id = translation.pk
        attachment.master = master
        attachment.master_sha256 = master.document.sha256 if master is not None else ""
        attachment.save(update_fields=["page", "master", "master_sha256"])
        for revision in _revisions(Revision, page.pk):
            children = revision.content.get("attachments")
            if children and any(c.get("pk") == attachment.pk for c in children):
                revision.content["attachments"] = [
                    c for c in children if c.get("pk") != attachment.pk
                ]
                revision.save(update_fields=["content"])
        serialized = {
            "pk": attachment.pk,
            "page": translation.pk,
            "document": attachment.document_id,
            "title": attachment.title,
            "sort_order": attachment.sort_order,
            "master": attachment.master_id,
            "master_sha256": attachment.master_sha256,
        }
        wanted = {translation.latest_revision_id, translation.live_revision_id} - {None}
        for revision in Revision.objects.filter(pk__in=wanted):
            children = [
                c
                for c in revision.content.get("attachments", [])
                if c.get("pk") != attachment.pk
            ]
            revision.content["attachments"] = [*children, serialized]
            revision.save(update_fields=["content"])
    if schema_editor.connection.vendor == "postgresql":
        # Check the moved rows' deferred foreign keys now: PostgreSQL refuses the ALTER TABLE
        # below while trigger events are pending in this transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0008_page_last_published_index"),
        ("files", "0002_portaldocument_sha256"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.AddField(
            model_name="itemattachment",
            name="master",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="localized",
                to="kb.itemattachment",
            ),
        ),
        migrations.AddField(
            model_name="itemattachment",
            name="master_sha256",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.RunPython(convert, migrations.RunPython.noop),
        migrations.RemoveField(model_name="itemattachment", name="language"),
    ]
