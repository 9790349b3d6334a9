"""Permission rows for per-organisation grants and exceptions on pages, and the staff groups."""

from django.db import migrations

CODENAMES = {
    "audience_grant": "Audience: granted to this organisation",
    "audience_exception": "Audience: excluded for this organisation",
}


def create(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    Page = apps.get_model("wagtailcore", "Page")
    page_ct, _ = ContentType.objects.get_or_create(app_label="wagtailcore", model="page")
    for codename, name in CODENAMES.items():
        Permission.objects.get_or_create(
            codename=codename, content_type=page_ct, defaults={"name": name}
        )
    # Staff groups. "Editors" comes from Wagtail's own migrations; marketers get one of their own
    # (their per-locale limits arrive with the translation workflow).
    marketers, _ = Group.objects.get_or_create(name="Marketers")
    admin_access = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    ).first()
    if admin_access:
        marketers.permissions.add(admin_access)
    root = Page.objects.filter(depth=1).first()
    if root:
        for codename in ("add_page", "change_page"):
            perm = Permission.objects.filter(
                content_type=page_ct, codename=codename
            ).first()
            if perm:
                GroupPagePermission.objects.get_or_create(
                    group=marketers, page=root, permission=perm
                )


def remove(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(codename__in=CODENAMES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    run_before = []

    operations = [migrations.RunPython(create, remove)]
