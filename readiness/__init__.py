"""Arch Readiness: the Django project and app (models, services, tasks, views)."""

from readiness.celery import app as celery_app

__all__ = ["celery_app"]
