"""Renders are re-keyed (issue #13): the old fingerprint renders are a cache, so they are
dropped, rows and stored objects, and the table is made again (cobranding 0003) under the app's
own name. The objects go only once the migration has committed: a failed migration keeps them."""

from functools import partial

from django.db import migrations, transaction


def drop_old_renders(apps, schema_editor):
    from django.core.files.storage import default_storage

    CobrandRender = apps.get_model("cobranding", "CobrandRender")
    names = [name for name in CobrandRender.objects.values_list("file", flat=True) if name]
    CobrandRender.objects.all().delete()

    def delete(name: str) -> None:
        try:
            default_storage.delete(name)
        except Exception:  # noqa: BLE001 - a leftover object is an orphan for storage_orphans
            pass

    for name in names:
        transaction.on_commit(partial(delete, name), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("cobranding", "0001_initial")]

    operations = [
        migrations.RunPython(drop_old_renders, migrations.RunPython.noop),
        migrations.DeleteModel(name="CobrandRender"),
    ]
