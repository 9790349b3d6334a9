"""Tables of the database search backend (the embedded default).

``SearchEntry`` holds one narrow row per indexed item: the audience as filter columns, the facet
columns and the dates. ``SearchText`` holds the item's text. They are split on purpose: a search
joins every full-text match with its entry to apply the entitlement and count facets, and with the
multi-kilobyte text in the same row each of those lookups read the text's overflow pages (SQLite:
34 ms against 1.4 ms for 640 matches at 10k items). Both use the page id as an INTEGER primary
key, which on SQLite is the rowid itself (one B-tree seek per join, not two).

SQLite's FTS5 tables ``portal_search_fts`` (all text columns) and ``portal_search_head`` (title,
summary, product) index ``SearchText`` as external content, kept in step by triggers. On PostgreSQL
the migration adds ``document`` and ``head`` tsvector columns with GIN indexes to ``SearchText``
(per-row language config, maintained by a trigger); they are not model fields so the models stay
database-neutral. ``SearchChainNode`` holds the per-node rules of items that carry a grant
somewhere on their chain (see permissions.policies.SearchAudience).
"""

from django.db import models


class SearchEntry(models.Model):
    id = models.IntegerField(primary_key=True)  # the page id
    locale = models.CharField(max_length=12)
    kind = models.CharField(max_length=40)
    product_key = models.CharField(max_length=60, blank=True, default="")
    tags = models.TextField(default="|")  # "|tag|tag|"
    first_published_at = models.DateTimeField(null=True)
    last_published_at = models.DateTimeField(null=True)
    expire_at = models.DateTimeField(null=True)
    live = models.BooleanField(default=True)
    # audience (permissions.policies.SearchAudience), tokens as in PageAudience
    eff_public = models.BooleanField(default=False)
    eff_min_rank = models.PositiveIntegerField(null=True)
    eff_regions = models.TextField(null=True)
    eff_types = models.TextField(null=True)
    excepted_orgs = models.TextField(default="|")
    granted_orgs = models.TextField(default="|")

    class Meta:
        indexes = [
            models.Index(fields=["locale", "kind"]),
            models.Index(fields=["last_published_at"]),
        ]

    def __str__(self) -> str:
        return f"search entry {self.id}"


class SearchText(models.Model):
    """The searchable text of an entry (the FTS5 tables' external content on SQLite)."""

    entry = models.OneToOneField(
        SearchEntry, on_delete=models.CASCADE, primary_key=True, db_column="id", related_name="text"
    )
    ts_config = models.CharField(max_length=40, default="simple")
    title = models.TextField()
    summary = models.TextField(blank=True, default="")
    product = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(blank=True, default="")
    attachments = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"search text {self.entry_id}"


class SearchChainNode(models.Model):
    entry = models.ForeignKey(SearchEntry, on_delete=models.CASCADE, related_name="chain")
    min_rank = models.PositiveIntegerField(null=True)
    regions = models.TextField(null=True)
    types = models.TextField(null=True)
    granted = models.TextField(default="|")

    def __str__(self) -> str:
        return f"chain node of {self.entry_id}"


class SearchTerm(models.Model):
    """Vocabulary for typo tolerance: every word of the indexed text, loaded into each process.

    ``documents`` (SQLite) is how many items held the word at the last rebuild (words added
    since count 1): a planning hint only (``Vocabulary.estimate``)."""

    term = models.CharField(max_length=60, primary_key=True)
    documents = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.term


class IndexOutbox(models.Model):
    """An index update that a committed change still owes the search indexes.

    Rows are written by search/signal_handlers.py inside the transaction of the change that
    causes them, so they exist exactly when that change committed; ``search.outbox.outbox_drain``
    applies them and deletes them only after the index write succeeded (docs/search.md,
    "Keeping the index in step").
    """

    class Kind(models.TextChoices):
        SUBTREE = "subtree"  # (re)index the items at or below page_id
        REMOVE = "remove"  # the item page_id was deleted
        EVERYTHING = "everything"  # a tier rank or the region tree changed: rebuild

    kind = models.CharField(max_length=12, choices=Kind.choices)
    page_id = models.IntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    # Backoff after a failed drain; new rows are due at once.
    next_attempt_at = models.DateTimeField(null=True, db_index=True)
    last_error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.kind} {self.page_id or ''}".strip()
