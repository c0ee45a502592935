"""Django settings, read from environment variables only (no local_settings override).

Every value has a working default so that a fresh checkout runs: SQLite in the project and
Celery tasks executed in-process. Production and CI set ``DATABASE_URL`` (PostgreSQL) and
``CELERY_BROKER_URL`` (Redis). A malformed value raises ``ImproperlyConfigured`` at start-up
rather than misbehaving later.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from scanners.env import comma_list, env_bool, env_int, key_values

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("READINESS_VAR_DIR", BASE_DIR / "var"))


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    try:
        return env_bool(name, default)
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None


def envint(name: str, default: int) -> int:
    try:
        return env_int(name, default)
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None


def envsecret(name: str, default: str = "") -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker/Kubernetes secrets)."""
    if path := os.environ.get(f"{name}_FILE"):
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r}: {exc.strerror}") from None
    return os.environ.get(name, default)


def _dev_secret_key() -> str:
    """A random key kept in var/ so that sessions survive restarts of the zero-config demo."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


DEBUG = envbool("DEBUG", False)
SECRET_KEY = envsecret("SECRET_KEY") or _dev_secret_key()
ALLOWED_HOSTS = [h for h in envstr("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h]
SITE_ROOT = envstr("SITE_ROOT", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "readiness",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "readiness.middleware.ContentSecurityPolicy",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "readiness.middleware.RejectNulBytes",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "readiness.urls"
WSGI_APPLICATION = "readiness.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "readiness.access.permissions_context",
            ],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'readiness.sqlite3'}"
try:
    # Connections live a minute and are checked before reuse: a Celery worker runs a task per
    # scan, and a new PostgreSQL connection per task (a backend forked, its catalog caches cold)
    # cost the server more CPU than the scan's own queries (readiness.celery keeps them).
    DATABASES = {
        "default": dj_database_url.parse(
            envstr("DATABASE_URL") or _default_db, conn_max_age=60, conn_health_checks=True
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from None
SILENCED_SYSTEM_CHECKS: list[str] = []
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # SQLite cannot enforce the roll-ups' NULLS NOT DISTINCT constraint. Nothing relies on it
    # there: roll-ups are replaced (delete, then insert) a day at a time in one transaction, by one
    # process. Without this every command of the zero-configuration set-up starts with the warning.
    SILENCED_SYSTEM_CHECKS.append("models.W047")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# Celery: without a broker, tasks run in-process (eager) so the demo needs no Redis. The
# in-memory transport then stands in for the broker: with an empty URL kombu would assume an AMQP
# server on localhost and warn "No hostname was supplied" in the demo's output.
CELERY_TASK_ALWAYS_EAGER = not envstr("CELERY_BROKER_URL")
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
# Celery's Django fixup closes every database connection before and after each task unless this
# is set; readiness.celery then closes only those too old (CONN_MAX_AGE) or broken instead.
CELERY_DB_REUSE_MAX = 1_000_000
# One queue name per deployment (or per test run, so a killed test worker's unacked message can
# never be redelivered to another run's worker with a scan id of the wrong database).
CELERY_TASK_DEFAULT_QUEUE = envstr("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_BEAT_SCHEDULE = {
    "scan-organisation-nightly": {"task": "readiness.tasks.scan_organisation", "schedule": 24 * 3600},
    "reap-stale-scans": {"task": "readiness.tasks.reap_stale_scans", "schedule": 60},
    "rollup-daily": {"task": "readiness.tasks.rollup_daily", "schedule": 3600},
    "purge-stale-pull-requests": {"task": "readiness.tasks.purge_stale_pull_requests", "schedule": 24 * 3600},
}

# Scanning engine.
READINESS_INDEX_URL = envstr("READINESS_INDEX_URL")  # empty: PIP_INDEX_URL, pip's config, public index
READINESS_DEFAULT_PYTHON = envstr("READINESS_DEFAULT_PYTHON", "3.12")
READINESS_DEFAULT_LIBC = envstr("READINESS_DEFAULT_LIBC", "glibc:2.36")
READINESS_PLATFORMS = comma_list(envstr("READINESS_PLATFORMS", "linux/amd64,linux/arm64"))
READINESS_INDEX_CACHE_SECONDS = envint("READINESS_INDEX_CACHE_SECONDS", 6 * 3600)
# Extra attempts per index request after a network error or 5xx (the first retry waits 0.5 s, then doubling).
READINESS_INDEX_RETRIES = envint("READINESS_INDEX_RETRIES", 4)
# Seconds one HTTP call (index page, core metadata, GitHub page) may take in all, retries and a slow
# body included: no page may take more than 60 s, however slowly a server trickles it.
READINESS_HTTP_DEADLINE = envint("READINESS_HTTP_DEADLINE", 60)
READINESS_GIT_CACHE_DIR = Path(envstr("READINESS_GIT_CACHE_DIR", str(VAR_DIR / "git-cache")))
READINESS_MAX_FILE_BYTES = envint("READINESS_MAX_FILE_BYTES", 2_000_000)
# Past these, the first packages are checked and the answer is incomplete (a 73,505-name file
# asked the index 73,505 times); services lock a few hundred.
READINESS_MAX_PACKAGES_PER_LOCKFILE = envint("READINESS_MAX_PACKAGES_PER_LOCKFILE", 5000)
READINESS_MAX_PACKAGES_PER_REPO = envint("READINESS_MAX_PACKAGES_PER_REPO", 5000)

GITHUB_WEBHOOK_SECRET = envsecret("GITHUB_WEBHOOK_SECRET")
GITHUB_TOKEN = envsecret("GITHUB_TOKEN")
# The REST API that `import_repos --github-org` lists; GitHub Enterprise Server: https://HOST/api/v3
GITHUB_API_URL = envstr("GITHUB_API_URL", "https://api.github.com").rstrip("/")
# Pull-request check runs: as a GitHub App (its id and PEM private key: installation tokens are
# made per repository) when both are set, else with GITHUB_TOKEN; with neither, checks are stored
# and shown on the repository page but not posted.
GITHUB_APP_ID = envstr("GITHUB_APP_ID")
GITHUB_APP_PRIVATE_KEY = envsecret("GITHUB_APP_PRIVATE_KEY")
# When a pull request's check run fails: "campaign" (a new blocker on a target of an active
# campaign covering the repo), "all" (on any target) or "never" (the conclusion is then neutral).
READINESS_PR_FAIL_ON = envstr("READINESS_PR_FAIL_ON", "campaign")
if READINESS_PR_FAIL_ON not in ("campaign", "all", "never"):
    raise ImproperlyConfigured(f"READINESS_PR_FAIL_ON={READINESS_PR_FAIL_ON!r}: use campaign, all or never")
# A check run GitHub refused (after the client's quick retries) is posted again after this many
# seconds, doubling, three times.
READINESS_PR_POST_RETRY_SECONDS = envint("READINESS_PR_POST_RETRY_SECONDS", 60)
if bool(GITHUB_APP_ID) != bool(GITHUB_APP_PRIVATE_KEY):
    raise ImproperlyConfigured("GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY go together: set both or neither")

EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Arch Readiness <readiness@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": envstr("LOG_LEVEL", "WARNING")},
}

# Weekly email report: sent once per subscription and ISO week, at or after this
# day and hour in this time zone. Beat fires the task hourly; the task sends only what is due.
READINESS_REPORT_DAY = envstr("READINESS_REPORT_DAY", "monday").strip().lower()
READINESS_REPORT_HOUR = envint("READINESS_REPORT_HOUR", 8)
READINESS_REPORT_TIMEZONE = envstr("READINESS_REPORT_TIMEZONE", "UTC")
if READINESS_REPORT_DAY not in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
    raise ImproperlyConfigured(
        f"READINESS_REPORT_DAY={READINESS_REPORT_DAY!r} is not a day of the week (monday … sunday)"
    )
if not 0 <= READINESS_REPORT_HOUR <= 23:
    raise ImproperlyConfigured(f"READINESS_REPORT_HOUR={READINESS_REPORT_HOUR} is not an hour (0-23)")
try:
    import zoneinfo as _zoneinfo

    _zoneinfo.ZoneInfo(READINESS_REPORT_TIMEZONE)
except (ValueError, _zoneinfo.ZoneInfoNotFoundError):
    raise ImproperlyConfigured(
        f"READINESS_REPORT_TIMEZONE={READINESS_REPORT_TIMEZONE!r} is not a time zone name"
    ) from None
CELERY_BEAT_SCHEDULE["weekly-reports"] = {"task": "readiness.tasks.send_weekly_reports", "schedule": 3600}

# GitHub webhooks. Pushes within this many seconds of the first one give one scan:
# the scan task waits this long, so a burst of pushes collapses into the one queued scan.
READINESS_WEBHOOK_COALESCE_SECONDS = envint("READINESS_WEBHOOK_COALESCE_SECONDS", 30)
# Larger bodies are refused (413) before they are read, so nobody can make us hash gigabytes.
READINESS_WEBHOOK_MAX_BYTES = envint("READINESS_WEBHOOK_MAX_BYTES", 5_000_000)

# Upstream issue suggestions: a package's project URLs (from its core metadata) are
# fetched once per this period. The deep check reads pure/universal2 wheels' zip directories
# with Range requests to catch mislabelled wheels; off by default (a few requests per wheel).
READINESS_UPSTREAM_METADATA_SECONDS = envint("READINESS_UPSTREAM_METADATA_SECONDS", 7 * 24 * 3600)
READINESS_DEEP_CHECK = envbool("READINESS_DEEP_CHECK", False)
# Seconds a refresh of the upstream-issue drafts waits after a scan marks a package (with a
# broker): the scans finishing meanwhile are refreshed together by it.
READINESS_UPSTREAM_REFRESH_DELAY = envint("READINESS_UPSTREAM_REFRESH_DELAY", 10)
CELERY_BEAT_SCHEDULE["refresh-upstream"] = {"task": "readiness.tasks.refresh_upstream", "schedule": 24 * 3600}
# Snoozed blockers open again on their date by themselves; hourly, the history says so too.
CELERY_BEAT_SCHEDULE["wake-snoozed"] = {"task": "readiness.tasks.wake_snoozed_blockers", "schedule": 3600}


# Base-image lookups: ask registries which platforms each FROM image provides.
READINESS_REGISTRY_LOOKUPS = envbool("READINESS_REGISTRY_LOOKUPS", True)  # off for closed networks
READINESS_REGISTRY_CACHE_SECONDS = envint("READINESS_REGISTRY_CACHE_SECONDS", 24 * 3600)
# A failed lookup (unreachable, auth refused, 404, 429, 5xx, timeout) is remembered this long, so
# an outage costs one lookup per image per period, not one per scan; then the registry is asked again.
READINESS_REGISTRY_FAILURE_SECONDS = envint("READINESS_REGISTRY_FAILURE_SECONDS", 600)
READINESS_REGISTRY_AUTH_FILE = envstr("READINESS_REGISTRY_AUTH_FILE")  # a Docker config.json with "auths"
# "docker.io=https://mirror.internal,registry.test:5000=http://127.0.0.1:5000": where a registry's API is.
READINESS_REGISTRY_ENDPOINTS = key_values(envstr("READINESS_REGISTRY_ENDPOINTS"))
READINESS_REGISTRY_INSECURE = comma_list(envstr("READINESS_REGISTRY_INSECURE"))

# Production behind HTTPS: one switch. READINESS_HTTPS=1 sends HSTS, redirects plain HTTP to
# HTTPS and keeps the session and CSRF cookies off plain HTTP, so `manage.py check --deploy` is
# clean. Behind a TLS-terminating proxy, READINESS_PROXY_SSL_HEADER names the header the proxy
# sets ("X-Forwarded-Proto: https"): without it Django sees every request as plain HTTP and the
# redirect would loop. Only set it when the proxy always sets (or strips) that header.
READINESS_HTTPS = envbool("READINESS_HTTPS", False)
READINESS_HSTS_SECONDS = envint("READINESS_HSTS_SECONDS", 365 * 24 * 3600)
READINESS_PROXY_SSL_HEADER = envstr("READINESS_PROXY_SSL_HEADER")
if READINESS_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = READINESS_HSTS_SECONDS
    # Subdomains and the preload directive are on by default (what `check --deploy` asks for);
    # an operator whose subdomains are not all HTTPS turns them off, and the check then stays
    # quiet about a choice made on purpose.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("READINESS_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("READINESS_HSTS_PRELOAD", True)
    SILENCED_SYSTEM_CHECKS += [
        check
        for check, chosen in (("security.W005", SECURE_HSTS_INCLUDE_SUBDOMAINS), ("security.W021", SECURE_HSTS_PRELOAD))
        if not chosen
    ]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
if READINESS_PROXY_SSL_HEADER:
    _header, _, _value = READINESS_PROXY_SSL_HEADER.partition(":")
    if not _header.strip() or not _value.strip():
        raise ImproperlyConfigured(
            f"READINESS_PROXY_SSL_HEADER={READINESS_PROXY_SSL_HEADER!r}: use 'Header-Name: value', e.g. 'X-Forwarded-Proto: https'"
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _header.strip().upper().replace("-", "_"), _value.strip())
# Sent on every response (with readiness.middleware's Content-Security-Policy): the pages load scripts
# and styles only from /static/ (plotly is served locally) and run no inline script.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
