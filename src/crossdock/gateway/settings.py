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
    "AuthSettings",
    "OpsSettings",
    "InventorySettings",
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
    """Keep-alive idle timeout, and the grace a request gets before :attr:`min_request_rate` applies."""
    min_request_rate: int = 1024
    """Bytes/s a request (headers and body) must average after ``read_timeout_s``; slower senders
    (slowloris) are answered 408 or disconnected (see ``http/server.py``)."""


class WorkflowSettings(BaseModel):
    """Queued stages, the outbox and the sweeper."""

    model_config = _SECTION

    worker_threads: int = 8
    """dramatiq worker threads per process (embedded: in the ``serve`` process). Stages wait on
    the database for about a third of their time; 8 threads keep one process's core busy (4 left
    it idle a quarter of the time with a backlog)."""
    worker_nice: int = Field(default=5, ge=0, le=19)
    """``crossdock worker`` lowers its own CPU priority by this much (``nice``), so that an API or
    a database on the same machine answers first and a backlog is worked off in the time left;
    with nothing else busy it changes nothing. 0 keeps the normal priority. On a 2-core machine
    with API, worker and PostgreSQL together, p99 ingest went from 76-96 ms to 60-70 ms."""
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
    batch_size: int = Field(default=64, ge=1)
    """Most work items one queue message carries; a worker claims them at once and runs their
    chains in one transaction, so a commit serves the whole batch. (64: per-batch statements are
    then a small share of the work; a bigger batch saves little more and holds its transaction,
    and its rows, longer.)"""


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


class OpsSettings(BaseModel):
    """Ops console, alerts and observability."""

    model_config = _SECTION

    alert_interval_s: float = 60.0
    """How often alert rules are evaluated by the API process (0 disables the evaluator)."""
    smtp_host: str | None = None
    """SMTP server for alert e-mail; ``None``: e-mail channels are skipped (recorded as such)."""
    smtp_port: int = 25
    """SMTP port."""
    smtp_from: str = "crossdock@localhost"
    """Envelope and header sender of alert e-mail."""
    smtp_username: str | None = None
    """SMTP login, when the server wants one."""
    smtp_password: str | None = Field(default=None, repr=False)
    """SMTP password."""
    smtp_starttls: bool = False
    """Upgrade the SMTP connection with STARTTLS before logging in."""
    smtp_timeout_s: float = 10.0
    """SMTP connect/read timeout."""
    search_timeout_ms: int = 5000
    """PostgreSQL ``statement_timeout`` for one console search (a runaway filter is cut off)."""
    metrics_token: str | None = Field(default=None, repr=False)
    """When set, ``/metrics`` wants ``Authorization: Bearer <token>`` (else it is open: bind it inside)."""


class InventorySettings(BaseModel):
    """Shared inventory and vendor-managed replenishment."""

    model_config = _SECTION

    replan_debounce_s: float = 30.0
    """After a document changes a supplier's inventory, plan that supplier this much later (bursts
    of documents give one run)."""
    planner_poll_s: float = 5.0
    """How often workers look for due replanning requests (0 disables the planner)."""
    planner_lease_s: float = 600.0
    """A claimed replanning request is retried by another worker after this long (crashed run)."""
    schedule_hour_utc: int = Field(default=2, ge=0, le=23)
    """Hour (UTC) of the daily planning run over every supplier."""
    chunk_size: int = Field(default=5000, ge=1)
    """Item-locations planned and written per transaction in a run."""
    run_processes: int = Field(default=1, ge=1, le=64)
    """Processes one supplier's run is split over (PostgreSQL only; each plans a range of items).
    Set it to the cores a worker machine can spare: 2 on a 2-core machine brings a
    100,000-item-location run under 10 s (see benchmarks/inventory_scale.py)."""


class AuthSettings(BaseModel):
    """Identity and access: sessions, API keys, rate limits, login throttling."""

    model_config = _SECTION

    session_ttl_s: float = 8 * 3600.0
    """Lifetime of a web login session."""
    cookie_secure: bool | None = None
    """``Secure`` flag on session cookies; ``None``: on in production mode, off when embedded."""
    key_cache_s: float = 10.0
    """How long an API key lookup is cached per process (revocation takes effect within it)."""
    key_requests_per_minute: int = 60000
    """Requests one API key may make per minute (a partner's profile may set its own)."""
    user_requests_per_minute: int = 1200
    """Requests one logged-in user may make per minute."""
    login_max_failures: int = 5
    """Failed logins per (user, client address) before login is refused for the window."""
    login_window_s: float = 900.0
    """The login-throttling window."""
    signature_tolerance_s: float = 300.0
    """Signed requests: how far ``X-Crossdock-Timestamp`` may be from our clock, either way."""
    argon2_time_cost: int = 3
    """argon2id iterations for password hashes."""
    argon2_memory_kib: int = 65536
    """argon2id memory per password hash, KiB."""


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
    log_format: Literal["json", "keyvalue"] = "json"
    """Log lines as JSON objects (default) or ``key=value`` text."""
    http: HttpSettings = Field(default_factory=HttpSettings)
    workflow: WorkflowSettings = Field(default_factory=WorkflowSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    inbox: InboxSettings = Field(default_factory=InboxSettings)
    testing: TestingSettings = Field(default_factory=TestingSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)
    inventory: InventorySettings = Field(default_factory=InventorySettings)

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
