"""Split the search entry into a narrow filter row (SearchEntry) and its text (SearchText).

The full-text structures move with the text: SQLite's FTS5 tables now index ``SearchText`` (and a
second, small FTS5 table ``portal_search_head`` indexes title and product only); on
PostgreSQL the ``document`` tsvector (plus a ``head`` tsvector) live on ``SearchText``. Existing
index data is kept: the text is copied before its columns are dropped and the full-text indexes
are rebuilt from it, so no ``rebuild_search_index`` is needed after upgrading.
"""

import django.db.models.deletion
from django.db import migrations, models

TEXT = "portal_search_searchtext"
COLUMNS = "title, summary, product, body, attachments"

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS portal_search_au",
    "DROP TRIGGER IF EXISTS portal_search_ad",
    "DROP TRIGGER IF EXISTS portal_search_ai",
    "DROP TABLE IF EXISTS portal_search_vocab",
    "DROP TABLE IF EXISTS portal_search_fts",
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS portal_search_document_gin",
    "DROP TRIGGER IF EXISTS portal_search_document ON portal_search_searchentry",
    "DROP FUNCTION IF EXISTS portal_search_document()",
    "ALTER TABLE portal_search_searchentry DROP COLUMN IF EXISTS document",
]


def _sqlite_fts(name: str, columns: str) -> list[str]:
    return [
        f"""CREATE VIRTUAL TABLE {name} USING fts5({columns},
            content='{TEXT}', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')""",
        f"""CREATE TRIGGER {name}_ai AFTER INSERT ON {TEXT} BEGIN
            INSERT INTO {name}(rowid, {columns})
            VALUES (new.id, {", ".join("new." + c.strip() for c in columns.split(","))});
        END""",
        f"""CREATE TRIGGER {name}_ad AFTER DELETE ON {TEXT} BEGIN
            INSERT INTO {name}({name}, rowid, {columns})
            VALUES ('delete', old.id, {", ".join("old." + c.strip() for c in columns.split(","))});
        END""",
        f"""CREATE TRIGGER {name}_au AFTER UPDATE ON {TEXT} BEGIN
            INSERT INTO {name}({name}, rowid, {columns})
            VALUES ('delete', old.id, {", ".join("old." + c.strip() for c in columns.split(","))});
            INSERT INTO {name}(rowid, {columns})
            VALUES (new.id, {", ".join("new." + c.strip() for c in columns.split(","))});
        END""",
        f"INSERT INTO {name}({name}) VALUES('rebuild')",
        f"INSERT INTO {name}({name}) VALUES('optimize')",
    ]


SQLITE_CREATE = [
    *_sqlite_fts("portal_search_fts", COLUMNS),
    *_sqlite_fts("portal_search_head", "title, product"),
    "CREATE VIRTUAL TABLE portal_search_vocab USING fts5vocab(portal_search_fts, 'row')",
]
SQLITE_DROP_NEW = [
    *(
        f"DROP TRIGGER IF EXISTS {t}_{op}"
        for t in ("portal_search_fts", "portal_search_head")
        for op in ("ai", "ad", "au")
    ),
    "DROP TABLE IF EXISTS portal_search_vocab",
    "DROP TABLE IF EXISTS portal_search_head",
    "DROP TABLE IF EXISTS portal_search_fts",
]

ENTRY = "portal_search_searchentry"
# PostgreSQL: the tsvectors live on the narrow entry row (TOASTed out of line, so the row stays
# narrow), next to the filter columns: a search is one GIN bitmap scan of one table, no join.
# They are computed from the text row by a trigger on SearchText (inserted after its entry).
POSTGRES_CREATE = [
    f"ALTER TABLE {ENTRY} ADD COLUMN ts_config varchar(40) NOT NULL DEFAULT 'simple'",
    f"ALTER TABLE {ENTRY} ADD COLUMN document tsvector",
    f"ALTER TABLE {ENTRY} ADD COLUMN head tsvector",
    f"""CREATE FUNCTION portal_search_document() RETURNS trigger AS $$
    DECLARE cfg regconfig := NEW.ts_config::regconfig;
    BEGIN
      UPDATE {ENTRY} SET
        ts_config = NEW.ts_config,
        head = setweight(to_tsvector(cfg,
            coalesce(NEW.title, '') || ' ' || coalesce(NEW.product, '')), 'A'),
        document =
          setweight(to_tsvector(cfg, coalesce(NEW.title, '')), 'A') ||
          setweight(to_tsvector(cfg,
              coalesce(NEW.summary, '') || ' ' || coalesce(NEW.product, '')), 'B') ||
          setweight(to_tsvector(cfg, coalesce(NEW.body, '')), 'C') ||
          setweight(to_tsvector(cfg, coalesce(NEW.attachments, '')), 'D')
      WHERE id = NEW.id;
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER portal_search_document AFTER INSERT OR UPDATE
        ON {TEXT} FOR EACH ROW EXECUTE FUNCTION portal_search_document()""",
    f"UPDATE {TEXT} SET title = title",  # fires the trigger for the copied rows
    f"CREATE INDEX portal_search_document_gin ON {ENTRY} USING gin (document)",
    f"CREATE INDEX portal_search_head_gin ON {ENTRY} USING gin (head)",
    f"ANALYZE {ENTRY}, {TEXT}",
]
POSTGRES_DROP_NEW = [
    "DROP INDEX IF EXISTS portal_search_head_gin",
    "DROP INDEX IF EXISTS portal_search_document_gin",
    f"DROP TRIGGER IF EXISTS portal_search_document ON {TEXT}",
    "DROP FUNCTION IF EXISTS portal_search_document()",
    f"ALTER TABLE {ENTRY} DROP COLUMN IF EXISTS head",
    f"ALTER TABLE {ENTRY} DROP COLUMN IF EXISTS document",
    f"ALTER TABLE {ENTRY} DROP COLUMN IF EXISTS ts_config",
]


def _run(schema_editor, by_vendor: dict) -> None:
    for statement in by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def drop_old_fulltext(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP})


def create_fulltext(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE})


def drop_new_fulltext(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP_NEW, "postgresql": POSTGRES_DROP_NEW})


def copy_text(apps, schema_editor):
    schema_editor.execute(
        f"INSERT INTO {TEXT} (id, ts_config, {COLUMNS}) "
        f"SELECT id, ts_config, {COLUMNS} FROM portal_search_searchentry"
    )


class Migration(migrations.Migration):
    dependencies = [("portal_search", "0002_fulltext")]

    operations = [
        # Reversal of the split is not supported: rebuild the index after migrating back.
        migrations.RunPython(drop_old_fulltext, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="searchentry",
            name="id",
            field=models.IntegerField(primary_key=True, serialize=False),
        ),
        migrations.CreateModel(
            name="SearchText",
            fields=[
                (
                    "entry",
                    models.OneToOneField(
                        db_column="id",
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="text",
                        serialize=False,
                        to="portal_search.searchentry",
                    ),
                ),
                ("ts_config", models.CharField(default="simple", max_length=40)),
                ("title", models.TextField()),
                ("summary", models.TextField(blank=True, default="")),
                ("product", models.CharField(blank=True, default="", max_length=200)),
                ("body", models.TextField(blank=True, default="")),
                ("attachments", models.TextField(blank=True, default="")),
            ],
        ),
        migrations.RunPython(copy_text, migrations.RunPython.noop),
        migrations.RemoveField(model_name="searchentry", name="attachments"),
        migrations.RemoveField(model_name="searchentry", name="body"),
        migrations.RemoveField(model_name="searchentry", name="product"),
        migrations.RemoveField(model_name="searchentry", name="summary"),
        migrations.RemoveField(model_name="searchentry", name="title"),
        migrations.RemoveField(model_name="searchentry", name="ts_config"),
        migrations.RunPython(create_fulltext, drop_new_fulltext),
    ]
