"""The settings ``archcheck`` reads, from the environment, without Django.

The same variables, defaults and checks as ``readiness/settings.py`` (the README's configuration
table), so that ``python -m scanners`` and ``manage.py archcheck`` agree; the Django command
builds the same value from Django's settings (``readiness.engine.archcheck_settings``) and a
test holds the two equal. A malformed value is bad input: :class:`ValueError` naming it.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scanners.env import comma_list, env_bool, env_int, key_values

__all__ = ["ArchcheckSettings", "docker_config_credentials", "settings_from_environ"]

_CHECKOUT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ArchcheckSettings:
    var_dir: Path
    git_cache_dir: Path
    index_url: str = ""  # empty: PIP_INDEX_URL, pip's configuration, the public index
    platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64")
    default_python: str = "3.12"
    default_libc: str = "glibc:2.36"
    index_cache_seconds: int = 6 * 3600
    index_retries: int = 4
    http_deadline: int = 60
    max_file_bytes: int = 2_000_000
    max_packages_per_lockfile: int = 5000
    max_packages_per_repo: int = 5000
    registry_lookups: bool = True
    registry_cache_seconds: int = 24 * 3600
    registry_failure_seconds: int = 600
    registry_auth_file: str = ""
    registry_endpoints: dict[str, str] = field(default_factory=dict)
    registry_insecure: tuple[str, ...] = ()


def settings_from_environ(environ: Mapping[str, str] = os.environ) -> ArchcheckSettings:
    def text(name: str, default: str = "") -> str:
        return environ.get(name, default)

    def integer(name: str, default: int) -> int:
        return env_int(name, default, environ)

    def boolean(name: str, default: bool) -> bool:
        return env_bool(name, default, environ)

    var_dir = Path(environ.get("READINESS_VAR_DIR", _CHECKOUT / "var"))
    return ArchcheckSettings(
        var_dir=var_dir,
        git_cache_dir=Path(text("READINESS_GIT_CACHE_DIR", str(var_dir / "git-cache"))),
        index_url=text("READINESS_INDEX_URL"),
        platforms=tuple(comma_list(text("READINESS_PLATFORMS", "linux/amd64,linux/arm64"))),
        default_python=text("READINESS_DEFAULT_PYTHON", "3.12"),
        default_libc=text("READINESS_DEFAULT_LIBC", "glibc:2.36"),
        index_cache_seconds=integer("READINESS_INDEX_CACHE_SECONDS", 6 * 3600),
        index_retries=integer("READINESS_INDEX_RETRIES", 4),
        http_deadline=integer("READINESS_HTTP_DEADLINE", 60),
        max_file_bytes=integer("READINESS_MAX_FILE_BYTES", 2_000_000),
        max_packages_per_lockfile=integer("READINESS_MAX_PACKAGES_PER_LOCKFILE", 5000),
        max_packages_per_repo=integer("READINESS_MAX_PACKAGES_PER_REPO", 5000),
        registry_lookups=boolean("READINESS_REGISTRY_LOOKUPS", True),
        registry_cache_seconds=integer("READINESS_REGISTRY_CACHE_SECONDS", 24 * 3600),
        registry_failure_seconds=integer("READINESS_REGISTRY_FAILURE_SECONDS", 600),
        registry_auth_file=text("READINESS_REGISTRY_AUTH_FILE"),
        registry_endpoints=key_values(text("READINESS_REGISTRY_ENDPOINTS")),
        registry_insecure=tuple(comma_list(text("READINESS_REGISTRY_INSECURE"))),
    )


def docker_config_credentials(path: str) -> dict[str, tuple[str, str]]:
    """``{registry: (user, password)}`` from a Docker ``config.json`` (the one ``docker login`` writes).

    :raises ValueError: the file cannot be read or is not such a file (the message names it).
    """
    if not path:
        return {}
    try:
        auths = json.loads(Path(path).read_text()).get("auths", {})
        out = {}
        for host, entry in auths.items():
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            out[host.removeprefix("https://").split("/")[0]] = (user, password)
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"READINESS_REGISTRY_AUTH_FILE={path}: not a Docker config.json ({type(exc).__name__})"
        ) from None
