"""The HTTP API (litestar) and its one exception → status table."""

from crossdock.gateway.http.app import create_app

__all__ = ["create_app"]
