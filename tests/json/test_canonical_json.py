"""Canonical JSON: JSON Lines in and out, schema-validated; BAD_INPUT.md 3.8 item 58 (mass assignment)."""

from __future__ import annotations

import json

from crossdock.adapters.json import canonical_line, read_canonical
from crossdock.schemas.canonical import PurchaseOrder
from crossdock.schemas.errors import Issue


def test_58_unknown_and_protected_fields_are_refused_by_the_schema() -> None:
    line = json.dumps({"document_type": "purchase_order", "po_number": "A1", "qty": "10", "tenant_id": "OTHER", "status": "approved"})
    [(document, issues)] = list(read_canonical(line.encode()))
    assert document is None
    assert [(i.code, i.loc) for i in issues] == [
        ("CANONICAL_INVALID", ("line", 1, "purchase_order", "qty")),
        ("CANONICAL_INVALID", ("line", 1, "purchase_order", "tenant_id")),
        ("CANONICAL_INVALID", ("line", 1, "purchase_order", "status")),
    ]


def test_json_lines_round_trip_and_bad_lines_do_not_hide_good_ones() -> None:
    first = PurchaseOrder(po_number="1", currency="USD")
    data = canonical_line(first) + b"\n[NaN]\n" + b'{"document_type": "nope"}\n'
    results = list(read_canonical(data))
    assert results[0] == (first, [])
    assert results[1] == (None, [Issue("JSON_CONSTANT_FORBIDDEN", "JSON constant NaN is not allowed", ("line", 2))])
    assert results[2][0] is None and results[2][1][0].code == "CANONICAL_INVALID"


def test_a_json_array_of_documents_is_read_too() -> None:
    data = b'[{"document_type": "invoice", "invoice_number": "I1"}, 5]'
    (invoice, ok), (missing, issues) = read_canonical(data)
    assert (invoice.invoice_number, ok) == ("I1", [])
    assert missing is None and issues == [Issue("CANONICAL_INVALID", "a canonical document must be a JSON object", (1,))]
