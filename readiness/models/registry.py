from __future__ import annotations

from django.db import models


class ImagePlatformsCache(models.Model):
    """Which platforms a registry said an image provides (scanners.registry.RegistryCache in the database).

    One row per (registry, repository, tag or digest): every worker shares the answer, so an
    image used by 500 Dockerfiles costs one lookup per cache period, and a failed one costs one
    lookup per failure period. A row with an empty repository and reference is a registry
    host's tripped circuit breaker.
    """

    registry = models.CharField(max_length=255)
    repository = models.CharField(max_length=255)
    reference = models.CharField(max_length=200, help_text="the tag, or the digest when pinned")
    platforms = models.JSONField(default=list)
    digest = models.CharField(max_length=100, blank=True)
    media_type = models.CharField(max_length=200, blank=True)
    fetched_at = models.DateTimeField(null=True, help_text="when the platforms were last confirmed; empty: never")
    error = models.CharField(max_length=500, blank=True, help_text="why the last lookup failed, if it did")
    failed_at = models.DateTimeField(null=True, blank=True, help_text="failures are remembered only a short while")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registry", "repository", "reference"], name="one_answer_per_image_reference"
            )
        ]
