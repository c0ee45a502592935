"""The roles as Django groups: viewer, engineer, manager (superusers have every permission).

The permissions are the product's own (``readiness.request_scan`` …) plus the admin's change
permissions a manager needs for campaigns. Written out here rather than imported, as migrations
must be: :data:`readiness.access.ROLES` is the same table, and a test keeps the two equal.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "viewer": [],
    "engineer": ["request_scan", "mark_upstream", "triage_blocker"],
    "manager": [
        "request_scan",
        "mark_upstream",
        "triage_blocker",
        "manage_campaign",
        "manage_subscriptions",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations ran; these groups need them now.
    app_config = apps.get_app_config("readiness")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="readiness", codename__in=codenames))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("readiness", "0007_triage_campaigns_roles"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
