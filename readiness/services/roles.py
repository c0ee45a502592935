"""The role groups, kept as :data:`readiness.access.ROLES` says after every ``migrate`` (and flush).

Migration ``0008_roles`` creates them once; this keeps them true afterwards: a permission added
to a role in a later release reaches the existing group, and a database flushed by a test run
gets its groups back, as Django's own permissions do (``post_migrate``).
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from readiness.access import ACTIONS, ROLES

__all__ = ["roles_sync"]


def roles_sync(**_signal_kwargs) -> None:
    """Create the role groups and give each exactly its permissions (idempotent; a post_migrate receiver)."""
    by_codename = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="readiness",
            codename__in=[ACTIONS[a][0].split(".", 1)[1] for a in ACTIONS],
        )
    }
    for name, actions in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = [by_codename[c] for c in (ACTIONS[a][0].split(".", 1)[1] for a in actions) if c in by_codename]
        group.permissions.set(wanted)
