"""Products become translatable (1/3): ``locale`` and ``translation_key``, nullable first.

Wagtail's documented pattern for an existing model (wagtail.models.BootstrapTranslatableMixin):
add the fields nullable, bootstrap the existing rows into the default locale (0011), then make
the fields required and unique together (0012). Separate migrations: PostgreSQL refuses to
alter a table with pending deferred trigger events left by the data migration's updates.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0010_localized_asset_files"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="translation_key",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="product",
            name="locale",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="wagtailcore.locale",
            ),
        ),
    ]
