"""The vocabulary moves into ``SearchTerm`` on SQLite too, with document counts.

Reading FTS5's ``fts5vocab`` table scans the whole full-text index (1.4 s at 100k items), and each
process re-read it after every index change: the first search after a publish paid for it. The
table is filled here from ``fts5vocab`` once, so existing indexes keep their typo tolerance
without a rebuild.
"""

from django.db import migrations, models

FILL_SQLITE = """
INSERT OR IGNORE INTO portal_search_searchterm (term, documents)
SELECT term, doc FROM portal_search_vocab
WHERE length(term) > 2 AND length(term) <= 60 AND term GLOB '*[^0-9]*'
"""


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(FILL_SQLITE)


class Migration(migrations.Migration):
    dependencies = [("portal_search", "0003_narrow_entries")]

    operations = [
        migrations.AddField(
            model_name="searchterm",
            name="documents",
            field=models.IntegerField(default=0),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
