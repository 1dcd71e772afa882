"""The service: HTTP app, workers, store, portals and CLI.

The only package that imports litestar, dramatiq or sqlalchemy.
"""
