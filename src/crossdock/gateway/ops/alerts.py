"""Alert rules, their evaluation, and notification by webhook and/or e-mail.

=====================  =============================================================  =========
kind                   breach when, per subject                                       subject
=====================  =============================================================  =========
``failures_per_hour``  inbound messages ending failed/dead/rejected in the last        partner
                       ``window_s`` ≥ ``threshold``
``overdue_acks``       expected 997/999 overdue now ≥ ``threshold``                    partner
``delivery_failures``  delivery attempts not delivered in the last ``window_s``         partner
                       ≥ ``threshold``
``queue_backlog_age``  oldest due pending work item older than ``threshold`` seconds   ``queue``
=====================  =============================================================  =========

A rule may be limited to one partner. Each breach fires once per rule, subject and window
(``dedupe_key`` is unique, so several API processes evaluating the same rules notify once). A
firing is stored first, then notified; the outcome of each channel is written back on it
(``delivered``, ``sent``, ``skipped: …``, ``failed: <code>``). Notification is at most once: a
process dying between the insert and the send leaves the firing visible in the console
without a notification.

The webhook reuses :class:`crossdock.adapters.transports.WebhookTransport` (signed POST, JSON
body); e-mail goes through :mod:`smtplib` with the ``ops.smtp_*`` settings.
"""

from __future__ import annotations

import json
import smtplib
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import Connection

from crossdock.adapters.transports import OutboundDelivery, WebhookConfig, WebhookTransport
from crossdock.gateway.ops.acks import overdue_acks
from crossdock.gateway.ops.status import FAILED_STATUSES, system_status
from crossdock.gateway.settings import OpsSettings
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import insert_ignore
from crossdock.schemas.errors import ConfigurationInvalid, Issue

__all__ = ["AlertRule", "AlertRuleInvalid", "Breach", "Firing", "create_rule", "list_rules", "evaluate",
           "fire_and_notify", "recent_firings", "AlertMonitor", "RULE_KINDS", "Notifier"]

log = structlog.get_logger("crossdock.alerts")
RULE_KINDS = ("failures_per_hour", "overdue_acks", "delivery_failures", "queue_backlog_age")


class AlertRuleInvalid(ConfigurationInvalid):
    """A rule that cannot be stored; ``issues`` lists every problem."""

    code = "ALERT_RULE_INVALID"

    def __init__(self, message: str, *, issues: tuple[Issue, ...] = ()) -> None:
        super().__init__(message)
        self.issues = issues


class AlertRule(BaseModel):
    """One configurable rule (validated on the way in)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    kind: Literal["failures_per_hour", "overdue_acks", "delivery_failures", "queue_backlog_age"]
    threshold: float = Field(gt=0)
    """Count (or seconds for ``queue_backlog_age``) at which the rule fires."""
    window_s: float = Field(default=3600.0, gt=0, le=7 * 86400)
    """Look-back window, and the re-notification period."""
    partner: str | None = None
    """Partner code to watch; None: every partner."""
    webhook_url: str | None = Field(default=None, max_length=500)
    webhook_secret: str | None = Field(default=None, max_length=200, repr=False)
    email_to: tuple[str, ...] = ()
    enabled: bool = True

    @field_validator("email_to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if "@" not in address or any(c in address for c in "\r\n ,;"):
                raise ValueError(f"{address!r} is not one e-mail address")
        return value


@dataclass(frozen=True, slots=True)
class Breach:
    rule_id: int
    rule_name: str
    kind: str
    subject: str
    value: float
    threshold: float
    detail: str


@dataclass(frozen=True, slots=True)
class Firing:
    id: int
    rule_name: str
    kind: str
    subject: str
    value: float
    detail: str
    fired_at: datetime
    notified: dict


def create_rule(conn: Connection, data: dict, *, now: datetime) -> int:
    """Validate and store a rule (caller commits).

    Raises:
        AlertRuleInvalid: invalid fields, unknown partner, a webhook without a secret.
    """
    try:
        rule = AlertRule.model_validate(data)
    except ValidationError as exc:
        issues = tuple(Issue("ALERT_RULE_INVALID", e["msg"], tuple(str(p) for p in e["loc"])) for e in exc.errors())
        raise AlertRuleInvalid("; ".join(f"{'.'.join(i.loc)}: {i.msg}" for i in issues), issues=issues) from exc
    partner_id = None
    if rule.partner:
        partner_id = conn.execute(select(t.partners.c.id).where(t.partners.c.code == rule.partner)).scalar()
        if partner_id is None:
            raise AlertRuleInvalid(f"no partner {rule.partner}")
    if rule.webhook_url and not rule.webhook_secret:
        raise AlertRuleInvalid("a webhook needs a secret (receivers verify the signature)")
    return conn.execute(t.alert_rules.insert().values(
        name=rule.name, kind=rule.kind, partner_id=partner_id, threshold=rule.threshold, window_s=rule.window_s,
        webhook_url=rule.webhook_url, webhook_secret=rule.webhook_secret, email_to=list(rule.email_to),
        enabled=rule.enabled, created_at=now)).inserted_primary_key[0]


def list_rules(conn: Connection) -> list:
    return conn.execute(select(t.alert_rules).order_by(t.alert_rules.c.name)).all()


# -------------------------------------------------------------------------------- evaluation


def _failures(conn: Connection, since: datetime) -> dict[int | None, int]:
    m = t.messages
    return dict(conn.execute(select(m.c.partner_id, func.count()).where(
        m.c.direction == "inbound", m.c.status.in_(FAILED_STATUSES), m.c.updated_at >= since)
        .group_by(m.c.partner_id)).all())


def _delivery_failures(conn: Connection, since: datetime) -> dict[int | None, int]:
    d, m = t.delivery_attempts, t.messages
    return dict(conn.execute(select(m.c.recipient_id, func.count()).select_from(d.join(m, m.c.id == d.c.message_id))
                             .where(d.c.outcome != "delivered", d.c.at >= since).group_by(m.c.recipient_id))
                .all())


def _overdue(conn: Connection, now: datetime) -> dict[int | None, int]:
    codes = {code: pid for pid, code in conn.execute(select(t.partners.c.id, t.partners.c.code))}
    counts: dict[int | None, int] = defaultdict(int)
    for ack in overdue_acks(conn, now, limit=1_000_000):
        counts[codes.get(ack.partner)] += 1
    return counts


def evaluate(conn: Connection, now: datetime) -> list[Breach]:
    """The breaches of every enabled rule at ``now``.

    Args:
        conn: a connection.
        now: the current time (injected).

    Returns:
        One breach per rule and subject over its threshold.
    """
    rules = conn.execute(select(t.alert_rules).where(t.alert_rules.c.enabled.is_(True))).all()
    if not rules:
        return []
    codes = dict(conn.execute(select(t.partners.c.id, t.partners.c.code)).all())
    breaches = []
    cache: dict[tuple, dict] = {}
    for rule in rules:
        if rule.kind == "queue_backlog_age":
            age = system_status(conn, now).oldest_pending_s or 0.0
            if age >= rule.threshold:
                breaches.append(Breach(rule.id, rule.name, rule.kind, "queue", age, rule.threshold,
                                       f"oldest pending work item waits {age:.0f}s (threshold {rule.threshold:.0f}s)"))
            continue
        since = now - timedelta(seconds=rule.window_s)
        key = (rule.kind, rule.window_s)
        if key not in cache:
            cache[key] = {"failures_per_hour": lambda: _failures(conn, since),
                          "delivery_failures": lambda: _delivery_failures(conn, since),
                          "overdue_acks": lambda: _overdue(conn, now)}[rule.kind]()
        for partner_id, value in cache[key].items():
            if rule.partner_id is not None and partner_id != rule.partner_id:
                continue
            if value >= rule.threshold:
                subject = codes.get(partner_id, "unknown")
                breaches.append(Breach(rule.id, rule.name, rule.kind, subject, float(value), rule.threshold,
                                       f"{subject}: {value} {rule.kind.replace('_', ' ')} "
                                       f"(threshold {rule.threshold:g}, window {rule.window_s:g}s)"))
    return breaches


# ------------------------------------------------------------------------------ notification


class Notifier:
    """Sends one firing to a rule's channels; returns each channel's outcome.

    Args:
        settings: the ``ops`` settings (SMTP).
        webhook_client: an httpx client for the webhook (tests), else the transport builds one.
    """

    def __init__(self, settings: OpsSettings, *, webhook_client=None) -> None:
        self._settings = settings
        self._client = webhook_client

    def notify(self, rule, breach: Breach, firing_id: int, fired_at: datetime) -> dict[str, str]:
        payload = {"alert": breach.rule_name, "kind": breach.kind, "subject": breach.subject, "value": breach.value,
                   "threshold": breach.threshold, "detail": breach.detail, "fired_at": fired_at.isoformat(),
                   "firing_id": firing_id}
        outcome: dict[str, str] = {}
        if rule.webhook_url:
            outcome["webhook"] = self._webhook(rule, payload, firing_id)
        if rule.email_to:
            outcome["email"] = self._email(list(rule.email_to), payload)
        return outcome

    def _webhook(self, rule, payload: dict, firing_id: int) -> str:
        try:
            transport = WebhookTransport(WebhookConfig(url=rule.webhook_url, secret=rule.webhook_secret or ""),
                                         client=self._client)
        except (ConfigurationInvalid, ValueError) as exc:
            return f"failed: {getattr(exc, 'code', 'CONFIGURATION_INVALID')}"
        try:
            result = transport.send(OutboundDelivery(
                delivery_id=f"alert-{firing_id}", partner_id="ops", payload=json.dumps(payload).encode(),
                content_type="application/json", idempotency_key=f"alert-{firing_id}",
                metadata={"Alert-Kind": payload["kind"]}))
        finally:
            transport.close()
        return "delivered" if result.outcome == "delivered" else f"failed: {result.error_code or result.outcome}"

    def _email(self, recipients: list[str], payload: dict) -> str:
        settings = self._settings
        if not settings.smtp_host:
            return "skipped: no ops.smtp_host"
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = ", ".join(recipients)
        message["Subject"] = f"[crossdock] {payload['alert']}: {payload['subject']}"
        message.set_content(f"{payload['detail']}\n\nrule: {payload['alert']} ({payload['kind']})\n"
                            f"value: {payload['value']:g}  threshold: {payload['threshold']:g}\n"
                            f"fired at: {payload['fired_at']}\n")
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            return f"failed: {type(exc).__name__}"
        return "sent"


def fire_and_notify(engine: Engine, notifier: Notifier, now: datetime) -> list[int]:
    """Evaluate, store new firings (deduplicated per window), notify them, record the outcome.

    Args:
        engine: the database.
        notifier: sends to webhooks and e-mail.
        now: the current time (injected).

    Returns:
        Ids of the firings created by this call.
    """
    with engine.begin() as conn:
        breaches = evaluate(conn, now)
        rules = {r.id: r for r in list_rules(conn)}
        created = []
        for breach in breaches:
            bucket = int(now.timestamp() // rules[breach.rule_id].window_s)
            dedupe = f"{breach.rule_id}:{breach.subject}:{bucket}"
            if insert_ignore(conn, t.alert_firings, {
                    "rule_id": breach.rule_id, "dedupe_key": dedupe, "subject": breach.subject,
                    "value": breach.value, "detail": breach.detail, "fired_at": now, "notified": {}},
                    ("dedupe_key",)):
                firing_id = conn.execute(select(t.alert_firings.c.id).where(
                    t.alert_firings.c.dedupe_key == dedupe)).scalar_one()
                created.append((firing_id, breach))
    for firing_id, breach in created:
        outcome = notifier.notify(rules[breach.rule_id], breach, firing_id, now)
        with engine.begin() as conn:
            conn.execute(update(t.alert_firings).where(t.alert_firings.c.id == firing_id).values(notified=outcome))
        log.warning("alert fired", rule=breach.rule_name, subject=breach.subject, value=breach.value,
                    firing_id=firing_id, **{f"notified_{k}": v for k, v in outcome.items()})
    return [firing_id for firing_id, _ in created]


def recent_firings(conn: Connection, *, limit: int = 50) -> list[Firing]:
    f, r = t.alert_firings, t.alert_rules
    rows = conn.execute(select(f, r.c.name, r.c.kind).join(r, r.c.id == f.c.rule_id)
                        .order_by(f.c.fired_at.desc(), f.c.id.desc()).limit(limit)).all()
    return [Firing(row.id, row.name, row.kind, row.subject, row.value, row.detail, row.fired_at,
                   dict(row.notified or {})) for row in rows]


class AlertMonitor:
    """Evaluates the rules every ``ops.alert_interval_s`` on a daemon thread (API process)."""

    def __init__(self, engine: Engine, settings: OpsSettings, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._notifier = Notifier(settings)
        self._interval = settings.alert_interval_s
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="crossdock-alerts", daemon=True)

    def start(self) -> None:
        if self._interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                fire_and_notify(self._engine, self._notifier, datetime.fromtimestamp(self._clock(), UTC))
            except Exception:  # noqa: BLE001 - a failed pass (DB down) is retried next period
                log.exception("alert evaluation failed")
