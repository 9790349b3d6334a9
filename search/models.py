"""Tables of the database search backend (the embedded default).

``SearchEntry`` holds one row per indexed item: the text (which SQLite's FTS5 table
``portal_search_fts`` indexes as external content, kept in step by triggers) and the audience as
filter columns. On PostgreSQL a ``document`` tsvector column with a GIN index is added by the
migration (per-row language config, maintained by a trigger); it is not a model field so the model
stays database-neutral. ``SearchChainNode`` holds the per-node rules of items that carry a grant
somewhere on their chain (see permissions.policies.SearchAudience).
"""

from django.db import models


class SearchEntry(models.Model):
    id = models.BigIntegerField(primary_key=True)  # the page id
    locale = models.CharField(max_length=12)
    ts_config = models.CharField(max_length=40, default="simple")
    kind = models.CharField(max_length=40)
    product_key = models.CharField(max_length=60, blank=True, default="")
    product = models.CharField(max_length=200, blank=True, default="")
    tags = models.TextField(default="|")  # "|tag|tag|"
    title = models.TextField()
    summary = models.TextField(blank=True, default="")
    body = models.TextField(blank=True, default="")
    attachments = models.TextField(blank=True, default="")
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


class SearchChainNode(models.Model):
    entry = models.ForeignKey(SearchEntry, on_delete=models.CASCADE, related_name="chain")
    min_rank = models.PositiveIntegerField(null=True)
    regions = models.TextField(null=True)
    types = models.TextField(null=True)
    granted = models.TextField(default="|")

    def __str__(self) -> str:
        return f"chain node of {self.entry_id}"


class SearchTerm(models.Model):
    """Vocabulary for typo tolerance on PostgreSQL (SQLite reads FTS5's own vocabulary)."""

    term = models.CharField(max_length=60, primary_key=True)

    def __str__(self) -> str:
        return self.term
