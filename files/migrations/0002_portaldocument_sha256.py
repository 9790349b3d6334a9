"""PortalDocument.sha256 (localized files record the master's), filled for stored documents."""

import hashlib

from django.db import migrations, models


def fill_sha256(apps, schema_editor):
    PortalDocument = apps.get_model("files", "PortalDocument")
    for document in PortalDocument.objects.filter(sha256="").iterator():
        digest = hashlib.sha256()
        try:
            with document.file.open("rb") as f:
                for block in iter(lambda: f.read(1024 * 1024), b""):
                    digest.update(block)
        except (OSError, ValueError):
            # Not readable now (a missing object, a store that cannot be reached): left blank,
            # PortalDocument.get_sha256() computes it when it is first needed.
            continue
        PortalDocument.objects.filter(pk=document.pk).update(sha256=digest.hexdigest())


class Migration(migrations.Migration):
    dependencies = [("files", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="portaldocument",
            name="sha256",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.RunPython(fill_sha256, migrations.RunPython.noop, elidable=True),
    ]
