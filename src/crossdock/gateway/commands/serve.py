"""``crossdock serve [--demo] [--host H] [--port P]``: the HTTP API (and, embedded, the workers).

Embedded (no ``CROSSDOCK_REDIS_URL``): SQLite under ``var/``, migrations applied at start,
dramatiq worker threads and the sweeper in this process. Production: the API only; run
``crossdock worker`` processes next to it and ``crossdock db upgrade`` before.
"""

from __future__ import annotations

import argparse
import importlib.util

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the HTTP API (embedded: with in-process workers)")
    parser.add_argument("--host", help="interface to bind (default from settings: 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default from settings: 8080)")
    parser.add_argument("--demo", action="store_true", help="load demo partners (see examples/)")
    parser.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from crossdock.gateway.demo import DEMO_KEYS, load_demo
    from crossdock.gateway.hub import open_hub
    from crossdock.gateway.logs import configure_logging
    from crossdock.gateway.settings import load_settings

    settings = load_settings()
    http = settings.http.model_copy(update={k: v for k, v in (("host", args.host), ("port", args.port)) if v})
    settings = settings.model_copy(update={"http": http})
    configure_logging(settings.log_level)
    hub = open_hub(settings, workers=settings.mode == "embedded")
    if args.demo:
        created = load_demo(hub.runtime.engine, settings.var_dir)
        print(f"demo partners ready ({', '.join(created) or 'already loaded'}); API keys: "
              + ", ".join(f"{code}={key}" for code, key in DEMO_KEYS.items()))
        print(f"try: curl -H 'X-Api-Key: {DEMO_KEYS['acme']}' --data-binary @examples/850.x12 "
              f"http://{http.host}:{http.port}/api/v1/messages")
    uvicorn.run(hub.app(), host=http.host, port=http.port, log_level=settings.log_level.lower(),
                http="httptools" if importlib.util.find_spec("httptools") else "auto",
                timeout_keep_alive=int(http.read_timeout_s), access_log=False)
    return 0
