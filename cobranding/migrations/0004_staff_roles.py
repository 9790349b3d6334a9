"""Co-branding's staff permissions for Wagtail's role groups (issue #13):

* ``cobranding.change_cobrandtemplate`` (mark zones on masters, preview, save a template
  version): Editors and Moderators, who add the marketing assets (JOURNEYS: Eva marks the logo
  and contact zones of the master PDF she uploads).
* ``cobranding.identify_cobrandissue`` ("Identify a file": names the partner user a copy was
  made for, personal data): Moderators only, the channel team that follows up a leaked copy.

Idempotent; the permissions are made here when post_migrate has not made them yet (a new
database)."""

from django.db import migrations

GRANTS = {
    ("cobrandtemplate", "change_cobrandtemplate", "Can change co-brand template"): (
        "Editors",
        "Moderators",
    ),
    ("cobrandissue", "identify_cobrandissue", "Can identify co-branded files"): ("Moderators",),
}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for (model, codename, name), groups in GRANTS.items():
        content_type, _ = ContentType.objects.get_or_create(app_label="cobranding", model=model)
        permission, _ = Permission.objects.get_or_create(
            codename=codename, content_type=content_type, defaults={"name": name}
        )
        for group_name in groups:
            group, _ = Group.objects.get_or_create(name=group_name)
            group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for (_model, codename, _name), groups in GRANTS.items():
        permissions = Permission.objects.filter(
            content_type__app_label="cobranding", codename=codename
        )
        for group in Group.objects.filter(name__in=groups):
            group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("cobranding", "0003_templates_renders_issues"),
        ("permissions", "0006_access_roles_and_approval"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
