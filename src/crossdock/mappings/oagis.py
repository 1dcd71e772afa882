"""OAGIS 10 BODs → canonical: one rule table per noun, on the shared XML engine (inbound only).

=========================  =====================  ==============================================
OAGIS 10 BOD               canonical document     header key / lines
=========================  =====================  ==============================================
ProcessPurchaseOrder       PurchaseOrder          ``PurchaseOrderHeader/ID`` / PurchaseOrderLine
AcknowledgePurchaseOrder   OrderResponse          ``PurchaseOrderHeader/ID`` / PurchaseOrderLine
NotifyShipment             ShipNotice             ``ShipmentHeader/ID`` / ShipmentItem
ProcessInvoice             Invoice                ``InvoiceHeader/ID`` / InvoiceLine
SyncInventoryCount         InventoryReport        ``InventoryCountHeader/ID`` / InventoryCountLine
ProcessPlanningSchedule    PlanningSchedule       ``PlanningScheduleHeader/ID`` / PlanningScheduleLine
=========================  =====================  ==============================================

The verb (Process, Acknowledge, Notify, Sync) selects nothing: the noun and the BOD name do.
Parties are read from OAGIS's role elements (``CustomerParty`` → buyer, ``SupplierParty`` →
seller, ``ShipToParty`` …); a generic ``Party`` keeps its ``@role`` as ``role_code``.
OAGIS identifiers carry ``schemeAgencyID``, kept as the qualifier; ``DUNSID`` is a DUNS number.

As for cXML and UBL, nothing is silently dropped: whatever no rule reads (the
``ApplicationArea``, OAGIS ``Extension`` blocks, elements this table does not know) lands in
``extensions["oagis"]["unmapped"]`` as ``[path, value]`` pairs, per line where the line model has
``extensions``. A value a rule reads but cannot convert (a ``DocumentDateTime`` that is not ISO
8601, a currency that is not three capitals) is a ``VALUE_INVALID`` issue carrying the input;
the document still maps. Only OAGIS 10 (``http://www.openapplications.org/oagis/10``) is read;
OAGIS 9 BODs nest their identifiers differently and answer ``DOCUMENT_UNSUPPORTED``.

Decision: OAGIS is inbound only. Partners that speak OAGIS are usually an enterprise's own ERP
(Infor, Oracle) on the inside of the hub; the outbound formats partners asked for are X12, cXML,
UBL and canonical JSON, and an OAGIS writer can be added on the same tables when one is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from crossdock.mappings import xmlspec as xs
from crossdock.mappings.xmlspec import Const, Each, Field, Group, XmlSpec
from crossdock.schemas.canonical import DOCUMENT_TYPES
from crossdock.schemas.errors import Issue
from crossdock.schemas.xmltree import XmlDocument, namespace_of

__all__ = ["OAGIS_SPECS", "OAGIS_NAMESPACE", "OagisResult", "read_oagis", "check_oagis_specs"]

OAGIS_NAMESPACE = "http://www.openapplications.org/oagis/10"

_CODE_LISTS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    # OAGIS AcknowledgeCode / status codes on an acknowledged order
    "ack": {
        "Accepted": "accepted", "Modified": "accepted_with_changes", "Rejected": "rejected",
        "Pending": "on_hold", "*": "other",
    },
    "line_ack": {
        "Accepted": "accepted", "Modified": "accepted_with_changes", "Rejected": "rejected",
        "Pending": "on_hold", "Backordered": "backordered", "*": "other",
    },
})


# --- building blocks ---------------------------------------------------------------------------


def _amount(target: str, path: str) -> Group:
    return Group(target, path, (Field("amount", ".", "decimal"), Field("currency", "@currencyCode", "currency")),
                 key="amount")


def _quantity(target: str, path: str) -> Group:
    return Group(
        target,
        path,
        (Field("value", ".", "decimal"), Field("unit", "@unitCode"), Field("unit_original", "@unitCode", direction="in")),
        key="value",
    )


_CONTACT: tuple[xs.Rule, ...] = (
    Field("name", "PersonName/FormattedName"),
    Each("channels", "TelephoneCommunication/FormattedNumberID", (Field("value", "."),), when=(("qualifier", "TE"),)),
    Each("channels", "FaxCommunication/FormattedNumberID", (Field("value", "."),), when=(("qualifier", "FX"),)),
    Each("channels", "EMailAddressCommunication/EMailAddressID", (Field("value", "."),), when=(("qualifier", "EM"),)),
)

_PARTY: tuple[xs.Rule, ...] = (
    Each("identifiers", "ID", (Const("scheme", "other"), Field("qualifier", "@schemeAgencyID"), Field("value", "."))),
    Each("identifiers", "DUNSID", (Const("scheme", "duns"), Field("value", "."))),
    Field("name", "Name"),
    Field("address.lines", "Location/Address/StreetName", many=True),
    Field("address.city", "Location/Address/CityName"),
    Field("address.region", "Location/Address/CountrySubDivisionCode"),
    Field("address.postal_code", "Location/Address/PostalCode"),
    Field("address.country", "Location/Address/CountryCode"),
    Each("contacts", "Contact", _CONTACT),
)

#: OAGIS party element → canonical role
_ROLES: tuple[tuple[str, str], ...] = (
    ("CustomerParty", "buyer"),
    ("BuyerParty", "buyer"),
    ("SupplierParty", "seller"),
    ("SellerParty", "seller"),
    ("ShipToParty", "ship_to"),
    ("ShipFromParty", "ship_from"),
    ("BillToParty", "bill_to"),
    ("RemitToParty", "remit_to"),
    ("CarrierParty", "carrier"),
    ("WarehouseParty", "warehouse"),
)


def _parties(prefix: str, target: str = "parties", extra: tuple[tuple[str, str], ...] = ()) -> tuple[Each, ...]:
    named = tuple(
        Each(target, f"{prefix}{element}", (Const("role_code", element), *_PARTY), when=(("role", role),),
             keep_unmapped=True)
        for element, role in (*extra, *_ROLES)
    )
    generic = Each(target, f"{prefix}Party", (Field("role_code", "@role"), *_PARTY), when=(("role", "other"),),
                   keep_unmapped=True)
    return (*named, generic)


def _item(prefix: str) -> tuple[xs.Rule, ...]:
    def ids(path: str, kind: str) -> Each:
        return Each("item.ids", f"{prefix}{path}", (Field("value", "."), Field("qualifier", "@schemeAgencyID")),
                    when=(("kind", kind),))

    return (
        ids("Item/ID", "other"),
        ids("Item/CustomerItemID/ID", "buyer_part"),
        ids("Item/SupplierItemID/ID", "vendor_part"),
        ids("Item/ManufacturerItemID/ID", "manufacturer_part"),
        ids("Item/GTINID", "gtin"),
        Each("descriptions", f"{prefix}Item/Description", (Field("text", "."), Field("language", "@languageCode"))),
    )


def _notes(prefix: str) -> tuple[Each, ...]:
    return (
        Each("notes", f"{prefix}Note", (Field("text", "."),)),
        Each("notes", f"{prefix}Description", (Field("text", "."),), when=(("code", "description"),)),
    )


def _header(header: str, key: str, date: str, *, notes: bool = True,
            references: str = "references") -> tuple[xs.Rule, ...]:
    """The part every OAGIS document header shares (``DocumentReference`` as references);
    ``notes=False`` for documents without header notes (they stay in ``extensions``)."""
    prefix = f"{header}/"
    return (
        Field(key, f"{prefix}ID", required=True),
        Field(date, f"{prefix}DocumentDateTime", "datetime"),
        *(_notes(prefix) if notes else ()),
        Each(references, f"{prefix}DocumentReference", (Field("value", "ID"), Field("qualifier", "@typeCode")),
             when=(("kind", "other"),)),
    )


def _line(quantity_target: str = "quantity") -> tuple[xs.Rule, ...]:
    return (
        Field("line_number", "LineNumberID"),
        _quantity(quantity_target, "Quantity"),
        *_item(""),
        *_notes(""),
    )


_ORDER_LINE = (*_line(), _amount("unit_price", "UnitPrice/Amount"))

_PURCHASE_ORDER: tuple[xs.Rule, ...] = (
    *_header("PurchaseOrderHeader", "po_number", "order_date"),
    *_parties("PurchaseOrderHeader/"),
    _amount("total_amount", "PurchaseOrderHeader/TotalAmount"),
    Each("lines", "PurchaseOrderLine", _ORDER_LINE, keep_unmapped=True),
)

_ORDER_RESPONSE: tuple[xs.Rule, ...] = (
    *_header("PurchaseOrderHeader", "po_number", "ack_date"),
    Field("ack_type", "PurchaseOrderHeader/Status/Code", "code:ack"),
    Field("ack_type_code", "PurchaseOrderHeader/Status/Code", direction="in"),
    *_parties("PurchaseOrderHeader/"),
    _amount("total_amount", "PurchaseOrderHeader/TotalAmount"),
    Each(
        "lines",
        "PurchaseOrderLine",
        (
            *_ORDER_LINE,
            Each("acks", "Status", (Field("status", "Code", "code:line_ack"), Field("status_code", "Code", direction="in"))),
        ),
        keep_unmapped=True,
    ),
)

_SHIPMENT: tuple[xs.Rule, ...] = (
    *_header("ShipmentHeader", "asn_number", "asn_date", notes=False, references="shipment.references"),
    *_parties("ShipmentHeader/", "shipment.parties"),
    Each(
        "shipment.items",
        "ShipmentItem",
        (
            Field("line_number", "LineNumberID"),
            _quantity("quantity_shipped", "ShippedQuantity"),
            _quantity("quantity_ordered", "OrderQuantity"),
            *_item(""),
        ),
        keep_unmapped=True,
    ),
)

_INVOICE: tuple[xs.Rule, ...] = (
    *_header("InvoiceHeader", "invoice_number", "invoice_date"),
    *_parties("InvoiceHeader/"),
    _amount("total_amount", "InvoiceHeader/TotalAmount"),
    Each("lines", "InvoiceLine", _ORDER_LINE, keep_unmapped=True),
)

_INVENTORY: tuple[xs.Rule, ...] = (
    *_header("InventoryCountHeader", "report_id", "report_date", notes=False),
    *_parties("InventoryCountHeader/", extra=(("WarehouseParty", "reporting_location"),)),
    Each(
        "items",
        "InventoryCountLine",
        (
            Field("line_number", "LineNumberID"),
            Each("quantities", ".", (Const("qualifier", "CountQuantity"), _quantity("quantity", "CountQuantity")),
                 when=(("kind", "on_hand"),), single=True),
            *_item(""),
        ),
        keep_unmapped=True,
    ),
)

_PLANNING: tuple[xs.Rule, ...] = (
    Field("schedule_number", "PlanningScheduleHeader/ID", required=True),
    Field("issue_date", "PlanningScheduleHeader/DocumentDateTime", "date"),
    Field("schedule_type_code", "PlanningScheduleHeader/ScheduleTypeCode"),
    Field("horizon_start", "PlanningScheduleHeader/EffectiveTimePeriod/StartDateTime", "date"),
    Field("horizon_end", "PlanningScheduleHeader/EffectiveTimePeriod/EndDateTime", "date"),
    *_parties("PlanningScheduleHeader/"),
    Each(
        "items",
        "PlanningScheduleLine",
        (
            Field("line_number", "LineNumberID"),
            *_item(""),
            Each(
                "forecasts",
                "ScheduleDetail",
                (
                    _quantity("quantity", "Quantity"),
                    Field("start", "EffectiveTimePeriod/StartDateTime", "date"),
                    Field("end", "EffectiveTimePeriod/EndDateTime", "date"),
                ),
            ),
        ),
        keep_unmapped=True,
    ),
)


def _spec(bod: str, noun: str, document_type: str, rules: tuple[xs.Rule, ...]) -> XmlSpec:
    return XmlSpec(
        name=f"oagis/{bod}/{document_type}",
        document_type=document_type,
        context=f"DataArea/{noun}",
        rules=rules,
        namespaces=MappingProxyType({"": OAGIS_NAMESPACE}),
        format="oagis",
        code_lists=_CODE_LISTS,
    )


#: BOD root element → spec; the explicit registry (no discovery)
OAGIS_SPECS: Mapping[str, XmlSpec] = MappingProxyType({
    "ProcessPurchaseOrder": _spec("ProcessPurchaseOrder", "PurchaseOrder", "purchase_order", _PURCHASE_ORDER),
    "AcknowledgePurchaseOrder": _spec("AcknowledgePurchaseOrder", "PurchaseOrder", "order_response", _ORDER_RESPONSE),
    "NotifyShipment": _spec("NotifyShipment", "Shipment", "ship_notice", _SHIPMENT),
    "ProcessInvoice": _spec("ProcessInvoice", "Invoice", "invoice", _INVOICE),
    "SyncInventoryCount": _spec("SyncInventoryCount", "InventoryCount", "inventory_report", _INVENTORY),
    "ProcessPlanningSchedule": _spec("ProcessPlanningSchedule", "PlanningSchedule", "planning_schedule", _PLANNING),
})


#: what :func:`read_oagis` found: the BOD name (``root``), the canonical document, the issues
OagisResult = xs.ReadResult


def read_oagis(document: XmlDocument) -> OagisResult:
    """OAGIS 10 BOD → canonical document.

    Args:
        document: parsed by :func:`crossdock.adapters.xml.parse_xml`.

    Returns:
        The result; never raises for a bad document (issues say what is wrong).
    """
    root = document.root
    spec = OAGIS_SPECS.get(root.name)
    if spec is None or namespace_of(root.tag) != OAGIS_NAMESPACE:
        where = namespace_of(root.tag) or "no namespace"
        return OagisResult(root.name, None, [
            Issue("DOCUMENT_UNSUPPORTED", f"OAGIS {root.name} ({where}) is not mapped", (root.name,))])
    canonical, issues = xs.map_document(root, spec, xs.new_tracker(), DOCUMENT_TYPES[spec.document_type])
    return OagisResult(root.name, canonical, issues)


def check_oagis_specs() -> None:
    """Check every OAGIS table against the canonical model (raises SpecInvalid)."""
    for spec in OAGIS_SPECS.values():
        xs.check_spec(spec, DOCUMENT_TYPES[spec.document_type])

