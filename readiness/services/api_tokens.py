"""API tokens: made (shown once), checked on every API request, revoked. Only their sha256 is stored.

A token is 32 random bytes, URL-safe, with a ``rdy_`` prefix so a leaked one is recognisable
(secret scanners match on such prefixes). Its sha256 is enough to look it up: the token carries
256 bits of randomness, so no slow password hash is needed to resist guessing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone

from readiness.models import ApiToken

__all__ = [
    "TOKEN_PREFIX",
    "NewToken",
    "token_authenticate",
    "token_create",
    "token_revoke",
    "token_sha256",
    "user_by_username",
]

TOKEN_PREFIX = "rdy_"
# last_used_at is a hint for people ("used 3 days ago"), not an audit log: written at most this often.
_LAST_USED_EVERY = dt.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class NewToken:
    token: ApiToken
    secret: str  # the only time the full token exists outside the client


def token_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, user, name: str) -> NewToken:
    name = " ".join(name.split())[:100] or "API token"
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=secret[:10], token_sha256=token_sha256(secret))
    return NewToken(token=token, secret=secret)


def token_revoke(*, token_id: int, user=None) -> bool:
    """Revoke a token (of ``user`` when given: people revoke only their own). False: no such active token."""
    qs = ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True)
    if user is not None:
        qs = qs.filter(user=user)
    return bool(qs.update(revoked_at=timezone.now()))


def token_authenticate(secret: str):
    """The active user an active token belongs to, or ``None``. One query (two when it records the use)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_sha256=token_sha256(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def user_by_username(username: str):
    """For the ``api_token`` command: the user, or ``None``."""
    return get_user_model().objects.filter(username=username).first()
