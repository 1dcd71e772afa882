"""Wire the inventory API (``/api/v1/inventory``, ``/api/v1/proposals``) and the supplier portal
(``/portal``) into the litestar app: ``create_app`` adds ``InventoryPlugin()``."""

from __future__ import annotations

from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from crossdock.gateway.inventory.api import inventory_api_router
from crossdock.gateway.inventory.portal import portal_router

__all__ = ["InventoryPlugin"]


class InventoryPlugin(InitPluginProtocol):
    """Adds the inventory routes (the planner runs with the workers, see ``hub.open_hub``)."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend([inventory_api_router(), portal_router()])
        return app_config
