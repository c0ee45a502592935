"""Notifications on a real Celery worker: the scan's task queues the notification task, which queues
the delivery; a receiver that answers 500 then 200 gets the delivery twice, logged once, as retried."""

from __future__ import annotations

import pytest

from readiness.models import NotificationDelivery, NotificationRule, Scan
from readiness.services.scans import scan_request
from tests.readiness.notify_support import READY, switching_repo
from tests.scanners.git_helpers import commit_files
from tests.support.chat_receivers import Receiver

pytestmark = pytest.mark.slow


def _scan(repo, worker) -> Scan:
    scan = scan_request(repo=repo, trigger="manual")
    worker.wait_for(lambda: Scan.objects.get(pk=scan.pk).is_final, f"scan {scan.pk}")
    return Scan.objects.get(pk=scan.pk)


def test_a_500_then_200_receiver_gets_one_delivery_logged_as_retried(tmp_path, scan_index, celery_worker):
    with Receiver("webhook", statuses=(500, 200), secret="k").start() as hook:
        NotificationRule.objects.create(
            name="ready", event="repo-became-ready", channel="webhook", target=hook.url, secret="k"
        )
        repo, path = switching_repo(tmp_path, scan_index)
        assert _scan(repo, celery_worker).summary["linux/arm64"]["ready"] is False
        commit_files(path, {"requirements.txt": READY}, "upgrade never-arm")
        assert _scan(repo, celery_worker).summary["linux/arm64"]["ready"] is True
        celery_worker.wait_for(
            lambda: NotificationDelivery.objects.filter(state="sent").exists(), "the delivery is sent"
        )
        (delivery,) = NotificationDelivery.objects.all()
        assert (delivery.state, delivery.attempts, delivery.retried, delivery.response_status) == ("sent", 2, True, 200)
        assert [r.status for r in hook.received] == [500, 200]
        assert {r.headers["x-readiness-delivery"] for r in hook.received} == {str(delivery.delivery_id)}
        assert hook.bad_signatures == 0
