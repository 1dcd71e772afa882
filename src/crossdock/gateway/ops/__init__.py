"""The ops console and its services: search, detail, acks, scorecards, overview, alerts, actions.

Services are plain functions over a connection (or the runtime for actions) with the clock passed
in; :mod:`.web` renders them at ``/ops`` and :mod:`.plugin` wires them into the app.
"""

from __future__ import annotations

from crossdock.gateway.ops.acks import OverdueAck, RejectedAck, overdue_acks, rejected_acks
from crossdock.gateway.ops.actions import ActionRefused, ActionResult, replay_messages, resolve, retry_delivery
from crossdock.gateway.ops.alerts import AlertMonitor, AlertRule, AlertRuleInvalid, Notifier, create_rule, evaluate, \
    fire_and_notify, recent_firings
from crossdock.gateway.ops.detail import MessageView, message_view
from crossdock.gateway.ops.overview import Overview, overview
from crossdock.gateway.ops.scorecard import Scorecard, scorecards
from crossdock.gateway.ops.search import SearchCriteria, SearchInvalid, SearchPage, SearchTimeout, search_messages
from crossdock.gateway.ops.status import SystemStatus, system_status

__all__ = [
    "OverdueAck", "RejectedAck", "overdue_acks", "rejected_acks",
    "ActionRefused", "ActionResult", "replay_messages", "resolve", "retry_delivery",
    "AlertMonitor", "AlertRule", "AlertRuleInvalid", "Notifier", "create_rule", "evaluate", "fire_and_notify",
    "recent_firings",
    "MessageView", "message_view",
    "Overview", "overview",
    "Scorecard", "scorecards",
    "SearchCriteria", "SearchInvalid", "SearchPage", "SearchTimeout", "search_messages",
    "SystemStatus", "system_status",
]
