"""One settings tree for the gateway, built once in the entrypoint and passed down.

Environment variables use the prefix ``CROSSDOCK_`` and ``__`` between nested sections, e.g.
``CROSSDOCK_DATABASE_URL``, ``CROSSDOCK_HTTP__MAX_BODY_BYTES``, ``CROSSDOCK_TESTING__PAUSE_AT``.
Nothing reads the environment at import: call :func:`load_settings` in ``main``.

Mode: without ``redis_url`` the hub runs *embedded* (SQLite under ``var/``, in-process workers);
with it, *production* (``crossdock serve`` is the API only, ``crossdock worker`` consumes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "Settings",
    "HttpSettings",
    "WorkflowSettings",
    "DeliverySettings",
    "InboxSettings",
    "TestingSettings",
    "load_settings",
]

_SECTION = ConfigDict(frozen=True, extra="forbid")


class HttpSettings(BaseModel):
    """The HTTP API."""

    model_config = _SECTION

    host: str = "127.0.0.1"
    """Interface ``crossdock serve`` binds to."""
    port: int = 8080
    """Port ``crossdock serve`` listens on."""
    max_body_bytes: int = 100 * 1024 * 1024
    """Largest accepted message body, counted while streaming (413 beyond)."""
    max_decompressed_bytes: int = 100 * 1024 * 1024
    """Largest body after ``Content-Encoding: gzip`` is undone (413 beyond)."""
    max_compression_ratio: int = 200
    """Largest decompressed/compressed ratio accepted for gzip bodies (413 beyond)."""
    read_timeout_s: float = 30.0
    """uvicorn keep-alive/read timeout; slow senders are cut off after it."""


class WorkflowSettings(BaseModel):
    """Queued stages, the outbox and the sweeper."""

    model_config = _SECTION

    worker_threads: int = 4
    """dramatiq worker threads per process (embedded: in the ``serve`` process)."""
    lease_s: float = 120.0
    """How long a claimed work item belongs to one worker before the sweeper may re-dispatch it."""
    redispatch_after_s: float = 60.0
    """A pending item dispatched this long ago and still unclaimed is enqueued again."""
    sweep_interval_s: float = 5.0
    """Period of the sweeper (re-dispatch stale work, retries due, overdue acks)."""
    sweep_batch: int = 500
    """Most work items one sweep re-dispatches."""
    max_attempts: int = 5
    """Attempts of a stage hitting transient errors before the item goes ``dead``."""
    backoff_base_s: float = 2.0
    """First retry delay; doubles per attempt (with full jitter) up to ``backoff_cap_s``."""
    backoff_cap_s: float = 300.0
    """Longest retry delay."""
    duplicate_window_days: float = 30.0
    """Default duplicate window for (sender, ISA13), content hashes, GS06 and ST02."""
    ack_overdue_after_s: float = 24 * 3600.0
    """An expected 997/999 not received after this long is marked ``overdue``."""
    queue_name: str = "crossdock"
    """dramatiq queue for work items."""


class DeliverySettings(BaseModel):
    """Outbound delivery defaults (the channel itself is in the partner agreement)."""

    model_config = _SECTION

    connect_timeout_s: float = 5.0
    """Webhook connect timeout."""
    read_timeout_s: float = 30.0
    """Webhook read timeout."""
    max_attempts: int = 8
    """Delivery attempts before the outbound message is ``dead`` (replayable)."""


class InboxSettings(BaseModel):
    """Directory inbox: files dropped into ``<root>/<partner code>/`` are ingested."""

    model_config = _SECTION

    root: Path | None = None
    """Root folder of the per-partner inboxes; ``None`` disables the inbox poller."""
    poll_interval_s: float = 2.0
    """How often the inbox is scanned."""
    settle_s: float = 1.0
    """A file must be unchanged for this long before it is picked up (still being written)."""


class TestingSettings(BaseModel):
    """Fault injection for tests; inert by default."""

    model_config = _SECTION

    pause_at: str | None = None
    """``<stage>`` or ``<stage>:after_commit``: sleep there so a test can ``kill -9`` the worker."""
    pause_s: float = 30.0
    """How long the pause lasts."""
    pause_marker: Path | None = None
    """File touched when the pause starts, so the test knows when to kill."""


class Settings(BaseSettings):
    """Root of the settings tree."""

    model_config = SettingsConfigDict(
        env_prefix="CROSSDOCK_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    database_url: str | None = None
    """SQLAlchemy URL; default ``sqlite:///<var_dir>/crossdock.db`` (embedded)."""
    redis_url: str | None = None
    """Redis for the dramatiq broker; set it for production mode."""
    redis_namespace: str = "crossdock"
    """Key prefix of the dramatiq broker in Redis."""
    var_dir: Path = Path("var")
    """Folder of the embedded database and local state."""
    hub_isa_qualifier: str = "ZZ"
    """Our ISA05/07 qualifier on outbound X12 we originate (acks mirror the inbound ISA)."""
    hub_isa_id: str = "CROSSDOCK"
    """Our ISA06/08 id (and GS02) on outbound X12 we originate."""
    log_level: str = "INFO"
    """structlog/standard logging level."""
    http: HttpSettings = Field(default_factory=HttpSettings)
    workflow: WorkflowSettings = Field(default_factory=WorkflowSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    inbox: InboxSettings = Field(default_factory=InboxSettings)
    testing: TestingSettings = Field(default_factory=TestingSettings)

    @property
    def mode(self) -> Literal["embedded", "production"]:
        return "production" if self.redis_url else "embedded"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'crossdock.db').resolve()}"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment plus explicit overrides (entrypoints and tests).

    Args:
        overrides: field values that win over the environment, e.g. ``database_url=...``.

    Returns:
        The frozen settings tree.
    """
    return Settings(**overrides)
