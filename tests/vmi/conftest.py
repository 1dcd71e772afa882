"""Fixtures for the VMI tests: an embedded hub (SQLite) with a retailer, two suppliers and master data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from vmihelpers import add_partners, fast_settings

from crossdock.gateway.hub import open_hub


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The HTTP app of a started embedded hub; ``client.hub`` and ``client.partners`` for tests."""
    hub = open_hub(fast_settings(tmp_path), workers=True)
    partners = add_partners(hub.runtime.engine, tmp_path / "outbox")
    with TestClient(app=hub.app()) as test_client:
        test_client.hub = hub  # type: ignore[attr-defined]
        test_client.partners = partners  # type: ignore[attr-defined]
        test_client.outbox = tmp_path / "outbox"  # type: ignore[attr-defined]
        yield test_client
