"""``crossdock serve [--demo] [--host H] [--port P]``: the HTTP API (and, embedded, the workers).

Embedded (no ``CROSSDOCK_REDIS_URL``): SQLite under ``var/``, migrations applied at start,
dramatiq worker threads and the sweeper in this process. Production: the API only; run
``crossdock worker`` processes next to it and ``crossdock db upgrade`` before.
"""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the HTTP API (embedded: with in-process workers)")
    parser.add_argument("--host", help="interface to bind (default from settings: 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default from settings: 8080)")
    parser.add_argument("--demo", action="store_true", help="load demo partners (see examples/)")
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from crossdock.gateway.demo import demo_banner, load_demo
    from crossdock.gateway.http.server import run_server
    from crossdock.gateway.hub import open_hub
    from crossdock.gateway.logs import configure_logging
    from crossdock.gateway.settings import load_settings

    settings = load_settings()
    http = settings.http.model_copy(update={k: v for k, v in (("host", args.host), ("port", args.port)) if v})
    settings = settings.model_copy(update={"http": http})
    configure_logging(settings.log_level, settings.log_format, final=True)
    hub = open_hub(settings, workers=settings.mode == "embedded")
    if args.demo:
        created = load_demo(hub.runtime.engine, settings.var_dir)
        print(f"demo partners ready ({', '.join(created) or 'already loaded'})")
        for line in demo_banner(f"http://{http.host}:{http.port}"):
            print(line)
    run_server(hub.app(), settings)
    return 0
