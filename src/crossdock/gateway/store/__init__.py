"""Persistence: tables, engines with durable commits, migrations, control-number counters."""

from crossdock.gateway.store.counters import DurableAllocator, reserve
from crossdock.gateway.store.engine import build_engine, insert_ignore
from crossdock.gateway.store.migrate import upgrade

__all__ = ["DurableAllocator", "build_engine", "insert_ignore", "reserve", "upgrade"]
