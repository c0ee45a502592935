"""The index the hashed and edge-marker lock fixtures were made against, for the tests that use them.

``tests/fixtures/lockfiles/hashed/make.py`` ran the real tools (pip-compile, pipenv, pdm,
Poetry 1.1 and 1.8) against a :class:`~tests.support.index_server.FixtureIndexServer` serving the
recorded pages *as of* :data:`LOCKED_AT`, plus the synthetic projects below. The tests serve the
same projects without ``as_of``: the index then also lists what was uploaded after the locks
were made (MarkupSafe 1.1.1's ``manylinux2014_aarch64`` and ``manylinux2010`` wheels, uploaded
on 2021-01-29 23:50 UTC, as on the public index), which the locks' hashes leave out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.support.index_server import FixtureIndexServer

__all__ = ["EDGE_PROJECTS", "LATER_WHEELS", "LOCKED_AT", "add_edge_projects"]

LOCKED_AT = dt.datetime(2021, 1, 29, 12, 0, tzinfo=dt.UTC)
"""When the hashed locks were made: the morning before MarkupSafe 1.1.1's aarch64 wheel appeared."""

LATER_WHEELS = (
    "MarkupSafe-1.1.1-cp38-cp38-manylinux2014_aarch64.whl",
    "MarkupSafe-1.1.1-cp38-cp38-manylinux2010_x86_64.whl",
)
"""Files of the locked version that the index gained after :data:`LOCKED_AT`."""

_FILES = "https://index.test/files/"

EDGE_PROJECTS: dict[str, list[dict[str, Any]]] = {
    # A pure CLI helper that needs a Windows-only shim, only on Windows: the edge marker is the
    # only thing that keeps winshim (no Linux file at all) from being a Linux blocker.
    "clikit": [
        {
            "filename": "clikit-1.0-py3-none-any.whl",
            "upload-time": "2020-06-01T10:00:00Z",
            "x-metadata": ['Requires-Dist: winshim>=1.0; sys_platform == "win32"', "Requires-Dist: six>=1.15"],
        },
        {
            "filename": "clikit-1.0.tar.gz",
            "upload-time": "2020-06-01T10:00:00Z",
            "x-metadata": ['Requires-Dist: winshim>=1.0; sys_platform == "win32"', "Requires-Dist: six>=1.15"],
        },
    ],
    "winshim": [
        {"filename": f"winshim-1.0-cp{v}-cp{v}-win_amd64.whl", "upload-time": "2020-06-01T10:00:00Z"}
        for v in ("39", "310", "311", "312")
    ],
}


def add_edge_projects(server: FixtureIndexServer) -> FixtureIndexServer:
    """Add :data:`EDGE_PROJECTS` to ``server`` (before or after it starts)."""
    for name, files in EDGE_PROJECTS.items():
        server.add_project(name, [{**f, "url": _FILES + f["filename"]} for f in files])
    return server
