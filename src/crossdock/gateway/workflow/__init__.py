"""Queued workflow: work table (outbox), stages, runner, sweeper, dramatiq broker and actor.

Import the modules themselves (``.outbox``, ``.stages``, ``.runner``, ``.sweeper``, ``.broker``):
ingest uses the outbox while the stages use ingest's ids, so this package imports nothing eagerly.
"""

__all__: list[str] = []
