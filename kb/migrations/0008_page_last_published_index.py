"""An index on wagtailcore_page (last_published_at, id) for the library listing's order.

Wagtail indexes ``first_published_at`` but not ``last_published_at``; the library lists the most
recently published first, so without it page 1 sorts every visible item of the section. An index
on Wagtail's table (raw SQL: the model is Wagtail's); the same statement on SQLite and PostgreSQL.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("kb", "0007_file_and_cobranding_models_moved")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS kb_page_last_published "
            "ON wagtailcore_page (last_published_at, id)",
            "DROP INDEX IF EXISTS kb_page_last_published",
        )
    ]
