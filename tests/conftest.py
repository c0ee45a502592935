"""Fixtures every test package can use: the recorded package index on a real local server.

Kept minimal on purpose: test packages add their own conftest.py next to their tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.index_server import FixtureIndexServer, Mode


@pytest.fixture(scope="session")
def fixture_index() -> Iterator[FixtureIndexServer]:
    """One shared index (mode "both") for the session.

    Shared: do not inject faults or add projects here, and call ``clear_requests()`` before
    counting requests; use ``make_fixture_index`` for a private server.
    """
    with FixtureIndexServer(mode="both") as server:
        yield server


@pytest.fixture(scope="session")
def recorded_index() -> Iterator[FixtureIndexServer]:
    """Like ``fixture_index``, but the pages carry the public index's recorded sha256 digests, so
    real hashed lockfiles (the demo's) match as they do in production. Shared and read-only."""
    with FixtureIndexServer(mode="both", hashes="recorded") as server:
        yield server


@pytest.fixture
def make_fixture_index() -> Iterator[Callable[..., FixtureIndexServer]]:
    """Factory for private servers: ``make_fixture_index(mode="html")``; all stopped afterwards."""
    servers: list[FixtureIndexServer] = []

    def make(mode: Mode = "both") -> FixtureIndexServer:
        server = FixtureIndexServer(mode=mode).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
