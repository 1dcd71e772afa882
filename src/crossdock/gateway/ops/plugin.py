"""Wire the console, ``/metrics`` and the alert evaluator into the litestar app (one plugin).

``create_app`` adds ``OpsPlugin(runtime)``; everything else stays in this package: the routes,
the template helpers, the metrics registry (its tails start when the app starts) and the
alert monitor thread (stopped with the app).
"""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from crossdock.gateway.observability.endpoint import metrics_endpoint
from crossdock.gateway.observability.metrics import GatewayMetrics
from crossdock.gateway.ops.alerts import AlertMonitor
from crossdock.gateway.ops.web import ops_router, template_helpers
from crossdock.gateway.runtime import Runtime

__all__ = ["OpsPlugin"]


class OpsPlugin(InitPluginProtocol):
    """Adds ``/ops`` and ``/metrics`` and runs the alert monitor while the app runs.

    Args:
        runtime: the process runtime (engine, settings, clock).
        alerts: run the periodic alert evaluator in this process.
    """

    def __init__(self, runtime: Runtime, *, alerts: bool = True) -> None:
        self.runtime = runtime
        self.metrics = GatewayMetrics(runtime.engine, runtime.clock)
        self.monitor = AlertMonitor(runtime.engine, runtime.settings.ops, lambda: runtime.clock()) if alerts else None

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend([ops_router(), metrics_endpoint])
        app_config.state["metrics"] = self.metrics
        app_config.state["ops_helpers"] = template_helpers()
        app_config.on_startup.append(self._start)
        app_config.on_shutdown.append(self._stop)
        return app_config

    def _start(self) -> None:
        self.metrics.start()
        if self.monitor is not None:
            self.monitor.start()

    def _stop(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
