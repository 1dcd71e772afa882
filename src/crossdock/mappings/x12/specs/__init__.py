"""X12 <-> canonical rule tables, one module per business area (data, not code paths)."""
