"""Roles of the review (CLARIFICATIONS #2): who may change access, and the "Approval" workflow.

* ``permissions.change_page_access`` for the Editors and Moderators groups (superusers have it
  anyway; Marketers never).
* Editors add and change pages but do not publish; Moderators add, change and publish.
* The "Approval" workflow with one group-approval task for Moderators, assigned to every portal
  home (the library trees). Homes created later get it from ``approval_workflow_ensure``.

Idempotent: re-running adds nothing twice (services.approval_workflow_ensure does the same with
the real models).
"""

from django.db import migrations

WORKFLOW = "Approval"
TASK = "Approval by Moderators"


def ensure(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")

    access_ct, _ = ContentType.objects.get_or_create(app_label="permissions", model="accesschange")
    change_access, _ = Permission.objects.get_or_create(
        codename="change_page_access",
        content_type=access_ct,
        defaults={"name": "Can change who may see pages"},
    )
    editors, _ = Group.objects.get_or_create(name="Editors")
    moderators, _ = Group.objects.get_or_create(name="Moderators")
    admin_access = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    ).first()
    for group in (editors, moderators):
        group.permissions.add(change_access)
        if admin_access:
            group.permissions.add(admin_access)

    page_ct, _ = ContentType.objects.get_or_create(app_label="wagtailcore", model="page")

    def page_perm(codename):
        return Permission.objects.filter(content_type=page_ct, codename=codename).first()

    root = Page.objects.filter(depth=1).order_by("path").first()
    if root is not None:
        for group, codenames in (
            (editors, ("add_page", "change_page")),
            (moderators, ("add_page", "change_page", "publish_page")),
        ):
            for codename in codenames:
                perm = page_perm(codename)
                if perm:
                    GroupPagePermission.objects.get_or_create(
                        group=group, page=root, permission=perm
                    )
        publish = page_perm("publish_page")
        if publish:
            # Editors submit; only Moderators publish (anywhere in the tree).
            GroupPagePermission.objects.filter(group=editors, permission=publish).delete()

    task_ct, _ = ContentType.objects.get_or_create(
        app_label="wagtailcore", model="groupapprovaltask"
    )
    task = GroupApprovalTask.objects.filter(name=TASK).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=TASK, active=True, content_type=task_ct)
    task.groups.add(moderators)
    workflow = Workflow.objects.filter(name=WORKFLOW).first()
    if workflow is None:
        workflow = Workflow.objects.create(name=WORKFLOW, active=True)
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    home_ct = ContentType.objects.filter(app_label="kb", model="portalhomepage").first()
    if home_ct is not None:
        for home in Page.objects.filter(content_type=home_ct):
            if not WorkflowPage.objects.filter(page=home).exists():
                WorkflowPage.objects.create(page=home, workflow=workflow)


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0005_accesschange"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(ensure, migrations.RunPython.noop)]
