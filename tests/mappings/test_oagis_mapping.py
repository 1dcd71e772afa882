"""OAGIS 10 BODs → canonical (``mappings.oagis``): the tables, a realistic order, the corpus BODs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crossdock.adapters.sniff import sniff
from crossdock.adapters.xml import parse_xml
from crossdock.gateway.pipeline import Detected, read_documents
from crossdock.mappings.oagis import OAGIS_SPECS, check_oagis_specs, read_oagis

ORDER = b"""<?xml version="1.0" encoding="UTF-8"?>
<ProcessPurchaseOrder xmlns="http://www.openapplications.org/oagis/10" releaseID="10.1">
  <ApplicationArea>
    <Sender><LogicalID>ERP-EAST</LogicalID></Sender>
    <CreationDateTime>2026-03-02T09:15:00Z</CreationDateTime>
    <BODID>bod-7731</BODID>
  </ApplicationArea>
  <DataArea>
    <Process/>
    <PurchaseOrder>
      <PurchaseOrderHeader>
        <ID>PO-88120</ID>
        <DocumentDateTime>2026-03-02T09:14:30-05:00</DocumentDateTime>
        <Note>Deliver to dock 4</Note>
        <DocumentReference typeCode="Contract"><ID>CT-9</ID></DocumentReference>
        <CustomerParty>
          <ID schemeAgencyID="GLN">0614141000012</ID>
          <DUNSID>123456789</DUNSID>
          <Name>Acme Retail</Name>
          <Location><Address>
            <StreetName>1 Main St</StreetName><CityName>Columbus</CityName>
            <CountrySubDivisionCode>OH</CountrySubDivisionCode><PostalCode>43004</PostalCode>
            <CountryCode>US</CountryCode>
          </Address></Location>
          <Contact>
            <PersonName><FormattedName>Dana Buyer</FormattedName></PersonName>
            <EMailAddressCommunication><EMailAddressID>dana@example.com</EMailAddressID></EMailAddressCommunication>
          </Contact>
        </CustomerParty>
        <SupplierParty><ID>SUP-1</ID><Name>Globex</Name></SupplierParty>
        <ShipToParty><ID>STORE-12</ID></ShipToParty>
        <TotalAmount currencyCode="USD">250.00</TotalAmount>
        <FreightTermCode>Prepaid</FreightTermCode>
      </PurchaseOrderHeader>
      <PurchaseOrderLine>
        <LineNumberID>1</LineNumberID>
        <Item>
          <ID>WIDGET-9</ID>
          <CustomerItemID><ID>A-100</ID></CustomerItemID>
          <GTINID>00012345678905</GTINID>
          <Description languageCode="en">Blue widget</Description>
        </Item>
        <Quantity unitCode="EA">10</Quantity>
        <UnitPrice><Amount currencyCode="USD">20.00</Amount></UnitPrice>
        <PromisedShipDateTime>2026-03-09</PromisedShipDateTime>
      </PurchaseOrderLine>
      <PurchaseOrderLine>
        <LineNumberID>2</LineNumberID>
        <Item><GTINID>00012345678901</GTINID></Item>
        <Quantity unitCode="CA">1</Quantity>
        <UnitPrice><Amount currencyCode="USD">50.00</Amount></UnitPrice>
      </PurchaseOrderLine>
    </PurchaseOrder>
  </DataArea>
</ProcessPurchaseOrder>
"""

#: corpus BOD → (canonical document type, how many placeholder values are not dates/currencies)
CORPUS = {
    "850/oagis__oagis10.1_ProcessPurchaseOrder.xml": ("purchase_order", 1),
    "855/oagis__oagis10.1_AcknowledgePurchaseOrder.xml": ("order_response", 1),
    "856/oagis__oagis10.1_NotifyShipment.xml": ("ship_notice", 1),
    "810/oagis__oagis10.1_ProcessInvoice.xml": ("invoice", 2),
    "846/oagis__oagis10.1_SyncInventoryCount.xml": ("inventory_report", 1),
    "830/oagis__oagis10.1_ProcessPlanningSchedule.xml": ("planning_schedule", 3),
}


def test_every_table_checks_against_the_canonical_model() -> None:
    check_oagis_specs()
    assert sorted(spec.document_type for spec in OAGIS_SPECS.values()) == sorted(
        ["purchase_order", "order_response", "ship_notice", "invoice", "inventory_report", "planning_schedule"])


def test_a_purchase_order_maps_header_parties_and_lines() -> None:
    result = read_oagis(parse_xml(ORDER))
    po = result.document
    assert result.root == "ProcessPurchaseOrder"
    assert po.document_type == "purchase_order" and po.po_number == "PO-88120"
    assert (str(po.order_date.date), str(po.order_date.time), po.order_date.time_code) == ("2026-03-02", "09:14:30", "-05:00")
    assert [note.text for note in po.notes] == ["Deliver to dock 4"]
    assert [(ref.qualifier, ref.value) for ref in po.references] == [("Contract", "CT-9")]
    assert po.total_amount.amount == Decimal("250.00") and po.total_amount.currency == "USD"
    buyer, seller, ship_to = po.parties
    assert (buyer.role, buyer.role_code, buyer.name) == ("buyer", "CustomerParty", "Acme Retail")
    assert [(i.scheme, i.qualifier, i.value) for i in buyer.identifiers] == [
        ("other", "GLN", "0614141000012"), ("duns", None, "123456789")]
    assert (buyer.address.lines, buyer.address.city, buyer.address.region, buyer.address.country) == (
        ("1 Main St",), "Columbus", "OH", "US")
    assert buyer.contacts[0].name == "Dana Buyer"
    assert [(c.qualifier, c.value) for c in buyer.contacts[0].channels] == [("EM", "dana@example.com")]
    assert (seller.role, seller.name, ship_to.role) == ("seller", "Globex", "ship_to")
    first, second = po.lines
    assert (first.line_number, first.quantity.value, first.quantity.unit, first.unit_price.amount) == (
        "1", Decimal("10"), "EA", Decimal("20.00"))
    assert [(i.kind, i.value) for i in first.item.ids] == [
        ("other", "WIDGET-9"), ("buyer_part", "A-100"), ("gtin", "00012345678905")]
    assert [(d.text, d.language) for d in first.descriptions] == [("Blue widget", "en")]
    # nothing silently dropped: what no rule reads is kept, per line and per document
    assert ["PromisedShipDateTime[1]", "2026-03-09"] in first.extensions["oagis"]["unmapped"]
    unmapped = dict(po.extensions["oagis"]["unmapped"])
    assert unmapped["ApplicationArea[1]/BODID[1]"] == "bod-7731"
    assert any(path.endswith("FreightTermCode[1]") for path in unmapped)
    # a GTIN with a wrong check digit is a warning, the document still maps
    assert [(i.code, i.severity, i.input) for i in result.issues] == [
        ("GTIN_CHECK_DIGIT", "warning", "00012345678901")]
    assert second.quantity.unit == "CA"


def test_a_bad_value_is_an_issue_with_its_input_and_the_document_still_maps() -> None:
    broken = ORDER.replace(b"2026-03-02T09:14:30-05:00", b"March 2nd").replace(b'currencyCode="USD">250', b'currencyCode="usd">250')
    result = read_oagis(parse_xml(broken))
    assert result.document is not None and result.document.order_date is None
    assert result.document.total_amount.currency is None
    assert [(i.code, i.input) for i in result.issues if i.code != "GTIN_CHECK_DIGIT"] == [
        ("VALUE_INVALID", "March 2nd"), ("VALUE_INVALID", "usd")]


def test_a_missing_order_number_is_reported_and_no_document_is_made() -> None:
    result = read_oagis(parse_xml(ORDER.replace(b"<ID>PO-88120</ID>", b"")))
    assert result.document is None
    assert {i.code for i in result.issues} >= {"MISSING_REQUIRED"}


@pytest.mark.parametrize(
    "xml",
    [
        b'<ProcessPurchaseOrder xmlns="http://www.openapplications.org/oagis/9"><DataArea/></ProcessPurchaseOrder>',
        b'<SyncItemMaster xmlns="http://www.openapplications.org/oagis/10"><DataArea/></SyncItemMaster>',
    ],
)
def test_other_versions_and_nouns_are_unsupported_not_guessed(xml: bytes) -> None:
    result = read_oagis(parse_xml(xml))
    assert result.document is None
    assert [i.code for i in result.issues] == ["DOCUMENT_UNSUPPORTED"]


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_bods_map_with_their_placeholders_reported(corpus_dir: Path, name: str) -> None:
    data = (corpus_dir / "xml" / name).read_bytes()
    result = read_oagis(parse_xml(data))
    document_type, invalid = CORPUS[name]
    assert result.document is not None and result.document.document_type == document_type
    assert [i.code for i in result.issues] == ["VALUE_INVALID"] * invalid
    assert {i.input for i in result.issues} == {"token"}
    # the ApplicationArea and everything else no rule reads is kept
    assert any(path.startswith("ApplicationArea[1]/") for path, _ in result.document.extensions["oagis"]["unmapped"])


def test_the_gateway_reads_an_oagis_message() -> None:
    assert sniff(ORDER).format == "oagis"
    reading = read_documents(ORDER, Detected("xml", "oagis"))
    (mapped,) = reading.documents
    assert (mapped.document_type, mapped.body is not None) == ("purchase_order", True)
    assert ("po_number", "PO-88120") in mapped.keys
