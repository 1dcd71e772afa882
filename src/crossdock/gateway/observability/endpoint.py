"""``GET /metrics``: the Prometheus exposition of :class:`.metrics.GatewayMetrics`.

Public for the app-level authentication guard (Prometheus has no session); when
``ops.metrics_token`` is set the scraper must send ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac

from litestar import Request, Response, get

from crossdock.gateway.auth.errors import NotAuthenticated
from crossdock.gateway.observability.metrics import CONTENT_TYPE, GatewayMetrics

__all__ = ["metrics_endpoint"]


@get("/metrics", sync_to_thread=True, include_in_schema=False, opt={"public": True})
def metrics_endpoint(request: Request) -> Response[bytes]:
    token = request.app.state.runtime.settings.ops.metrics_token
    if token:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            raise NotAuthenticated("send the metrics token as Authorization: Bearer", code="METRICS_TOKEN_INVALID")
    metrics: GatewayMetrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE)
