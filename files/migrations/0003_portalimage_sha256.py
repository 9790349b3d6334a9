"""PortalImage.sha256 (localized master and cover images record the source's), filled for
stored images like 0002 did for documents."""

from django.db import migrations, models


def fill_sha256(apps, schema_editor):
    from importlib import import_module

    # The same fill as documents (0002), for the image model.
    fill = import_module("files.migrations.0002_portaldocument_sha256").fill_rows
    fill(apps.get_model("files", "PortalImage"))


class Migration(migrations.Migration):
    dependencies = [("files", "0002_portaldocument_sha256")]

    operations = [
        migrations.AddField(
            model_name="portalimage",
            name="sha256",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.RunPython(fill_sha256, migrations.RunPython.noop, elidable=True),
    ]
