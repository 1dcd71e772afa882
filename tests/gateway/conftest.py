"""Fixtures for the gateway: an embedded hub on a temporary SQLite file with the test partners."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gwhelpers import add_partners, fast_settings
from litestar.testing import TestClient
from sqlalchemy import Engine

from crossdock.gateway.hub import Hub, open_hub
from crossdock.gateway.store.engine import build_engine
from pgscratch import scratch_database


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


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_engine(request, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database, a SQLite file or a scratch PostgreSQL database; no schema."""
    if request.param == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path / 'bare.db'}")
        yield engine
        engine.dispose()
        return
    with scratch_database(request.getfixturevalue("postgres_url"), "crossdock_bare") as url:
        engine = build_engine(url)
        yield engine
        engine.dispose()
