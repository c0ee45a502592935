from __future__ import annotations

from django.db import models


class IndexPage(models.Model):
    """A package index project page, cached for every worker (scanners.index.IndexCache in PostgreSQL).

    ``changed_at`` moves only when the body changes (not on a 304), so a scan can tell whether
    anything it depends on is newer than its previous answer.
    """

    index_url = models.CharField(max_length=500)
    name = models.CharField(max_length=200)
    body = models.BinaryField()
    content_type = models.CharField(max_length=200)
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    page_url = models.CharField(max_length=1000, blank=True, help_text="final URL after redirects (relative links)")
    fetched_at = models.DateTimeField()
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["index_url", "name"], name="one_page_per_project")]


class CoreMetadata(models.Model):
    """A release file's core metadata (PEP 658 ``<file>.metadata``), kept for every worker and scan.

    A file's metadata never changes (the file is immutable, and the key is its sha256 where the
    index gives one), so rows are written once and never refreshed. ``body`` is zlib-compressed.
    """

    key = models.CharField(max_length=1000, unique=True, help_text="sha256:<digest> of the file, else its URL")
    body = models.BinaryField()
    fetched_at = models.DateTimeField(auto_now_add=True)
