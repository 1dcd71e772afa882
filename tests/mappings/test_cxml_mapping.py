"""cXML ⇄ canonical: corpus expectations, envelope and secret handling, round trips as properties."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossdock.adapters.xml import parse_xml, render_xml
from crossdock.mappings.cxml import CxmlCredential, CxmlEnvelope, check_cxml_specs, read_cxml, write_cxml
from crossdock.schemas.canonical import Invoice, PurchaseOrder, ShipNotice, parse_document
from crossdock.schemas.errors import Issue

from xml_doc_strategies import AMOUNT, CODE, DATES, TEXT, datetime_value, item_ids, merged, money, optional, quantity

ENVELOPE = CxmlEnvelope(
    payload_id="1@test",
    timestamp="2024-01-01T00:00:00+00:00",
    from_=(CxmlCredential(domain="DUNS", identity="111"),),
    to=(CxmlCredential(domain="DUNS", identity="222"),),
    sender=(CxmlCredential(domain="NetworkId", identity="AN01"),),
)

#: corpus file → (message, document type or None, issue codes) with the reason when not clean
EXPECTED: dict[str, tuple[str, str | None, list[str]]] = {
    "cxmlphp__cxml_OrderRequest.xml": ("OrderRequest", "purchase_order", []),
    "cxmlphp__cxml_fixture_order_request.xml": ("OrderRequest", "purchase_order", []),
    "cxmlrb__cxml_purchase_order_request_200.xml": ("OrderRequest", "purchase_order", []),
    "cxmlphp__cxml_ShipNoticeRequest.xml": ("ShipNoticeRequest", "ship_notice", []),
    "cxmlrb__cxml_invoice_backed_by_multiple_pos.xml": ("InvoiceDetailRequest", "invoice", []),
    "cxmlrb__cxml_invoice_taxes_at_line.xml": ("InvoiceDetailRequest", "invoice", []),
    "cxmlphp__cxml_ProductActivityMessage.xml": ("ProductActivityMessage", "product_activity", []),
    # StatusUpdateRequest (order status) has no canonical document: reported, not crashed
    "cxmlphp__cxml_StatusUpdateRequest.xml": ("StatusUpdateRequest", None, ["DOCUMENT_UNSUPPORTED"]),
}


def test_every_cxml_spec_checks() -> None:
    check_cxml_specs()


def test_corpus_cxml_files_translate_as_expected(corpus_dir: Path) -> None:
    files = sorted(corpus_dir.glob("xml/*/cxml*.xml"))
    assert sorted(p.name for p in files) == sorted(EXPECTED)
    rows = []
    for path in files:
        result = read_cxml(parse_xml(path.read_bytes()))
        document_type = result.document.document_type if result.document is not None else None
        codes = [issue.code for issue in result.issues]
        rows.append(f"{path.name:50} {result.message:24} {document_type or '-':18} {','.join(codes) or 'ok'}")
        assert (result.message, document_type, codes) == EXPECTED[path.name], path.name
        if result.document is not None:
            again = read_cxml(parse_xml(render_xml(write_cxml(result.document, result.envelope)[0])))
            assert again.document == result.document, path.name
            assert again.envelope == result.envelope, path.name
    print("\n".join(["", "cXML corpus:", *rows]))


def test_envelope_exposes_sender_and_keeps_the_secret_out_of_the_document(corpus_dir: Path) -> None:
    data = (corpus_dir / "xml/850/cxmlphp__cxml_OrderRequest.xml").read_bytes()
    result = read_cxml(parse_xml(data))
    assert result.envelope.sender_credential == CxmlCredential(domain="NetworkId", identity="inbound@prominate-platform.com")
    assert result.envelope.shared_secret.get_secret_value() == "coyote"
    assert "coyote" not in repr(result.envelope)
    assert "coyote" not in result.document.model_dump_json()
    assert result.envelope.deployment_mode == "test"


def test_order_request_fields_map_where_expected(corpus_dir: Path) -> None:
    result = read_cxml(parse_xml((corpus_dir / "xml/850/cxmlphp__cxml_OrderRequest.xml").read_bytes()))
    po = result.document
    assert (po.po_number, po.purpose.value, po.purpose_code) == ("DO1234", "original", "new")
    assert str(po.total_amount.amount) == "85.00" and po.total_amount.currency == "EUR"
    assert [(p.role.value, p.name) for p in po.parties] == [("ship_to", "Acme"), ("bill_to", "Zinc GmbH")]
    assert po.parties[0].address.lines == ("123 Anystreet",) and po.parties[0].address.country == "US"
    line = po.lines[1]
    assert (line.line_number, str(line.quantity.value), line.quantity.unit) == ("2", "20", "EA")
    assert line.item.vendor_part == "1233245" and str(line.unit_price.amount) == "3.20"
    assert [n.text for n in line.notes] == ["Test comment"]
    # the attachment URL has no canonical home: kept, not dropped
    assert po.extensions["cxml"]["unmapped"] == [
        ["Request[1]/OrderRequest[1]/OrderRequestHeader[1]/Comments[1]/Attachment[1]/URL[1]", "delivery-note.pdf"]
    ]


def test_update_order_request_is_an_order_change() -> None:
    data = (
        b'<cXML payloadID="p" timestamp="2024-01-01T00:00:00Z"><Header/><Request><OrderRequest>'
        b'<OrderRequestHeader orderID="PO1" type="update" orderVersion="2"/>'
        b'<ItemOut quantity="3" lineNumber="1"><ItemID><SupplierPartID>A</SupplierPartID></ItemID></ItemOut>'
        b"</OrderRequest></Request></cXML>"
    )
    result = read_cxml(parse_xml(data))
    assert result.issues == []
    assert result.document.document_type == "order_change"
    assert (result.document.purpose.value, result.document.change_sequence) == ("change", "2")


def test_bad_values_are_issues_not_crashes() -> None:
    data = (
        b'<cXML payloadID="p" timestamp="t"><Header/><Request><OrderRequest>'
        b'<OrderRequestHeader orderDate="yesterday" type="new"><Total><Money currency="USD">lots</Money></Total>'
        b"</OrderRequestHeader></OrderRequest></Request></cXML>"
    )
    result = read_cxml(parse_xml(data))
    assert result.document is None
    assert [(i.code, i.loc) for i in result.issues] == [
        ("MISSING_REQUIRED", ("Request/OrderRequest", "OrderRequestHeader/@orderID")),
        ("VALUE_INVALID", ("Request/OrderRequest", "OrderRequestHeader/@orderDate")),
        ("VALUE_INVALID", ("Request/OrderRequest", "OrderRequestHeader/Total/Money", ".")),
        ("CANONICAL_INVALID", ("po_number",)),
    ]


def test_other_formats_extensions_travel_in_an_extrinsic() -> None:
    po = PurchaseOrder(po_number="9", extensions={"x12": {"unmapped": [["MSG", ["hello"]]]}})
    rendered, issues = write_cxml(po, ENVELOPE)
    assert issues == []
    assert b'<Extrinsic name="crossdock.extensions">' in render_xml(rendered)
    assert read_cxml(parse_xml(render_xml(rendered))).document == po


def test_documents_without_a_cxml_message_are_reported() -> None:
    from crossdock.schemas.canonical import InventoryReport

    _, issues = write_cxml(InventoryReport(report_id="R1"), ENVELOPE)
    assert issues == [Issue("DOCUMENT_UNSUPPORTED", "inventory_report has no cXML message", ("document_type",))]


# --- round trips as properties ------------------------------------------------------------------

_ADDRESS = merged(
    optional("lines", st.lists(TEXT, min_size=1, max_size=2)),
    st.builds(lambda c: {"city": c}, TEXT),
    optional("region", CODE),
    optional("postal_code", CODE),
    optional("country", st.sampled_from(["US", "DE", "SE"])),
)


def _party(role: str, role_code: str, location: bool):
    address = _ADDRESS if not location else merged(_ADDRESS, optional("location_id", CODE))
    return merged(
        st.just({"role": role, "role_code": role_code}),
        st.builds(lambda n: {"name": n}, TEXT),
        optional("additional_names", st.lists(TEXT, min_size=1, max_size=2)),
        optional("address", address),
        optional("contacts", st.builds(lambda e: [{"channels": [{"qualifier": "EM", "value": e}]}], TEXT)),
    )


_ORDER_LINE = merged(
    st.builds(lambda n: {"line_number": n}, CODE),
    optional("quantity", quantity()),
    optional("unit_price", money()),
    item_ids("vendor_part", "buyer_part"),
    optional("descriptions", st.lists(st.builds(lambda t, l: {"text": t, **({"language": l} if l else {})}, TEXT, st.none() | st.sampled_from(["en", "de"])), min_size=1, max_size=2)),
    optional("dates", st.builds(lambda v: [{"kind": "requested_delivery", "value": v}], datetime_value())),
    optional("notes", st.lists(st.builds(lambda t: {"text": t}, TEXT), min_size=1, max_size=2)),
)

PURCHASE_ORDERS = merged(
    st.just({"document_type": "purchase_order", "purpose": "original", "purpose_code": "new"}),
    st.builds(lambda n: {"po_number": n}, TEXT),
    optional("order_date", datetime_value()),
    optional("total_amount", money()),
    optional("dates", st.builds(lambda v: [{"kind": "requested_delivery", "value": v}], datetime_value())),
    st.tuples(st.booleans(), st.booleans(), st.booleans()).flatmap(
        lambda flags: st.tuples(
            _party("ship_to", "ShipTo", True) if flags[0] else st.none(),
            _party("bill_to", "BillTo", True) if flags[1] else st.none(),
            _party("buyer", "buyer", False) if flags[2] else st.none(),
        )
    ).map(lambda parties: {"parties": [p for p in parties if p]} if any(parties) else {}),
    optional("notes", st.lists(st.builds(lambda t: {"text": t}, TEXT), min_size=1, max_size=2)),
    optional("lines", st.lists(_ORDER_LINE, min_size=1, max_size=3)),
)

SHIP_NOTICES = merged(
    st.just({"document_type": "ship_notice", "purpose": "original", "purpose_code": "new"}),
    st.builds(lambda n: {"asn_number": n}, TEXT),
    optional("asn_date", datetime_value()),
    st.tuples(st.none() | datetime_value(), st.none() | datetime_value()).map(
        lambda d: {"dates": [x for x in ({"kind": "shipped", "value": d[0]} if d[0] else None, {"kind": "estimated_delivery", "value": d[1]} if d[1] else None) if x]}
    ),
    st.builds(
        lambda carrier, tracking, orders: {"shipment": {**carrier, **tracking, **orders}},
        optional("carriers", st.builds(lambda c, r: [{"id_qualifier": "2", "carrier_id": c, **({"routing": r} if r else {})}], CODE, st.none() | TEXT)),
        optional("references", st.lists(st.builds(lambda t: {"kind": "tracking", "value": t}, TEXT), min_size=1, max_size=2)),
        optional(
            "orders",
            st.lists(
                merged(
                    st.builds(lambda n: {"po_number": n}, TEXT),
                    optional("po_date", DATES.map(str)),
                    optional("items", st.lists(merged(st.builds(lambda n: {"line_number": n}, CODE), optional("quantity_shipped", quantity()), item_ids("vendor_part", "buyer_part")), min_size=1, max_size=2)),
                ),
                min_size=1,
                max_size=2,
            ),
        ),
    ),
)

_INVOICE_LINE = merged(
    st.builds(lambda n: {"line_number": n}, CODE),
    optional("quantity", quantity()),
    optional("unit_price", money()),
    item_ids("vendor_part", "buyer_part"),
    optional("taxes", st.lists(merged(st.builds(lambda m: {"amount": m}, money()), optional("tax_type", CODE), optional("percent", AMOUNT.map(str)), optional("jurisdiction", CODE)), min_size=1, max_size=2)),
)

INVOICES = merged(
    st.just({"document_type": "invoice", "purpose": "original", "purpose_code": "new"}),
    st.builds(lambda n: {"invoice_number": n}, TEXT),
    optional("invoice_date", datetime_value()),
    optional("transaction_type_code", st.sampled_from(["standard", "creditMemo"])),
    optional("payment_terms", st.builds(lambda d, p: [{"net_days": d, **({"discount_percent": str(p)} if p is not None else {})}], st.integers(0, 120), st.none() | AMOUNT)),
    optional("po_number", TEXT),
    optional("lines", st.lists(_INVOICE_LINE, min_size=1, max_size=3)),
    optional("total_amount", money()),
    optional("taxes", st.lists(st.builds(lambda m: {"amount": m}, money()), min_size=1, max_size=1)),
    optional("charges", st.builds(lambda m: [{"indicator": "charge", "code": "G830", "amount": m}], money())),
)


def _round_trip(document) -> None:
    rendered, issues = write_cxml(document, ENVELOPE)
    assert [i for i in issues if i.severity == "error"] == []
    result = read_cxml(parse_xml(render_xml(rendered)))
    assert result.issues == []
    assert result.document == document


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PURCHASE_ORDERS)
def test_purchase_order_round_trips_through_cxml(data: dict) -> None:
    document = parse_document(data)
    assert isinstance(document, PurchaseOrder)
    _round_trip(document)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SHIP_NOTICES)
def test_ship_notice_round_trips_through_cxml(data: dict) -> None:
    document = parse_document(data)
    assert isinstance(document, ShipNotice)
    _round_trip(document)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(INVOICES)
def test_invoice_round_trips_through_cxml(data: dict) -> None:
    document = parse_document(data)
    assert isinstance(document, Invoice)
    _round_trip(document)
