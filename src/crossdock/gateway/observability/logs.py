"""Structured logs: one JSON object per line on stderr, context bound per message, never payloads.

Configured once by the entrypoint (``serve``, ``worker``, ``status``) from the settings; nothing
happens at import. Standard-library loggers (uvicorn, dramatiq, alembic) go through the same
processors, so every line of a process has one shape::

    {"timestamp": "...", "level": "warning", "logger": "crossdock.workflow", "event": "stage failed",
     "message_id": "9f0c…", "partner": "acme", "isa13": "000000101", "gs06": "101",
     "st02": "0001", "stage": "map", "code": "MAPPING_RULE_FAILED"}

Ids and counts only: :func:`redact_payloads` replaces bytes and known payload keys by their size
and caps long strings, so a stray ``log.info(..., body=data)`` cannot leak a document.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

__all__ = ["configure_logging", "bind_message", "redact_payloads", "PAYLOAD_KEYS", "MAX_VALUE_CHARS"]

#: event keys whose values are document content, whatever their type
PAYLOAD_KEYS = frozenset({"body", "payload", "data", "raw", "content", "document", "text"})
#: longest string value kept in a log line (reasons and details are short sentences)
MAX_VALUE_CHARS = 300


def redact_payloads(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: sizes instead of content, long strings cut.

    Args:
        _logger: unused (processor protocol).
        _name: unused (processor protocol).
        event: the event dictionary.

    Returns:
        The event with payload-like values replaced.
    """
    for key, value in list(event.items()):
        if isinstance(value, (bytes, bytearray, memoryview)):
            event[key] = f"<{len(value)} bytes>"
        elif key in PAYLOAD_KEYS and value is not None:
            event[key] = f"<redacted {type(value).__name__}>"
        elif isinstance(value, str) and len(value) > MAX_VALUE_CHARS and key != "exception":
            event[key] = value[:MAX_VALUE_CHARS] + "…"
    return event


def _shared_processors() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_payloads,
    ]


def _renderer(fmt: str):
    if fmt == "json":
        return structlog.processors.JSONRenderer(sort_keys=False)
    return structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"])


def configure_logging(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None, *,
                      final: bool = False) -> None:
    """Configure structlog and the standard library once, from the entrypoint.

    Args:
        level: ``DEBUG``, ``INFO``, ``WARNING`` …
        fmt: ``json`` (one object per line) or ``keyvalue``.
        stream: where lines go (stderr by default; tests pass a buffer).
        final: the process never reconfigures (``serve``, ``worker``): each module's logger keeps
            its configured form from its first use. Otherwise (tests reconfigure, a buffer per
            test) a module logger is rebuilt at every call, a few µs each, several per message.
    """
    numeric = logging.getLevelName(level.upper())
    numeric = numeric if isinstance(numeric, int) else logging.INFO
    out = stream or sys.stderr
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, _renderer(fmt)],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=final,
    )


@contextmanager
def bind_message(message_id: str, *, stage: str | None = None, partner: str | None = None,
                 isa13: str | None = None, gs06: str | None = None, st02: str | None = None,
                 **ids: Any) -> Iterator[None]:
    """Bind a message's ids to every log line emitted inside the block (this thread/task only).

    Args:
        message_id: the message.
        stage: the stage running, if any.
        partner: the partner's code.
        isa13: interchange control number.
        gs06: group control number.
        st02: transaction set control number.
        ids: further ids or counts (never content).
    """
    values = {"message_id": message_id, "stage": stage, "partner": partner, "isa13": isa13, "gs06": gs06,
              "st02": st02, **ids}
    # set and reset by token: what an enclosing block bound comes back, other keys untouched
    # (``bound_contextvars`` copies the whole context first: a worker binds five times per message)
    tokens = structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
