# Compiled expiry (docs/scheduling.md): the page's own expire_at (a translation's: the earlier of
# its own and its source's) and the earliest one down the chain, filled for existing rows.

from django.db import migrations, models


def fill_expiry(apps, schema_editor):
    PageAudience = apps.get_model("permissions", "PageAudience")
    Page = apps.get_model("wagtailcore", "Page")
    rows = list(PageAudience.objects.select_related("page").order_by("page__path"))
    if not rows:
        return
    source_ids = {row.source_id for row in rows if row.source_id is not None}
    source_expiry = dict(Page.objects.filter(pk__in=source_ids).values_list("pk", "expire_at"))
    steplen = 4
    by_path = {}
    changed = []
    for row in rows:
        path = row.page.path
        moments = [row.page.expire_at]
        if row.source_id is not None:
            moments.append(source_expiry.get(row.source_id))
        known = [m for m in moments if m is not None]
        own = min(known) if known else None
        above = None
        for depth in range(len(path) // steplen - 1, 0, -1):
            prefix = path[: steplen * depth]
            if prefix in by_path:
                above = by_path[prefix]
                break
        known = [m for m in (own, above) if m is not None]
        eff = min(known) if known else None
        by_path[path] = eff
        if own is not None or eff is not None:
            row.own_expire_at, row.eff_expire_at = own, eff
            changed.append(row)
    PageAudience.objects.bulk_update(changed, ["own_expire_at", "eff_expire_at"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0007_translation_audience"),
    ]

    operations = [
        migrations.AddField(
            model_name="pageaudience",
            name="own_expire_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="pageaudience",
            name="eff_expire_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill_expiry, migrations.RunPython.noop),
    ]
