"""The Celery app. Workers: ``celery -A readiness worker``; beat: ``celery -A readiness beat``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readiness.settings")

app = Celery("readiness")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
