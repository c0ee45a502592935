"""``python -m scanners`` reads the environment as Django's settings do (``manage.py archcheck``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanners.archcheck_settings import docker_config_credentials, settings_from_environ

ROOT = Path(__file__).resolve().parents[2]


_COMPARE = """
import django
django.setup()
from readiness import engine
from scanners.archcheck_settings import settings_from_environ
a, b = engine.archcheck_settings(), settings_from_environ()
print(a == b or f"{a} != {b}")
"""


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {
            "READINESS_PLATFORMS": "linux/arm64",
            "READINESS_INDEX_URL": "https://index.test/simple/",
            "READINESS_DEFAULT_PYTHON": "3.11",
            "READINESS_DEFAULT_LIBC": "musl:1.2",
            "READINESS_INDEX_CACHE_SECONDS": "60",
            "READINESS_INDEX_RETRIES": "1",
            "READINESS_HTTP_DEADLINE": "5",
            "READINESS_MAX_FILE_BYTES": "1000",
            "READINESS_MAX_PACKAGES_PER_LOCKFILE": "10",
            "READINESS_MAX_PACKAGES_PER_REPO": "20",
            "READINESS_REGISTRY_LOOKUPS": "0",
            "READINESS_REGISTRY_CACHE_SECONDS": "7",
            "READINESS_REGISTRY_FAILURE_SECONDS": "8",
            "READINESS_REGISTRY_ENDPOINTS": "docker.io=http://127.0.0.1:9",
            "READINESS_REGISTRY_INSECURE": "127.0.0.1:9",
        },
    ],
    ids=["defaults", "every-variable"],
)
def test_the_environment_gives_the_settings_django_gives(tmp_path, environ):
    env = {k: v for k, v in os.environ.items() if not k.startswith("READINESS_")}
    env.update(environ, READINESS_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="readiness.settings")
    env.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-c", _COMPARE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "True", result.stdout + result.stderr


def test_values_are_read_as_settings_py_reads_them(tmp_path):
    s = settings_from_environ(
        {
            "READINESS_VAR_DIR": str(tmp_path),
            "READINESS_PLATFORMS": "linux/arm64",
            "READINESS_REGISTRY_LOOKUPS": "off",
            "READINESS_REGISTRY_ENDPOINTS": "docker.io=https://mirror.test,bad",
            "READINESS_REGISTRY_INSECURE": "a:5000,b",
            "READINESS_INDEX_CACHE_SECONDS": "60",
        }
    )
    assert s.git_cache_dir == tmp_path / "git-cache"
    assert s.platforms == ("linux/arm64",)
    assert s.registry_lookups is False
    assert s.registry_endpoints == {"docker.io": "https://mirror.test"}
    assert s.registry_insecure == ("a:5000", "b")
    assert s.index_cache_seconds == 60
    with pytest.raises(ValueError, match="READINESS_REGISTRY_LOOKUPS='maybe' is not a boolean"):
        settings_from_environ({"READINESS_REGISTRY_LOOKUPS": "maybe"})


def test_a_bad_docker_config_names_the_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("[]")
    with pytest.raises(ValueError, match="not a Docker config.json"):
        docker_config_credentials(str(path))
    assert docker_config_credentials("") == {}
