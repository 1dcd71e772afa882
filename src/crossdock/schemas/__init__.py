"""Leaf package: canonical models, the parsed-X12 tree, X12 definitions as data, error types.

Imports nothing else of Crossdock's.
"""
