"""Fixtures for identity and access: an embedded hub (SQLite) with a seeded registry and users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from idhelpers import fast_settings, seed
from litestar.testing import TestClient

from crossdock.gateway.hub import open_hub


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The HTTP API of a started embedded hub; ``client.hub`` and ``client.key_ids`` for checks."""
    yield from _client(tmp_path)


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory) -> Iterator[TestClient]:
    """One hub for a module's tests that only read (roles, schema): saves a start per test."""
    yield from _client(tmp_path_factory.mktemp("shared"))


def _client(tmp_path: Path) -> Iterator[TestClient]:
    settings = fast_settings(tmp_path)
    hub = open_hub(settings, workers=True)
    key_ids = seed(hub.runtime.engine, settings, tmp_path / "outbox")
    with TestClient(app=hub.app()) as test_client:
        test_client.hub = hub  # type: ignore[attr-defined]
        test_client.key_ids = key_ids  # type: ignore[attr-defined]
        yield test_client
