"""Alert rules fire once per window and notify a signed webhook and an SMTP server (both local)."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opshelpers import interchange, open_ops_hub, po_set, wait_final
from sqlalchemy import select

from crossdock.adapters.transports import verify_signature
from crossdock.gateway.ingest import IngestRequest, ingest
from crossdock.gateway.ops.alerts import AlertRuleInvalid, Notifier, create_rule, evaluate, fire_and_notify
from crossdock.gateway.partners import partner_by_code
from crossdock.gateway.settings import OpsSettings
from crossdock.gateway.store import schema as t

SECRET = "alert-secret"


class _Webhook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = verify_signature(SECRET, self.headers["X-Crossdock-Timestamp"], body,
                              self.headers["X-Crossdock-Signature"], time.time())
        self.received.append((ok, json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        return


class TinySmtp:
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT; keeps each message's text."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.messages: list[dict] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rwb") as stream:
                self._session(stream)

    def _session(self, stream) -> None:
        def reply(line: str) -> None:
            stream.write(line.encode() + b"\r\n")
            stream.flush()

        reply("220 tiny ESMTP")
        envelope: dict = {"rcpt": []}
        while line := stream.readline():
            command = line.decode().strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                reply("250 tiny")
            elif verb == "MAIL":
                envelope["from"] = command
                reply("250 ok")
            elif verb == "RCPT":
                envelope["rcpt"].append(command)
                reply("250 ok")
            elif verb == "DATA":
                reply("354 go")
                data = b""
                while (chunk := stream.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.messages.append({**envelope, "data": data.decode()})
                envelope = {"rcpt": []}
                reply("250 queued")
            elif verb == "QUIT":
                reply("221 bye")
                return
            else:
                reply("250 ok")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def receivers():
    _Webhook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    smtp = TinySmtp()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", smtp
    server.shutdown()
    smtp.close()


def _fail_initech(hub, control: str) -> str:
    with hub.runtime.engine.connect() as conn:
        partner = partner_by_code(conn, "initech")
    result = ingest(hub.runtime.engine, IngestRequest(
        body=interchange("INITECH", control, [po_set("0001", f"PO-{control}")]), channel="http", partner=partner))
    hub.runtime.dispatch(result.work_id)
    return result.message_id


def test_failures_rule_notifies_webhook_and_email_once_per_window(tmp_path, receivers) -> None:
    url, smtp = receivers
    hub = open_ops_hub(tmp_path)
    hub.start()
    try:
        engine = hub.runtime.engine
        now = datetime.now(UTC)
        with engine.begin() as conn:
            create_rule(conn, {"name": "initech failing", "kind": "failures_per_hour", "threshold": 2,
                               "partner": "initech", "webhook_url": url, "webhook_secret": SECRET,
                               "email_to": ["ops@example.com"]}, now=now)
            create_rule(conn, {"name": "backlog", "kind": "queue_backlog_age", "threshold": 600}, now=now)
        first = _fail_initech(hub, "000000901")
        assert wait_final(engine, first) == "failed"
        notifier = Notifier(OpsSettings(smtp_host="127.0.0.1", smtp_port=smtp.port))
        assert fire_and_notify(engine, notifier, datetime.now(UTC)) == []  # 1 failure < threshold 2
        second = _fail_initech(hub, "000000902")
        assert wait_final(engine, second) == "failed"
        fired = fire_and_notify(engine, notifier, datetime.now(UTC))
        assert len(fired) == 1
        assert fire_and_notify(engine, notifier, datetime.now(UTC)) == []  # same window: once
        with engine.connect() as conn:
            firing = conn.execute(select(t.alert_firings)).one()
    finally:
        hub.stop()
    assert (firing.subject, firing.value, firing.notified) == ("initech", 2.0, {"webhook": "delivered",
                                                                                  "email": "sent"})
    assert [(ok, body["alert"], body["subject"], body["value"]) for ok, body in _Webhook.received] == [
        (True, "initech failing", "initech", 2.0)]
    (mail,) = smtp.messages
    assert "ops@example.com" in mail["rcpt"][0]
    assert "Subject: [crossdock] initech failing: initech" in mail["data"]


def test_overdue_ack_and_backlog_rules(tmp_path) -> None:
    hub = open_ops_hub(tmp_path)
    engine = hub.runtime.engine
    now = datetime.now(UTC)
    with engine.begin() as conn:
        globex = conn.execute(select(t.partners.c.id).where(t.partners.c.code == "globex")).scalar_one()
        conn.execute(t.messages.insert().values(
            id="out1", direction="outbound", channel="memory", recipient_id=globex, format="x12",
            sha256=_payload(conn), size=3, received_at=now, updated_at=now, status="delivered", test=False))
        conn.execute(t.acks.insert().values(direction="expected", kind="997", message_id="out1", partner_id=globex,
                                            group_control="5", status="pending", due_at=now + timedelta(days=1),
                                            created_at=now, updated_at=now))
        conn.execute(t.work_items.insert().values(message_id="out1", stage="deliver", generation=0,
                                                  state="pending", attempts=0, available_at=now.timestamp() - 900,
                                                  created_at=now, updated_at=now))
        create_rule(conn, {"name": "late acks", "kind": "overdue_acks", "threshold": 1}, now=now)
        create_rule(conn, {"name": "backlog", "kind": "queue_backlog_age", "threshold": 600}, now=now)
    with engine.connect() as conn:
        assert [(b.rule_name, b.subject) for b in evaluate(conn, now)] == [("backlog", "queue")]
        later = now + timedelta(hours=2, seconds=1)  # globex agreed 2 h
        assert sorted((b.rule_name, b.subject) for b in evaluate(conn, later)) == [
            ("backlog", "queue"), ("late acks", "globex")]
    notifier = Notifier(OpsSettings())
    fired = fire_and_notify(engine, notifier, later)
    with engine.connect() as conn:
        notified = conn.execute(select(t.alert_firings.c.notified)).scalars().all()
    assert len(fired) == 2 and notified == [{}, {}]  # no channel configured: shown in the console only
    hub.runtime.close()


def _payload(conn) -> str:
    conn.execute(t.payloads.insert().values(sha256="0" * 64, size=3, data=b"x12"))
    return "0" * 64


def test_rule_validation(tmp_path) -> None:
    hub = open_ops_hub(tmp_path)
    now = datetime.now(UTC)
    try:
        with hub.runtime.engine.begin() as conn:
            for bad in ({"name": "x", "kind": "nope", "threshold": 1},
                        {"name": "x", "kind": "overdue_acks", "threshold": 0},
                        {"name": "x", "kind": "overdue_acks", "threshold": 1, "partner": "nobody"},
                        {"name": "x", "kind": "overdue_acks", "threshold": 1, "webhook_url": "https://h/x"},
                        {"name": "x", "kind": "overdue_acks", "threshold": 1, "email_to": ["a@b, c@d"]}):
                with pytest.raises(AlertRuleInvalid) as refused:
                    create_rule(conn, bad, now=now)
                assert refused.value.code == "ALERT_RULE_INVALID"
    finally:
        hub.runtime.close()


def test_email_without_smtp_host_is_skipped_not_crashing() -> None:
    from crossdock.gateway.ops.alerts import Breach

    class Rule:
        webhook_url = None
        email_to = ["ops@example.com"]

    breach = Breach(1, "r", "overdue_acks", "acme", 3.0, 1.0, "acme: 3 overdue acks")
    assert Notifier(OpsSettings()).notify(Rule(), breach, 1, datetime.now(UTC)) == {
        "email": "skipped: no ops.smtp_host"}
    unreachable = Notifier(OpsSettings(smtp_host="127.0.0.1", smtp_port=1, smtp_timeout_s=1))
    assert unreachable.notify(Rule(), breach, 1, datetime.now(UTC))["email"].startswith("failed: ")
