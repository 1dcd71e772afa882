"""Crossdock: an open-source partner integration hub (B2B/EDI gateway)."""

__version__ = "0.1.0"
