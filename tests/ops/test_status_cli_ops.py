"""``crossdock status`` against an embedded database with a failure and an overdue ack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from opshelpers import open_ops_hub
from sqlalchemy import select

from crossdock.gateway.cli import main
from crossdock.gateway.commands.status import format_status
from crossdock.gateway.ops.status import SystemStatus
from crossdock.gateway.store import schema as t

CROSSDOCK = [sys.executable, "-m", "crossdock.gateway.cli", "status"]


def test_status_command(tmp_path, monkeypatch, capsys) -> None:
    hub = open_ops_hub(tmp_path)  # migrates the embedded database
    url = hub.runtime.settings.resolved_database_url
    quiet = subprocess.run([*CROSSDOCK, "--json"], env={**os.environ, "CROSSDOCK_DATABASE_URL": url},
                           capture_output=True, text=True, timeout=60)  # the real entrypoint, once
    assert quiet.returncode == 0, quiet.stderr
    assert json.loads(quiet.stdout)["queue_depth"] == 0
    now = datetime.now(UTC)
    with hub.runtime.engine.begin() as conn:
        globex = conn.execute(select(t.partners.c.id).where(t.partners.c.code == "globex")).scalar_one()
        conn.execute(t.payloads.insert().values(sha256="0" * 64, size=3, data=b"x12"))
        for message_id, status in (("late", "delivered"), ("bad", "failed")):
            conn.execute(t.messages.insert().values(
                id=message_id, direction="outbound", channel="memory", recipient_id=globex, format="x12",
                sha256="0" * 64, size=3, received_at=now, updated_at=now, status=status, test=False))
        conn.execute(t.acks.insert().values(direction="expected", kind="997", message_id="late", partner_id=globex,
                                            group_control="9", status="pending", due_at=now - timedelta(minutes=1),
                                            created_at=now - timedelta(hours=25), updated_at=now))
        conn.execute(t.work_items.insert().values(message_id="bad", stage="deliver", generation=0, state="pending",
                                                  attempts=0, available_at=now.timestamp() - 120, created_at=now,
                                                  updated_at=now))
    hub.runtime.close()
    monkeypatch.setenv("CROSSDOCK_DATABASE_URL", url)
    assert main(["status", "--json"]) == 1
    figures = json.loads(capsys.readouterr().out)
    assert (figures["queue_depth"], figures["failures_last_hour"], figures["overdue_acks"]) == (1, 1, 1)
    assert figures["oldest_pending_s"] >= 120
    assert main(["status"]) == 1
    text = capsys.readouterr().out
    assert "queue depth          1 (1 pending, 0 running)" in text and "overdue acks         1" in text
    monkeypatch.setenv("CROSSDOCK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["status"]) == 2
    assert "crossdock db upgrade" in capsys.readouterr().err


def test_format_status() -> None:
    status = SystemStatus(pending=3, running=1, stuck=2, oldest_pending_s=None, failures_last_hour=4,
                          overdue_acks=0, at=datetime(2026, 1, 1, tzinfo=UTC))
    assert format_status(status).splitlines() == [
        "queue depth          4 (3 pending, 1 running)", "oldest pending work  none", "failed/dead work     2",
        "failures last hour   4", "overdue acks         0"]
