"""Logging setup for entrypoints (kept for its callers): see :mod:`.observability.logs`."""

from __future__ import annotations

from crossdock.gateway.observability.logs import bind_message, configure_logging

__all__ = ["configure_logging", "bind_message"]
