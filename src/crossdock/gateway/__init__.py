"""The service: HTTP app, workers, store, portals and CLI.

The only package that imports litestar, dramatiq or sqlalchemy. Entry points build a
:class:`~crossdock.gateway.settings.Settings` once and pass it down; nothing runs at import.
Heavy modules are imported by their users (``crossdock.gateway.hub``, ``.ingest`` …), so this
package's ``__init__`` stays light for the CLI.
"""

__all__: list[str] = []
