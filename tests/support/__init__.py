"""Test helpers shared by every test package (real servers, no mocks)."""

from tests.support.index_server import FixtureIndexServer, RecordedRequest

__all__ = ["FixtureIndexServer", "RecordedRequest"]
