"""UBL 2.x ⇄ canonical: corpus expectations, GTIN checks, round trips as properties."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xml_doc_strategies import CODE, DATES, TEXT, TIMES, item_ids, merged, money, optional, quantity

from crossdock.adapters.xml import parse_xml, render_xml
from crossdock.mappings.ubl import check_ubl_specs, read_ubl, write_ubl
from crossdock.schemas.canonical import Invoice, PurchaseOrder, ShipNotice, parse_document
from crossdock.schemas.errors import Issue

#: corpus file → (canonical document type, issue codes) with the reason when not clean
EXPECTED: dict[str, tuple[str, list[str]]] = {
    # the OASIS examples use placeholder GTINs whose check digits are wrong: warnings, not errors
    "ubl__ubl_UBL-Invoice-2.1-Example.xml": ("invoice", ["GTIN_CHECK_DIGIT"] * 4),
    "ubl__ubl_UBL-Order-2.1-Example.xml": ("purchase_order", ["GTIN_CHECK_DIGIT"] * 2),
    "ubl__ubl_UBL-Forecast-2.1-Example.xml": ("planning_schedule", ["GTIN_CHECK_DIGIT"]),
    "ubl__ubl_UBL-InventoryReport-2.1-Example.xml": ("inventory_report", []),
    "ubl__ubl_UBL-ProductActivity-2.1-Example-1.xml": ("product_activity", []),
    "ubl__ubl_UBL-OrderResponse-2.1-Example.xml": ("order_response", []),
    "ubl__ubl_UBL-DespatchAdvice-2.0-Example.xml": ("ship_notice", []),
}


def test_every_ubl_spec_checks() -> None:
    check_ubl_specs()


def test_corpus_ubl_files_translate_as_expected(corpus_dir: Path) -> None:
    files = sorted(corpus_dir.glob("xml/*/ubl*.xml"))
    assert sorted(p.name for p in files) == sorted(EXPECTED)
    rows = []
    for path in files:
        result = read_ubl(parse_xml(path.read_bytes()))
        codes = [issue.code for issue in result.issues]
        assert all(issue.severity == "warning" for issue in result.issues), path.name
        rows.append(f"{path.name:50} {result.root:18} {result.document.document_type:18} {','.join(codes) or 'ok'}")
        assert (result.document.document_type, codes) == EXPECTED[path.name], path.name
        rendered, issues = write_ubl(result.document)
        assert issues == []
        assert read_ubl(parse_xml(render_xml(rendered))).document == result.document, path.name
    print("\n".join(["", "UBL corpus:", *rows]))


def test_order_fields_map_where_expected(corpus_dir: Path) -> None:
    po = read_ubl(parse_xml((corpus_dir / "xml/850/ubl__ubl_UBL-Order-2.1-Example.xml").read_bytes())).document
    assert (po.po_number, po.currency, str(po.order_date.date), str(po.order_date.time)) == ("34", "SEK", "2010-01-20", "12:30:00")
    assert [p.role.value for p in po.parties][:2] == ["buyer", "seller"]
    buyer = po.parties[0]
    assert buyer.identifiers[0].scheme.value == "gln" and buyer.identifiers[0].value == "7300070011115"
    line = po.lines[0]
    assert (line.line_number, str(line.quantity.value), line.quantity.unit) == ("1", "120", "LTR")
    assert line.item.vendor_part == "SItemNo001" and line.item.gtin == "1234567890123"
    assert str(line.unit_price.amount) == "50" and line.unit_price.currency == "SEK"


def test_unknown_ubl_documents_are_reported() -> None:
    data = b'<Catalogue xmlns="urn:oasis:names:specification:ubl:schema:xsd:Catalogue-2"><ID>1</ID></Catalogue>'
    result = read_ubl(parse_xml(data))
    assert (result.document, result.issues) == (None, [Issue("DOCUMENT_UNSUPPORTED", "UBL Catalogue is not mapped", ("Catalogue",))])


def test_wrong_namespace_is_not_mistaken_for_ubl() -> None:
    result = read_ubl(parse_xml(b'<Order xmlns="urn:example"><ID>1</ID></Order>'))
    assert result.document is None and result.issues[0].code == "DOCUMENT_UNSUPPORTED"


def test_other_formats_extensions_travel_in_ubl_extensions() -> None:
    po = PurchaseOrder(po_number="9", extensions={"x12": {"unmapped": [["MSG", ["hi"]]]}})
    rendered, _ = write_ubl(po)
    assert b"crossdock.extensions" in render_xml(rendered)
    assert read_ubl(parse_xml(render_xml(rendered))).document == po


# --- round trips as properties ------------------------------------------------------------------

_DATE_ONLY = DATES.map(lambda d: {"date": d.isoformat()})
_ISSUED = st.builds(
    lambda d, t: {"date": d.isoformat(), **({"time": t.isoformat(), "time_precision": "second"} if t else {})},
    DATES,
    st.none() | TIMES,
)
_CONTACT = merged(
    optional("name", TEXT),
    st.tuples(*(st.lists(TEXT, max_size=1).map(lambda v, q=q: [{"qualifier": q, "value": x} for x in v]) for q in ("TE", "FX", "EM"))).map(
        lambda parts: {"channels": [c for part in parts for c in part]}
    ),
).filter(lambda contact: contact.get("name") or contact["channels"])


def _party(role: str, role_code: str):
    identifier = st.builds(
        lambda q, v: {"scheme": {"GLN": "gln", "DUNS": "duns"}.get(q or "", "other"), **({"qualifier": q} if q else {}), "value": v},
        st.none() | st.sampled_from(["GLN", "DUNS", "ZZZ"]),
        TEXT,
    )
    return merged(
        st.just({"role": role, "role_code": role_code}),
        st.builds(lambda n: {"name": n}, TEXT),
        optional("identifiers", st.lists(identifier, min_size=1, max_size=2)),
        optional("address", merged(st.builds(lambda c: {"city": c}, TEXT), optional("lines", st.lists(TEXT, min_size=1, max_size=2)), optional("postal_code", CODE), optional("region", TEXT), optional("country", st.sampled_from(["SE", "DK"])))),
        optional("contacts", st.lists(_CONTACT, min_size=1, max_size=2)),
    )


def _parties(*roles: tuple[str, str]):
    return st.tuples(*(st.none() | _party(role, code) for role, code in roles)).map(
        lambda found: {"parties": [p for p in found if p]} if any(found) else {}
    )


def _descriptions():
    name = st.lists(TEXT, max_size=1).map(lambda v: [{"type_code": "name", "text": x} for x in v])
    text = st.lists(st.builds(lambda t, l: {"text": t, **({"language": l} if l else {})}, TEXT, st.none() | st.just("en")), max_size=2)
    return st.tuples(name, text).map(lambda p: {"descriptions": p[0] + p[1]} if p[0] + p[1] else {})


_NOTES = st.lists(st.builds(lambda t: {"text": t}, TEXT), min_size=1, max_size=2)
_CHARGES = st.lists(
    merged(st.builds(lambda i: {"indicator": i}, st.sampled_from(["charge", "allowance"])), optional("description", TEXT), optional("amount", money())),
    min_size=1,
    max_size=2,
)

PURCHASE_ORDERS = merged(
    st.just({"document_type": "purchase_order"}),
    st.builds(lambda n: {"po_number": n}, TEXT),
    optional("order_date", _ISSUED),
    optional("notes", _NOTES),
    optional("currency", st.sampled_from(["SEK", "EUR"])),
    optional("references", st.lists(st.builds(lambda v: {"kind": "customer_reference", "value": v}, TEXT), min_size=1, max_size=1)),
    optional("contract_number", TEXT),
    _parties(("buyer", "BuyerCustomerParty"), ("seller", "SellerSupplierParty"), ("bill_to", "AccountingCustomerParty"), ("ship_to", "Delivery")),
    st.tuples(st.none() | _DATE_ONLY, st.none() | _DATE_ONLY).map(
        lambda d: {"dates": [x for x in ({"kind": "deliver_not_before", "value": d[0]} if d[0] else None, {"kind": "deliver_no_later", "value": d[1]} if d[1] else None) if x]}
    ),
    optional("charges", _CHARGES),
    optional("total_amount", money()),
    optional(
        "lines",
        st.lists(
            merged(
                st.builds(lambda n: {"line_number": n}, CODE),
                optional("notes", _NOTES),
                optional("quantity", quantity()),
                optional("unit_price", money()),
                item_ids("buyer_part", "vendor_part", "gtin"),
                _descriptions(),
            ),
            min_size=1,
            max_size=3,
        ),
    ),
)

SHIP_NOTICES = merged(
    st.just({"document_type": "ship_notice"}),
    st.builds(lambda n: {"asn_number": n}, TEXT),
    optional("asn_date", _ISSUED),
    optional("transaction_type_code", CODE),
    st.builds(
        lambda orders, parties, items: {"shipment": {**orders, **parties, **items}},
        optional("orders", st.lists(merged(st.builds(lambda n: {"po_number": n}, TEXT), optional("po_date", DATES.map(str))), min_size=1, max_size=1)),
        _parties(("ship_from", "DespatchSupplierParty"), ("ship_to", "DeliveryCustomerParty")),
        optional("items", st.lists(merged(st.builds(lambda n: {"line_number": n}, CODE), optional("quantity_shipped", quantity()), item_ids("buyer_part", "vendor_part", "gtin"), _descriptions()), min_size=1, max_size=3)),
    ),
)

INVOICES = merged(
    st.just({"document_type": "invoice"}),
    st.builds(lambda n: {"invoice_number": n}, TEXT),
    optional("invoice_date", _ISSUED),
    optional("transaction_type_code", st.sampled_from(["380", "381"])),
    optional("notes", _NOTES),
    optional("currency", st.just("EUR")),
    optional("po_number", TEXT),
    _parties(("seller", "AccountingSupplierParty"), ("bill_to", "AccountingCustomerParty"), ("remit_to", "PayeeParty")),
    optional("payment_terms", st.lists(st.builds(lambda t: {"description": t}, TEXT), min_size=1, max_size=1)),
    optional("charges", _CHARGES),
    optional("taxes", st.lists(st.builds(lambda m: {"amount": m}, money()), min_size=1, max_size=1)),
    optional("total_amount", money()),
    optional(
        "lines",
        st.lists(
            merged(
                st.builds(lambda n: {"line_number": n}, CODE),
                optional("notes", _NOTES),
                optional("quantity", quantity()),
                optional("charges", _CHARGES),
                item_ids("buyer_part", "vendor_part", "gtin"),
                _descriptions(),
                optional("unit_price", money()),
            ),
            min_size=1,
            max_size=3,
        ),
    ),
)


def _round_trip(document) -> None:
    rendered, issues = write_ubl(document)
    assert issues == []
    result = read_ubl(parse_xml(render_xml(rendered)))
    assert result.issues == []
    assert result.document == document


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PURCHASE_ORDERS)
def test_purchase_order_round_trips_through_ubl(data: dict) -> None:
    document = parse_document(data)
    assert isinstance(document, PurchaseOrder)
    _round_trip(document)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SHIP_NOTICES)
def test_ship_notice_round_trips_through_ubl(data: dict) -> None:
    document = parse_document(data)
    assert isinstance(document, ShipNotice)
    _round_trip(document)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(INVOICES)
def test_invoice_round_trips_through_ubl(data: dict) -> None:
    document = parse_document(data)
    assert isinstance(document, Invoice)
    _round_trip(document)
