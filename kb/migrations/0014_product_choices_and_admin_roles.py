"""Products in the admin: an item chooses among the source products only (limit_choices_to), and
Editors and Moderators may add and change products (the Products snippet, where the Translate
action is). Marketers get nothing here: they translate a product's name through the
locale-scoped Translate action and the XLIFF round trip (docs/translations.md).

Idempotent; the permissions are made here when post_migrate has not made them yet (a new
database)."""

import django.db.models.deletion
from django.db import migrations, models

import kb.models.snippets

CODENAMES = {"add_product": "Can add product", "change_product": "Can change product"}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    product_ct, _ = ContentType.objects.get_or_create(app_label="kb", model="product")
    permissions = [
        Permission.objects.get_or_create(
            codename=codename, content_type=product_ct, defaults={"name": name}
        )[0]
        for codename, name in CODENAMES.items()
    ]
    for name in ("Editors", "Moderators"):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    permissions = Permission.objects.filter(
        content_type__app_label="kb", codename__in=list(CODENAMES)
    )
    for group in Group.objects.filter(name__in=["Editors", "Moderators"]):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0013_product_translatable_constraints"),
        ("permissions", "0006_access_roles_and_approval"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterField(
            model_name="portalitempage",
            name="product",
            field=models.ForeignKey(
                blank=True,
                limit_choices_to=kb.models.snippets.source_products,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="items",
                to="kb.product",
            ),
        ),
        migrations.RunPython(grant, revoke),
    ]
