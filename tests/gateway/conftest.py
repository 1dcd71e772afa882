"""Fixtures for the gateway: an embedded hub on a temporary SQLite file with the test partners."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gwhelpers import add_partners, fast_settings
from litestar.testing import TestClient

from crossdock.gateway.hub import Hub, open_hub


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A started embedded hub (SQLite, in-process workers and sweeper) with the test partners."""
    hub = open_hub(fast_settings(tmp_path), workers=True)
    add_partners(hub, tmp_path / "outbox")
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The HTTP API of an embedded hub; the app's startup starts the workers."""
    hub = open_hub(fast_settings(tmp_path), workers=True)
    add_partners(hub, tmp_path / "outbox")
    with TestClient(app=hub.app()) as test_client:
        test_client.hub = hub  # type: ignore[attr-defined]
        yield test_client
