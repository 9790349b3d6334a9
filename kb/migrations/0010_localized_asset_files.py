"""Localized asset files: a translation's master document / master image / cover record the
SHA-256 of the source's file they localize (``<field>_source_sha256``; docs/localized-files.md).

Before, these were wagtail-localize synchronised fields a translator could override. A
translation whose file differs from its source's (an override) is converted to a localized file
recorded as up to date with the source's current file, on the page and on its live and newer
revisions (publishing one would otherwise undo it). The same file as the source's (a synced
copy) stays not localized: readers get the source's.
"""

from django.conf import settings
from django.db import migrations, models

FIELDS = {
    "kb.PortalItemPage": ["cover_image"],
    "kb.MarketingAssetPage": ["master_document", "master_image"],
}


def convert(apps, schema_editor):
    Revision = apps.get_model("wagtailcore", "Revision")
    default = settings.LANGUAGE_CODE.split("-")[0]
    for label, names in FIELDS.items():
        model = apps.get_model(label)
        related = [f"{name}__sha256" for name in names]
        sources = {
            row["translation_key"]: row
            for row in model.objects.filter(locale__language_code=default).values(
                "translation_key", *[f"{name}_id" for name in names], *related
            )
        }
        for page in model.objects.exclude(locale__language_code=default):
            source = sources.get(page.translation_key)
            if source is None:
                continue
            changed = {}
            for name in names:
                own, master = getattr(page, f"{name}_id"), source[f"{name}_id"]
                if own is not None and master is not None and own != master:
                    changed[f"{name}_source_sha256"] = source[f"{name}__sha256"] or ""
            changed = {key: value for key, value in changed.items() if value}
            if not changed:
                continue
            model.objects.filter(pk=page.pk).update(**changed)
            revisions = Revision.objects.filter(
                object_id=str(page.pk),
                base_content_type__app_label="wagtailcore",
                base_content_type__model="page",
            )
            if page.live_revision_id is not None:
                revisions = revisions.filter(pk__gte=page.live_revision_id)
            for revision in revisions:
                revision.content.update(changed)
                revision.save(update_fields=["content"])


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0009_localized_attachments"),
        ("files", "0003_portalimage_sha256"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.AddField(
            model_name="marketingassetpage",
            name="master_document_source_sha256",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="marketingassetpage",
            name="master_image_source_sha256",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="portalitempage",
            name="cover_image_source_sha256",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.RunPython(convert, migrations.RunPython.noop, elidable=True),
    ]
