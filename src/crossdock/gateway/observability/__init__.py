"""Observability: Prometheus metrics derived from the shared database, structured JSON logs."""

from __future__ import annotations

from crossdock.gateway.observability.logs import bind_message, configure_logging, redact_payloads
from crossdock.gateway.observability.metrics import CONTENT_TYPE, GatewayMetrics, IdTail

__all__ = ["GatewayMetrics", "IdTail", "CONTENT_TYPE", "configure_logging", "bind_message", "redact_payloads"]
