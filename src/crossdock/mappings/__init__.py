"""Declarative rules between each format and the canonical model. Imports ``crossdock.schemas`` only."""
