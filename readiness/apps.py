from django.apps import AppConfig


class ReadinessConfig(AppConfig):
    name = "readiness"
    verbose_name = "Arch Readiness"

    def ready(self) -> None:
        # Services queue tasks by name (readiness.services.enqueue), so every process, web and
        # in-process (eager) mode included, must have registered them; the worker would import
        # this module anyway. Here rather than at the top: the tasks' services need the models,
        # which Django loads after importing this module.
        # After Django's own receiver has made the permissions (it is connected first).
        from django.db.models.signals import post_migrate

        from readiness import tasks  # noqa: F401
        from readiness.services.roles import roles_sync

        post_migrate.connect(roles_sync, sender=self, dispatch_uid="readiness-roles")
