"""Shared fixtures: the public corpus, the real services and the real browser.

Tests that need PostgreSQL, Redis or chromium skip when they are absent on a user's machine;
with ``CROSSDOCK_REQUIRE_SERVICES=1`` (set by ``.ci/run``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
CHROMIUM = "/usr/bin/chromium"


def services_required() -> bool:
    return os.environ.get("CROSSDOCK_REQUIRE_SERVICES") == "1"


def _missing(what: str) -> None:
    if services_required():
        pytest.fail(f"{what} is required (CROSSDOCK_REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{what} not available")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """``../shared/corpus`` (tests using it skip cleanly when it is absent)."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    return CORPUS


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the real PostgreSQL test database."""
    if not _port_open(PG_HOST, PG_PORT):
        _missing("PostgreSQL at 127.0.0.1:5432")
    return f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/test"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the real Redis."""
    if not _port_open(REDIS_HOST, REDIS_PORT):
        _missing("Redis at 127.0.0.1:6379")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium, for Playwright (``playwright install`` cannot download here)."""
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        _missing("chromium (apt-get install -y chromium)")
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    """One headless chromium for the session, driven by Playwright."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield instance
        instance.close()
