"""Per-user tokens for the read API (``Authorization: Bearer …``): only their sha256 is stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["ApiToken"]


class ApiToken(models.Model):
    """A token is shown once, when it is made; the database keeps its sha256 and its first characters
    (``prefix``, to tell tokens apart on the settings page). Revoking keeps the row, with its date."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="what the token is for, e.g. 'CI gate'")
    prefix = models.CharField(max_length=12, help_text="the token's first characters: not enough to use it")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
