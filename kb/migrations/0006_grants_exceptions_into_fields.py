"""Existing guardian grants/exceptions become the pages' grant/exception fields.

Until now they were written straight into guardian permissions when a page was saved; now they
are page fields (in the revision) and guardian is their published mirror. Copy every page's
current rows into the fields and into its revisions that lack them, so existing pages keep their
access and their next publish (of the latest or a scheduled revision) does not drop it.
"""

from django.db import migrations

FIELDS = {"audience_grant": "audience_grants", "audience_exception": "audience_exceptions"}


def copy_into_fields(apps, schema_editor):
    Perm = apps.get_model("permissions", "PageGroupObjectPermission")
    Organization = apps.get_model("permissions", "PartnerOrganization")
    Revision = apps.get_model("wagtailcore", "Revision")
    ContentType = apps.get_model("contenttypes", "ContentType")
    org_by_group = dict(Organization.objects.values_list("group_id", "id"))
    held: dict[int, dict[str, set[int]]] = {}
    for page_id, group_id, codename in Perm.objects.filter(
        permission__codename__in=list(FIELDS)
    ).values_list("content_object_id", "group_id", "permission__codename"):
        if group_id in org_by_group:
            fields = held.setdefault(page_id, {name: set() for name in FIELDS.values()})
            fields[FIELDS[codename]].add(org_by_group[group_id])
    if not held:
        return
    for model_name in ("LibraryIndexPage", "PortalItemPage"):
        model = apps.get_model("kb", model_name)
        page_ids = set(model.objects.filter(pk__in=held).values_list("pk", flat=True))
        for name in FIELDS.values():
            field = model._meta.get_field(name)
            through = field.remote_field.through
            source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
            existing = set(
                through.objects.filter(**{f"{source}_id__in": page_ids}).values_list(
                    f"{source}_id", f"{target}_id"
                )
            )
            through.objects.bulk_create(
                [
                    through(**{f"{source}_id": page_id, f"{target}_id": org_id})
                    for page_id in sorted(page_ids)
                    for org_id in sorted(held[page_id][name])
                    if (page_id, org_id) not in existing
                ]
            )
    page_type = ContentType.objects.filter(app_label="wagtailcore", model="page").first()
    if page_type is None:
        return
    for revision in Revision.objects.filter(
        base_content_type=page_type, object_id__in=[str(pk) for pk in held]
    ).iterator():
        content = revision.content or {}
        missing = [name for name in FIELDS.values() if name not in content]
        if missing:
            for name in missing:
                content[name] = sorted(held[int(revision.object_id)][name])
            revision.content = content
            revision.save(update_fields=["content"])


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0005_audience_grants_exceptions"),
        ("permissions", "0005_accesschange"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(copy_into_fields, migrations.RunPython.noop)]
