"""Real pip against a loopback index: the command and environment every pip comparison starts from.

The tests that check the analyser against pip, and ``bench/bench_analyser.py``, run
``pip download`` with the user's own pip configuration out of the way (``PIP_*`` variables and
config files point elsewhere), without dependencies and without pip's cache, so the file pip
picks depends on the arguments alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from scanners.targets import Target

__all__ = ["PIP_DOWNLOAD", "pip_download", "pip_env"]

PIP_DOWNLOAD = (sys.executable, "-m", "pip", "download", "--isolated", "--no-deps", "--no-cache-dir")
"""The start of every command line; the caller adds ``-d``, ``--index-url`` and the target."""


def pip_env() -> dict[str, str]:
    """This process's environment without any pip configuration of the machine's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env |= {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return env


def pip_download(dest: str | Path, index_url: str, target: Target) -> list[str]:
    """``pip download`` into ``dest`` from ``index_url`` only, choosing files as for ``target``.

    The caller appends what to download (a requirement, ``-r file``) and any ``--only-binary``.
    """
    cmd = [*PIP_DOWNLOAD, "-d", str(dest), "--index-url", index_url]
    cmd += ["--python-version", target.python, "--implementation", "cp", "--abi", target.abi]
    for platform in target.platform_tags():
        cmd += ["--platform", platform]
    return cmd
