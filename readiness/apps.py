from django.apps import AppConfig


class ReadinessConfig(AppConfig):
    name = "readiness"
    verbose_name = "Arch Readiness"

    def ready(self) -> None:
        # Services queue tasks by name (readiness.services.enqueue), so every process, web and
        # in-process (eager) mode included, must have registered them; the worker would import
        # this module anyway. Here rather than at the top: the tasks' services need the models,
        # which Django loads after importing this module.
        from readiness import tasks  # noqa: F401
