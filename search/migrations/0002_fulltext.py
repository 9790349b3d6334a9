"""Full-text structures the ORM cannot declare: SQLite FTS5 (+ vocabulary), PostgreSQL tsvector."""

from django.db import migrations

SQLITE = [
    """CREATE VIRTUAL TABLE portal_search_fts USING fts5(
        title, summary, product, body, attachments,
        content='portal_search_searchentry', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')""",
    "CREATE VIRTUAL TABLE portal_search_vocab USING fts5vocab(portal_search_fts, 'row')",
    """CREATE TRIGGER portal_search_ai AFTER INSERT ON portal_search_searchentry BEGIN
        INSERT INTO portal_search_fts(rowid, title, summary, product, body, attachments)
        VALUES (new.id, new.title, new.summary, new.product, new.body, new.attachments);
    END""",
    """CREATE TRIGGER portal_search_ad AFTER DELETE ON portal_search_searchentry BEGIN
        INSERT INTO portal_search_fts(portal_search_fts, rowid, title, summary, product, body,
            attachments)
        VALUES ('delete', old.id, old.title, old.summary, old.product, old.body, old.attachments);
    END""",
    """CREATE TRIGGER portal_search_au AFTER UPDATE ON portal_search_searchentry BEGIN
        INSERT INTO portal_search_fts(portal_search_fts, rowid, title, summary, product, body,
            attachments)
        VALUES ('delete', old.id, old.title, old.summary, old.product, old.body, old.attachments);
        INSERT INTO portal_search_fts(rowid, title, summary, product, body, attachments)
        VALUES (new.id, new.title, new.summary, new.product, new.body, new.attachments);
    END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS portal_search_au",
    "DROP TRIGGER IF EXISTS portal_search_ad",
    "DROP TRIGGER IF EXISTS portal_search_ai",
    "DROP TABLE IF EXISTS portal_search_vocab",
    "DROP TABLE IF EXISTS portal_search_fts",
]

POSTGRES = [
    "ALTER TABLE portal_search_searchentry ADD COLUMN document tsvector",
    """CREATE FUNCTION portal_search_document() RETURNS trigger AS $$
    BEGIN
      NEW.document :=
        setweight(to_tsvector(NEW.ts_config::regconfig, coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector(NEW.ts_config::regconfig,
            coalesce(NEW.summary, '') || ' ' || coalesce(NEW.product, '')), 'B') ||
        setweight(to_tsvector(NEW.ts_config::regconfig, coalesce(NEW.body, '')), 'C') ||
        setweight(to_tsvector(NEW.ts_config::regconfig, coalesce(NEW.attachments, '')), 'D');
      RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER portal_search_document BEFORE INSERT OR UPDATE
        ON portal_search_searchentry FOR EACH ROW EXECUTE FUNCTION portal_search_document()""",
    "CREATE INDEX portal_search_document_gin ON portal_search_searchentry USING gin (document)",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS portal_search_document_gin",
    "DROP TRIGGER IF EXISTS portal_search_document ON portal_search_searchentry",
    "DROP FUNCTION IF EXISTS portal_search_document()",
    "ALTER TABLE portal_search_searchentry DROP COLUMN IF EXISTS document",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRES}.get(vendor, []):
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("portal_search", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
