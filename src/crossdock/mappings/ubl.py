"""UBL 2.x ⇄ canonical: one rule table per document, on the shared XML engine.

=================  =====================  =================================================
UBL document       canonical document     notes
=================  =====================  =================================================
Order              PurchaseOrder          lines from ``cac:OrderLine/cac:LineItem``
OrderChange        OrderChange            ``cac:OrderReference/cbc:ID`` is the PO number
OrderResponse      OrderResponse          ``cbc:OrderResponseCode`` / ``cbc:LineStatusCode``
DespatchAdvice     ShipNotice             lines become shipment items; OrderReference → orders
Invoice            Invoice
InventoryReport    InventoryReport        each line's ``cbc:Quantity`` is an on-hand quantity
ProductActivity    ProductActivity        each SupplyChainActivityDataLine is an item
Forecast           PlanningSchedule       each ForecastLine is an item with one bucket
=================  =====================  =================================================

Parties keep the UBL wrapper element as ``role_code`` (``BuyerCustomerParty``). Identifier
``schemeID`` is kept as the qualifier (``GLN``/``0088`` → gln, ``DUNS``/``0060`` → duns). A GTIN
whose check digit is wrong is reported as ``GTIN_CHECK_DIGIT`` (a warning: the document still maps).

Whatever no rule reads lands in ``extensions["ubl"]["unmapped"]`` (per line/party where the
item has ``extensions``) and is written back at its path; extensions of other formats travel as
JSON in ``ext:UBLExtensions/ext:UBLExtension[cbc:ID='crossdock.extensions']/ext:ExtensionContent``.
Rendered documents follow the rule order, which tracks the UBL sequence closely but is not
schema-validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from crossdock.mappings import xmlspec as xs
from crossdock.mappings.xmlspec import Const, Each, Field, Group, XmlSpec
from crossdock.schemas.canonical import DOCUMENT_TYPES
from crossdock.schemas.errors import Issue
from crossdock.schemas.xmltree import XmlDocument, namespace_of

__all__ = ["UBL_SPECS", "UblResult", "read_ubl", "write_ubl", "check_ubl_specs", "UBL_NAMESPACE_PREFIX"]

UBL_NAMESPACE_PREFIX = "urn:oasis:names:specification:ubl:schema:xsd:"
CAC = UBL_NAMESPACE_PREFIX + "CommonAggregateComponents-2"
CBC = UBL_NAMESPACE_PREFIX + "CommonBasicComponents-2"
EXT = UBL_NAMESPACE_PREFIX + "CommonExtensionComponents-2"
UBL_VERSION = "2.1"
_VERSION_TAG = f"{{{CBC}}}UBLVersionID"
_EXTENSIONS_TAG = f"{{{EXT}}}UBLExtensions"

_CODE_LISTS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "scheme": {"GLN": "gln", "0088": "gln", "DUNS": "duns", "0060": "duns", "*": "other"},
    "charge_indicator": {"true": "charge", "false": "allowance"},
    # UNCL 4343 response type codes
    "order_response": {"AP": "accepted", "CA": "accepted_with_changes", "RE": "rejected", "AB": "other", "*": "other"},
    "line_status": {
        "Accepted": "accepted", "Rejected": "rejected", "Revised": "accepted_with_changes",
        "Disputed": "on_hold", "NoStatus": "other", "*": "other",
    },
})


# --- building blocks ---------------------------------------------------------------------------


def _amount(target: str, path: str) -> Group:
    return Group(target, path, (Field("amount", ".", "decimal"), Field("currency", "@currencyID")), key="amount")


def _quantity(target: str, path: str) -> Group:
    return Group(
        target,
        path,
        (
            Field("value", ".", "decimal"),
            Field("unit", "@unitCode"),
            Field("unit_original", "@unitCode", direction="in"),
        ),
        key="value",
    )


def _issued(target: str) -> tuple[Field, ...]:
    return (
        Field(f"{target}.date", "cbc:IssueDate", "date"),
        Field(f"{target}.time", "cbc:IssueTime", "time"),
        Field(f"{target}.time_precision", "cbc:IssueTime", "time_precision", direction="in"),
    )


def _channel(element: str, qualifier: str) -> Each:
    return Each("channels", f"cbc:{element}", (Field("value", "."),), when=(("qualifier", qualifier),))


_CONTACT: tuple[xs.Rule, ...] = (
    Field("name", "cbc:Name"),
    _channel("Telephone", "TE"),
    _channel("Telefax", "FX"),
    _channel("ElectronicMail", "EM"),
)

_PARTY: tuple[xs.Rule, ...] = (
    Each(
        "identifiers",
        "cac:PartyIdentification/cbc:ID",
        (
            Const("scheme", "other"),
            Field("scheme", "@schemeID", "code:scheme", direction="in"),
            Field("qualifier", "@schemeID"),
            Field("value", "."),
        ),
    ),
    Field("name", "cac:PartyName/cbc:Name"),
    Field("address.lines", "cac:PostalAddress/cbc:StreetName", many=True),
    Field("address.city", "cac:PostalAddress/cbc:CityName"),
    Field("address.postal_code", "cac:PostalAddress/cbc:PostalZone"),
    Field("address.region", "cac:PostalAddress/cbc:CountrySubentity"),
    Field("address.country", "cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
    Each("contacts", "cac:Contact", _CONTACT),
)


def _parties(*roles: tuple[str, str]) -> tuple[Each, ...]:
    """``(path to the party content, role)`` pairs; ``role_code`` is the wrapper element."""
    return tuple(
        Each(
            "parties",
            path,
            (Const("role_code", path.split("/")[0].removeprefix("cac:")), *_PARTY),
            when=(("role", role),),
            keep_unmapped=True,
        )
        for path, role in roles
    )


def _item(prefix: str) -> tuple[xs.Rule, ...]:
    def ids(element: str, kind: str) -> Each:
        rules = (Field("value", "."), Field("qualifier", "@schemeID"))
        return Each("item.ids", f"{prefix}cac:{element}/cbc:ID", rules, when=(("kind", kind),))

    return (
        ids("BuyersItemIdentification", "buyer_part"),
        ids("SellersItemIdentification", "vendor_part"),
        ids("StandardItemIdentification", "gtin"),
        Each("descriptions", f"{prefix}cbc:Name", (Field("text", "."),), when=(("type_code", "name"),)),
        Each("descriptions", f"{prefix}cbc:Description", (Field("text", "."), Field("language", "@languageID"))),
    )


def _period(start: str, end: str, path: str) -> tuple[Field, ...]:
    return (Field(start, f"{path}/cbc:StartDate", "date"), Field(end, f"{path}/cbc:EndDate", "date"))


def _dates(kind_start: str, kind_end: str, path: str) -> tuple[Each, ...]:
    return (
        Each("dates", path, (Field("value", "cbc:StartDate", "datetime"),), when=(("kind", kind_start),), single=True),
        Each("dates", path, (Field("value", "cbc:EndDate", "datetime"),), when=(("kind", kind_end),), single=True),
    )


_NOTES = Each("notes", "cbc:Note", (Field("text", "."),))
_CHARGES = Each(
    "charges",
    "cac:AllowanceCharge",
    (
        Field("indicator", "cbc:ChargeIndicator", "code:charge_indicator"),
        Field("description", "cbc:AllowanceChargeReason"),
        _amount("amount", "cbc:Amount"),
    ),
)

_BUYER_SELLER = (
    ("cac:BuyerCustomerParty/cac:Party", "buyer"),
    ("cac:SellerSupplierParty/cac:Party", "seller"),
)

_ORDER_LINE: tuple[xs.Rule, ...] = (
    _NOTES,
    Field("line_number", "cac:LineItem/cbc:ID"),
    _quantity("quantity", "cac:LineItem/cbc:Quantity"),
    *_dates("deliver_not_before", "deliver_no_later", "cac:LineItem/cac:Delivery/cac:RequestedDeliveryPeriod"),
    _amount("unit_price", "cac:LineItem/cac:Price/cbc:PriceAmount"),
    *_item("cac:LineItem/cac:Item/"),
)

_ORDER_HEADER: tuple[xs.Rule, ...] = (
    *_issued("order_date"),
    _NOTES,
    Field("currency", "cbc:DocumentCurrencyCode"),
    Each("references", "cbc:CustomerReference", (Field("value", "."),), when=(("kind", "customer_reference"),)),
    Field("contract_number", "cac:Contract/cbc:ID"),
    *_parties(
        *_BUYER_SELLER,
        ("cac:OriginatorCustomerParty/cac:Party", "ordered_by"),
        ("cac:AccountingCustomerParty/cac:Party", "bill_to"),
        ("cac:Delivery/cac:DeliveryParty", "ship_to"),
    ),
    *_dates("deliver_not_before", "deliver_no_later", "cac:Delivery/cac:RequestedDeliveryPeriod"),
    _CHARGES,
    _amount("total_amount", "cac:AnticipatedMonetaryTotal/cbc:PayableAmount"),
    Each("lines", "cac:OrderLine", _ORDER_LINE, keep_unmapped=True),
)

_ORDER = (Field("po_number", "cbc:ID", required=True), *_ORDER_HEADER)
_ORDER_CHANGE = (
    Each("references", "cbc:ID", (Field("value", "."),), when=(("kind", "other"), ("qualifier", "OrderChangeID"))),
    Field("change_sequence", "cbc:SequenceNumberID"),
    Field("po_number", "cac:OrderReference/cbc:ID", required=True),
    *_ORDER_HEADER,
)

_ORDER_RESPONSE: tuple[xs.Rule, ...] = (
    Field("seller_order_number", "cbc:ID"),
    *_issued("ack_date"),
    Field("ack_type", "cbc:OrderResponseCode", "code:order_response"),
    Field("ack_type_code", "cbc:OrderResponseCode", direction="in"),
    _NOTES,
    Field("currency", "cbc:DocumentCurrencyCode"),
    Field("po_number", "cac:OrderReference/cbc:ID", required=True),
    *_parties(("cac:SellerSupplierParty/cac:Party", "seller"), ("cac:BuyerCustomerParty/cac:Party", "buyer")),
    Each(
        "lines",
        "cac:OrderLine",
        (
            _NOTES,
            Field("line_number", "cac:LineItem/cbc:ID"),
            Each(
                "acks",
                "cac:LineItem",
                (
                    Field("status", "cbc:LineStatusCode", "code:line_status"),
                    Field("status_code", "cbc:LineStatusCode", direction="in"),
                ),
                single=True,
            ),
            _quantity("quantity", "cac:LineItem/cbc:Quantity"),
            _amount("unit_price", "cac:LineItem/cac:Price/cbc:PriceAmount"),
            *_item("cac:LineItem/cac:Item/"),
        ),
        keep_unmapped=True,
    ),
)

_DESPATCH: tuple[xs.Rule, ...] = (
    Field("asn_number", "cbc:ID", required=True),
    *_issued("asn_date"),
    Field("transaction_type_code", "cbc:DespatchAdviceTypeCode"),
    Each("shipment.orders", "cac:OrderReference", (Field("po_number", "cbc:ID"), Field("po_date", "cbc:IssueDate", "date"))),
    *(
        Each(rule.target.replace("parties", "shipment.parties"), rule.path, rule.rules, rule.when, keep_unmapped=True)
        for rule in _parties(
            ("cac:DespatchSupplierParty/cac:Party", "ship_from"),
            ("cac:DeliveryCustomerParty/cac:Party", "ship_to"),
            *_BUYER_SELLER,
        )
    ),
    Each(
        "shipment.items",
        "cac:DespatchLine",
        (
            Field("line_number", "cbc:ID"),
            _quantity("quantity_shipped", "cbc:DeliveredQuantity"),
            *_item("cac:Item/"),
        ),
        keep_unmapped=True,
    ),
)

_INVOICE: tuple[xs.Rule, ...] = (
    Field("invoice_number", "cbc:ID", required=True),
    *_issued("invoice_date"),
    Field("transaction_type_code", "cbc:InvoiceTypeCode"),
    _NOTES,
    Field("currency", "cbc:DocumentCurrencyCode"),
    *_dates("period_start", "period_end", "cac:InvoicePeriod"),
    Field("po_number", "cac:OrderReference/cbc:ID"),
    *_parties(
        ("cac:AccountingSupplierParty/cac:Party", "seller"),
        ("cac:AccountingCustomerParty/cac:Party", "bill_to"),
        ("cac:PayeeParty", "remit_to"),
    ),
    Each("payment_terms", "cac:PaymentTerms", (Field("description", "cbc:Note"),)),
    _CHARGES,
    Each("taxes", "cac:TaxTotal", (_amount("amount", "cbc:TaxAmount"),)),
    _amount("total_amount", "cac:LegalMonetaryTotal/cbc:PayableAmount"),
    Each(
        "lines",
        "cac:InvoiceLine",
        (
            Field("line_number", "cbc:ID"),
            _NOTES,
            _quantity("quantity", "cbc:InvoicedQuantity"),
            _CHARGES,
            Each("taxes", "cac:TaxTotal", (_amount("amount", "cbc:TaxAmount"),)),
            *_item("cac:Item/"),
            _amount("unit_price", "cac:Price/cbc:PriceAmount"),
        ),
        keep_unmapped=True,
    ),
)

_INVENTORY: tuple[xs.Rule, ...] = (
    Field("report_id", "cbc:ID", required=True),
    *_issued("report_date"),
    Field("currency", "cbc:DocumentCurrencyCode"),
    *_dates("period_start", "period_end", "cac:InventoryPeriod"),
    *_parties(
        ("cac:RetailerCustomerParty/cac:Party", "buyer"),
        ("cac:InventoryReportingParty", "reporting_location"),
        ("cac:SellerSupplierParty/cac:Party", "seller"),
    ),
    Each(
        "items",
        "cac:InventoryReportLine",
        (
            Field("line_number", "cbc:ID"),
            Each(
                "quantities",
                ".",
                (Const("qualifier", "Quantity"), _quantity("quantity", "cbc:Quantity")),
                when=(("kind", "on_hand"),),
                single=True,
            ),
            *_item("cac:Item/"),
        ),
        keep_unmapped=True,
    ),
)

_PRODUCT_ACTIVITY: tuple[xs.Rule, ...] = (
    Field("report_id", "cbc:ID"),
    Each("dates", ".", _issued("value"), when=(("kind", "processed"),), single=True),
    *_period("period_start", "period_end", "cac:ActivityPeriod"),
    *_parties(("cac:SenderParty", "sender"), ("cac:ReceiverParty", "receiver")),
    Each(
        "items",
        "cac:SupplyChainActivityDataLine",
        (
            Field("line_number", "cbc:ID"),
            *_parties(*_BUYER_SELLER),
            Each(
                "activities",
                ".",
                (Field("code_original", "cbc:SupplyChainActivityTypeCode"), _quantity("quantity", "cac:SalesItem/cbc:Quantity")),
                when=(("code", "other"),),
                single=True,
            ),
            *_item("cac:SalesItem/cac:Item/"),
        ),
        keep_unmapped=True,
    ),
)

_FORECAST: tuple[xs.Rule, ...] = (
    Field("schedule_number", "cbc:ID"),
    Field("issue_date", "cbc:IssueDate", "date"),
    Field("schedule_type_code", "cbc:ForecastPurposeCode"),
    *_period("horizon_start", "horizon_end", "cac:ForecastPeriod"),
    *_parties(("cac:SenderParty", "sender"), ("cac:ReceiverParty", "receiver"), *_BUYER_SELLER),
    Each(
        "items",
        "cac:ForecastLine",
        (
            Field("line_number", "cbc:ID"),
            Each(
                "forecasts",
                ".",
                (
                    Field("forecast_code", "cbc:ForecastTypeCode"),
                    *_period("start", "end", "cac:ForecastPeriod"),
                    _quantity("quantity", "cac:SalesItem/cbc:Quantity"),
                ),
                single=True,
            ),
            *_item("cac:SalesItem/cac:Item/"),
        ),
        keep_unmapped=True,
    ),
)


def _spec(root: str, document_type: str, rules: tuple[xs.Rule, ...]) -> XmlSpec:
    return XmlSpec(
        name=f"ubl/{root}/{document_type}",
        document_type=document_type,
        context=".",
        rules=rules,
        namespaces=MappingProxyType({"": f"{UBL_NAMESPACE_PREFIX}{root}-2", "cac": CAC, "cbc": CBC, "ext": EXT}),
        format="ubl",
        code_lists=_CODE_LISTS,
        blob_path="ext:UBLExtensions/ext:UBLExtension[cbc:ID='crossdock.extensions']/ext:ExtensionContent",
    )


#: UBL root element → spec; the explicit registry (no discovery)
UBL_SPECS: Mapping[str, XmlSpec] = MappingProxyType({
    "Order": _spec("Order", "purchase_order", _ORDER),
    "OrderChange": _spec("OrderChange", "order_change", _ORDER_CHANGE),
    "OrderResponse": _spec("OrderResponse", "order_response", _ORDER_RESPONSE),
    "DespatchAdvice": _spec("DespatchAdvice", "ship_notice", _DESPATCH),
    "Invoice": _spec("Invoice", "invoice", _INVOICE),
    "InventoryReport": _spec("InventoryReport", "inventory_report", _INVENTORY),
    "ProductActivity": _spec("ProductActivity", "product_activity", _PRODUCT_ACTIVITY),
    "Forecast": _spec("Forecast", "planning_schedule", _FORECAST),
})

_BY_DOCUMENT_TYPE: Mapping[str, tuple[str, XmlSpec]] = MappingProxyType(
    {spec.document_type: (root, spec) for root, spec in UBL_SPECS.items()}
)


#: what :func:`read_ubl` found: the UBL document name, the canonical document, the issues
UblResult = xs.ReadResult


def read_ubl(document: XmlDocument) -> UblResult:
    """UBL 2.x document → canonical document.

    Args:
        document: parsed by :func:`crossdock.adapters.xml.parse_xml`.

    Returns:
        The result; never raises for a bad document (issues say what is wrong).
    """
    root = document.root
    spec = UBL_SPECS.get(root.name)
    if spec is None or namespace_of(root.tag) != spec.namespaces[""]:
        return UblResult(root.name, None, [Issue("DOCUMENT_UNSUPPORTED", f"UBL {root.name} is not mapped", (root.name,))])
    tracker = xs.new_tracker()
    for child in root.children:
        # the version we write ourselves is not partner data; any other version is kept
        if child.tag == _VERSION_TAG and child.text == UBL_VERSION:
            tracker.mark(child)
    canonical, issues = xs.map_document(root, spec, tracker, DOCUMENT_TYPES[spec.document_type])
    return UblResult(root.name, canonical, issues)


def write_ubl(document: Any) -> tuple[XmlDocument | None, list[Issue]]:
    """Canonical document → UBL 2.1.

    Returns:
        The UBL document (``None`` with ``DOCUMENT_UNSUPPORTED`` when the type has no UBL
        counterpart) and the issues (``NOT_REPRESENTABLE`` warnings for data UBL cannot carry).
    """
    found = _BY_DOCUMENT_TYPE.get(document.document_type)
    if found is None:
        return None, [Issue("DOCUMENT_UNSUPPORTED", f"{document.document_type} has no UBL document", ("document_type",))]
    name, spec = found
    root = xs.Draft(f"{{{spec.namespaces['']}}}{name}")
    root.add(_VERSION_TAG).text = UBL_VERSION
    issues = xs.write_document(document.model_dump(mode="json", exclude_none=True), spec, root)
    # UBL puts its extensions first
    root.children.sort(key=lambda child: child.tag != _EXTENSIONS_TAG)
    nsmap = ((None, spec.namespaces[""]), ("cac", CAC), ("cbc", CBC), ("ext", EXT))
    return XmlDocument(root.freeze(), nsmap=nsmap), issues


def check_ubl_specs() -> None:
    """Check every UBL table against the canonical model (raises SpecInvalid)."""
    for spec in UBL_SPECS.values():
        xs.check_spec(spec, DOCUMENT_TYPES[spec.document_type])

