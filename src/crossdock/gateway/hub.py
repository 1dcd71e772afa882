"""Assemble a process: runtime, broker and actor, optionally workers, sweeper, inbox and the app.

=====================  =========  ==========  ===========  ========
entrypoint             migrate    workers     sweeper      inbox
=====================  =========  ==========  ===========  ========
``serve`` (embedded)   yes        in-process  in-process   if set
``serve`` (prod.)      no         no          no           if set
``worker`` (prod.)     no         yes         yes          no
=====================  =========  ==========  ===========  ========

Wherever workers run, the inventory planner (:class:`~crossdock.gateway.inventory.service.Planner`)
runs with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar import Litestar

from crossdock.gateway.effects import EffectsService
from crossdock.gateway.http.app import create_app
from crossdock.gateway.inbox import InboxPoller
from crossdock.gateway.inventory.service import Planner
from crossdock.gateway.runtime import Runtime, build_runtime
from crossdock.gateway.settings import Settings
from crossdock.gateway.store.migrate import upgrade
from crossdock.gateway.workflow.broker import WorkerHost, bind_actor, broker_probe, build_broker

__all__ = ["Hub", "open_hub"]


@dataclass
class Hub:
    runtime: Runtime
    broker: object
    services: list = field(default_factory=list)

    def start(self) -> None:
        for service in self.services:
            service.start()

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.runtime.close()

    def app(self) -> Litestar:
        """The HTTP app; its startup/shutdown start and stop this hub's services."""
        return create_app(self.runtime, broker_probe=broker_probe(self.broker),
                          on_startup=[self.start], on_shutdown=[self.stop])


def open_hub(settings: Settings, *, workers: bool, inbox: bool = True, migrate: bool | None = None,
             effects: EffectsService | None = None) -> Hub:
    """Build a hub for ``settings``.

    Args:
        settings: the settings tree.
        workers: run dramatiq worker threads and the sweeper in this process.
        inbox: run the directory inbox poller when ``settings.inbox.root`` is set.
        migrate: apply migrations first (default: in embedded mode only).
        effects: replace the default effects service.

    Returns:
        The hub, not started.
    """
    runtime = build_runtime(settings, effects=effects)
    if migrate if migrate is not None else settings.mode == "embedded":
        upgrade(runtime.engine)
    broker = build_broker(settings)
    bind_actor(runtime, broker)
    hub = Hub(runtime, broker)
    if workers:
        hub.services.append(WorkerHost(runtime, broker))
        hub.services.append(Planner(runtime))
    if inbox and settings.inbox.root is not None:
        hub.services.append(InboxPoller(runtime, settings.inbox.root))
    return hub
