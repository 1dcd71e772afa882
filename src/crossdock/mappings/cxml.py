"""cXML ⇄ canonical: the envelope, and one rule table per message.

=========================  ==========================================  ==========================
cXML message               canonical document                          context
=========================  ==========================================  ==========================
OrderRequest type=new      PurchaseOrder                               Request/OrderRequest
OrderRequest update/delete OrderChange                                 Request/OrderRequest
ConfirmationRequest        OrderResponse                               Request/ConfirmationRequest
ShipNoticeRequest          ShipNotice                                  Request/ShipNoticeRequest
InvoiceDetailRequest       Invoice                                     Request/InvoiceDetailRequest
ProductActivityMessage     ProductActivity                             Message/ProductActivityMessage
=========================  ==========================================  ==========================

The envelope (payloadID, timestamp, From/To/Sender credentials, deploymentMode) is returned
beside the document as :class:`CxmlEnvelope`; the Sender credential is what the gateway
resolves the partner by. The ``SharedSecret`` is kept only there, as a ``SecretStr``, for the
gateway to check: it never reaches the canonical document, its extensions or a log.

Everything else no rule reads lands in ``extensions["cxml"]["unmapped"]`` (per line/party
when the item has ``extensions``), and is written back at the same path. Extensions from other
formats travel in ``<Extrinsic name="crossdock.extensions">`` (JSON) in the message header.

Known limits: an invoice covering several orders keeps its lines but writes them back under
one ``InvoiceDetailOrder`` (the other orders' references stay in ``extensions``); phone numbers
stay in ``extensions`` (their three-part cXML shape has no canonical home yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from crossdock.mappings import xmlspec as xs
from crossdock.mappings.xmlspec import Const, Each, Field, Group, XmlSpec
from crossdock.schemas.canonical import DOCUMENT_TYPES
from crossdock.schemas.errors import Issue
from crossdock.schemas.xmltree import XmlDocument, XmlNode

__all__ = [
    "CxmlCredential",
    "CxmlEnvelope",
    "CxmlResult",
    "CXML_SPECS",
    "CXML_DTD",
    "read_cxml",
    "write_cxml",
    "check_cxml_specs",
]

CXML_DTD = "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd"
_BLOB = "Extrinsic[@name='crossdock.extensions']"

_CODE_LISTS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "order_type": {"new": "original", "update": "change", "delete": "cancellation"},
    "operation": {"new": "original", "update": "replace", "delete": "cancellation"},
    "confirmation_type": {
        "accept": "accepted", "detail": "accepted_with_changes", "allDetail": "accepted_with_changes",
        "except": "accepted_with_exceptions", "backordered": "accepted_with_exceptions",
        "reject": "rejected", "replace": "other", "requestToPay": "other",
    },
    "confirmation_status": {
        "accept": "accepted", "detail": "accepted_with_changes", "backordered": "backordered",
        "reject": "rejected", "unknown": "other",
    },
    "id_domain": {"DUNS": "duns", "duns": "duns", "GLN": "gln", "*": "other"},
})

#: cXML Contact roles → canonical party roles (first code per role is the one written)
_CONTACT_ROLES: tuple[tuple[str, str], ...] = (
    ("buyer", "buyer"),
    ("endUser", "ordered_by"),
    ("supplierCorporate", "supplier"),
    ("sales", "seller"),
    ("shipFrom", "ship_from"),
    ("remitTo", "remit_to"),
    ("billTo", "bill_to"),
    ("soldTo", "sold_to"),
    ("locationFrom", "warehouse"),
    ("locationTo", "store"),
)

#: ProductActivityMessage Inventory children → activity codes
_INVENTORY_QUANTITIES: tuple[tuple[str, str], ...] = (
    ("StockOnHandQuantity", "on_hand"),
    ("StockInTransferQuantity", "in_transit"),
    ("BlockedQuantity", "on_hold"),
    ("RequiredMinimumQuantity", "minimum"),
    ("RequiredMaximumQuantity", "maximum"),
)


# --- building blocks ---------------------------------------------------------------------------


def _money(target: str, path: str) -> tuple[xs.Rule, ...]:
    return (Group(target, f"{path}/Money", (Field("amount", ".", "decimal"), Field("currency", "@currency")), key="amount"),)


def _email_contacts(path: str) -> Each:
    channel = Each("channels", ".", (Field("value", "."),), when=(("qualifier", "EM"),), single=True)
    return Each("contacts", path, (channel,))


def _address(prefix: str) -> tuple[xs.Rule, ...]:
    postal = f"{prefix}PostalAddress"
    return (
        Field("additional_names", f"{postal}/DeliverTo", many=True),
        Field("address.lines", f"{postal}/Street", many=True),
        Field("address.city", f"{postal}/City"),
        Field("address.region", f"{postal}/State"),
        Field("address.postal_code", f"{postal}/PostalCode"),
        Field("address.country", f"{postal}/Country/@isoCountryCode"),
    )


_ID_REFERENCES = Each(
    "identifiers",
    "IdReference",
    (Field("scheme", "@domain", "code:id_domain", direction="in"), Field("qualifier", "@domain"), Field("value", "@identifier")),
)

_ADDRESS_PARTY: tuple[xs.Rule, ...] = (
    Field("name", "Address/Name"),
    Field("address.location_id", "Address/@addressID"),
    *_address("Address/"),
    _email_contacts("Address/Email"),
)

_CONTACT_PARTY: tuple[xs.Rule, ...] = (
    Field("role_code", "@role", direction="in"),
    Field("name", "Name"),
    *_address(""),
    _email_contacts("Email"),
    _ID_REFERENCES,
)


def _contact_parties(path: str = "") -> tuple[Each, ...]:
    return tuple(
        Each("parties", f"{path}Contact[@role='{code}']", _CONTACT_PARTY, when=(("role", role),), keep_unmapped=True)
        for code, role in _CONTACT_ROLES
    )


def _item_ids(path: str) -> tuple[Each, ...]:
    def one(element: str, kind: str, qualifier: str | None = None) -> Each:
        when = (("kind", kind),) + ((("qualifier", qualifier),) if qualifier else ())
        return Each("item.ids", f"{path}{element}", (Field("value", "."),), when=when)

    return (
        one("SupplierPartID", "vendor_part"),
        one("BuyerPartID", "buyer_part"),
        one("SupplierPartAuxiliaryID", "other", "SupplierPartAuxiliaryID"),
    )


def _quantity(target: str, value_path: str, unit_path: str) -> tuple[Field, ...]:
    return (
        Field(f"{target}.value", value_path, "decimal"),
        Field(f"{target}.unit", unit_path),
        Field(f"{target}.unit_original", unit_path, direction="in"),
    )


def _date(kind: str, path: str, attribute: str) -> Each:
    return Each("dates", path, (Field("value", f"@{attribute}", "datetime"),), when=(("kind", kind),), single=True)


_NOTES = Each("notes", "Comments", (Field("text", "."),))

_ORDER_LINE: tuple[xs.Rule, ...] = (
    Field("line_number", "@lineNumber"),
    *_quantity("quantity", "@quantity", "ItemDetail/UnitOfMeasure"),
    *_money("unit_price", "ItemDetail/UnitPrice"),
    *_item_ids("ItemID/"),
    Each("item.ids", "ItemDetail/ManufacturerPartID", (Field("value", "."),), when=(("kind", "manufacturer_part"),)),
    Each("descriptions", "ItemDetail/Description", (Field("text", "."), Field("language", "@xml:lang"))),
    _date("requested_delivery", ".", "requestedDeliveryDate"),
    _NOTES,
)

_ORDER_HEADER: tuple[xs.Rule, ...] = (
    Field("po_number", "OrderRequestHeader/@orderID", required=True),
    Field("order_date", "OrderRequestHeader/@orderDate", "datetime"),
    Field("purpose", "OrderRequestHeader/@type", "code:order_type"),
    Field("purpose_code", "OrderRequestHeader/@type", direction="in"),
    *_money("total_amount", "OrderRequestHeader/Total"),
    _date("requested_delivery", "OrderRequestHeader", "requestedDeliveryDate"),
    Each("parties", "OrderRequestHeader/ShipTo", (Const("role_code", "ShipTo"), *_ADDRESS_PARTY), when=(("role", "ship_to"),), keep_unmapped=True),
    Each("parties", "OrderRequestHeader/BillTo", (Const("role_code", "BillTo"), *_ADDRESS_PARTY), when=(("role", "bill_to"),), keep_unmapped=True),
    *_contact_parties("OrderRequestHeader/"),
    Each("notes", "OrderRequestHeader/Comments", (Field("text", "."),)),
)

_PURCHASE_ORDER = (*_ORDER_HEADER, Each("lines", "ItemOut", _ORDER_LINE, keep_unmapped=True))
_ORDER_CHANGE = (
    *_ORDER_HEADER,
    Field("change_sequence", "OrderRequestHeader/@orderVersion"),
    Each("lines", "ItemOut", _ORDER_LINE, keep_unmapped=True),
)

_CONFIRMATION: tuple[xs.Rule, ...] = (
    Field("po_number", "OrderReference/@orderID", required=True),
    Field("po_date", "OrderReference/@orderDate", "datetime"),
    Field("seller_order_number", "ConfirmationHeader/@confirmID"),
    Field("ack_date", "ConfirmationHeader/@noticeDate", "datetime"),
    Field("ack_type", "ConfirmationHeader/@type", "code:confirmation_type"),
    Field("ack_type_code", "ConfirmationHeader/@type", direction="in"),
    Field("purpose", "ConfirmationHeader/@operation", "code:operation"),
    Field("purpose_code", "ConfirmationHeader/@operation", direction="in"),
    *_money("total_amount", "ConfirmationHeader/Total"),
    *_contact_parties("ConfirmationHeader/"),
    Each("notes", "ConfirmationHeader/Comments", (Field("text", "."),)),
    Each(
        "lines",
        "ConfirmationItem",
        (
            Field("line_number", "@lineNumber"),
            *_quantity("quantity", "@quantity", "UnitOfMeasure"),
            Each(
                "acks",
                "ConfirmationStatus",
                (
                    Field("status", "@type", "code:confirmation_status"),
                    Field("status_code", "@type", direction="in"),
                    *_quantity("quantity", "@quantity", "UnitOfMeasure"),
                    Field("date", "@deliveryDate", "date"),
                    *_item_ids("ItemIn/ItemID/"),
                ),
            ),
        ),
        keep_unmapped=True,
    ),
)

_SHIP_ITEM: tuple[xs.Rule, ...] = (
    Field("line_number", "@lineNumber"),
    *_quantity("quantity_shipped", "@quantity", "UnitOfMeasure"),
    *_item_ids("ItemID/"),
)

_SHIP_NOTICE: tuple[xs.Rule, ...] = (
    Field("asn_number", "ShipNoticeHeader/@shipmentID", required=True),
    Field("asn_date", "ShipNoticeHeader/@noticeDate", "datetime"),
    Field("purpose", "ShipNoticeHeader/@operation", "code:operation"),
    Field("purpose_code", "ShipNoticeHeader/@operation", direction="in"),
    _date("shipped", "ShipNoticeHeader", "shipmentDate"),
    _date("estimated_delivery", "ShipNoticeHeader", "deliveryDate"),
    Each(
        "shipment.carriers",
        "ShipControl",
        (Field("carrier_id", "CarrierIdentifier[@domain='SCAC']"), Field("routing", "CarrierIdentifier[@domain='companyName']")),
        when=(("id_qualifier", "2"),),
        single=True,
    ),
    Each("shipment.references", "ShipControl/ShipmentIdentifier", (Field("value", "."),), when=(("kind", "tracking"),)),
    Each(
        "shipment.orders",
        "ShipNoticePortion",
        (
            Field("po_number", "OrderReference/@orderID"),
            Field("po_date", "OrderReference/@orderDate", "date"),
            Each("items", "ShipNoticeItem", _SHIP_ITEM, keep_unmapped=True),
        ),
        keep_unmapped=True,
    ),
)

_INVOICE_LINE: tuple[xs.Rule, ...] = (
    Field("line_number", "@invoiceLineNumber"),
    *_quantity("quantity", "@quantity", "UnitOfMeasure"),
    *_money("unit_price", "UnitPrice"),
    *_item_ids("InvoiceDetailItemReference/ItemID/"),
    Each("descriptions", "InvoiceDetailItemReference/Description", (Field("text", "."), Field("language", "@xml:lang"))),
    Each(
        "taxes",
        "Tax/TaxDetail",
        (
            Field("tax_type", "@category"),
            Field("percent", "@percentageRate", "decimal"),
            *_money("amount", "TaxAmount"),
            Field("jurisdiction", "TaxLocation"),
        ),
    ),
)

_INVOICE: tuple[xs.Rule, ...] = (
    Field("invoice_number", "InvoiceDetailRequestHeader/@invoiceID", required=True),
    Field("invoice_date", "InvoiceDetailRequestHeader/@invoiceDate", "datetime"),
    Field("purpose", "InvoiceDetailRequestHeader/@operation", "code:operation"),
    Field("purpose_code", "InvoiceDetailRequestHeader/@operation", direction="in"),
    Field("transaction_type_code", "InvoiceDetailRequestHeader/@purpose"),
    Each(
        "payment_terms",
        "InvoiceDetailRequestHeader/PaymentTerm",
        (Field("net_days", "@payInNumberOfDays", "int"), Field("discount_percent", "Discount/DiscountPercent/@percent", "decimal")),
    ),
    *_contact_parties("InvoiceDetailRequestHeader/InvoicePartner/"),
    Field("po_number", "InvoiceDetailOrder/InvoiceDetailOrderInfo/OrderReference/@orderID"),
    Field("po_date", "InvoiceDetailOrder/InvoiceDetailOrderInfo/OrderReference/@orderDate", "datetime"),
    Each("lines", "InvoiceDetailOrder/InvoiceDetailItem", _INVOICE_LINE, keep_unmapped=True),
    *_money("total_amount", "InvoiceDetailSummary/NetAmount"),
    Each("taxes", "InvoiceDetailSummary/Tax", _money("amount", ".")),
    Each(
        "charges",
        "InvoiceDetailSummary/ShippingAmount",
        _money("amount", "."),
        when=(("indicator", "charge"), ("code", "G830")),
    ),
)

_PRODUCT_ACTIVITY: tuple[xs.Rule, ...] = (
    Field("report_id", "ProductActivityHeader/@messageID"),
    Field("report_type_code", "ProductActivityHeader/@processType"),
    _date("processed", "ProductActivityHeader", "creationDate"),
    Each(
        "items",
        "ProductActivityDetails",
        (
            *_item_ids("ItemID/"),
            *_contact_parties(),
            *(
                Each(
                    "activities",
                    f"Inventory/{element}",
                    (Const("code_original", element), *_quantity("quantity", "@quantity", "UnitOfMeasure")),
                    when=(("code", code),),
                )
                for element, code in _INVENTORY_QUANTITIES
            ),
        ),
        keep_unmapped=True,
    ),
)


def _spec(name: str, document_type: str, context: str, rules: tuple[xs.Rule, ...], header: str) -> XmlSpec:
    return XmlSpec(
        name=f"cxml/{name}/{document_type}",
        document_type=document_type,
        context=context,
        rules=rules,
        format="cxml",
        code_lists=_CODE_LISTS,
        blob_path=f"{header}/{_BLOB}",
    )


#: (message element, document type) → spec; the explicit registry (no discovery)
CXML_SPECS: Mapping[tuple[str, str], XmlSpec] = MappingProxyType({
    ("OrderRequest", "purchase_order"): _spec("OrderRequest", "purchase_order", "Request/OrderRequest", _PURCHASE_ORDER, "OrderRequestHeader"),
    ("OrderRequest", "order_change"): _spec("OrderRequest", "order_change", "Request/OrderRequest", _ORDER_CHANGE, "OrderRequestHeader"),
    ("ConfirmationRequest", "order_response"): _spec(
        "ConfirmationRequest", "order_response", "Request/ConfirmationRequest", _CONFIRMATION, "ConfirmationHeader"
    ),
    ("ShipNoticeRequest", "ship_notice"): _spec("ShipNoticeRequest", "ship_notice", "Request/ShipNoticeRequest", _SHIP_NOTICE, "ShipNoticeHeader"),
    ("InvoiceDetailRequest", "invoice"): _spec(
        "InvoiceDetailRequest", "invoice", "Request/InvoiceDetailRequest", _INVOICE, "InvoiceDetailRequestHeader"
    ),
    ("ProductActivityMessage", "product_activity"): _spec(
        "ProductActivityMessage", "product_activity", "Message/ProductActivityMessage", _PRODUCT_ACTIVITY, "ProductActivityHeader"
    ),
})

_BY_DOCUMENT_TYPE: Mapping[str, XmlSpec] = MappingProxyType({key[1]: spec for key, spec in CXML_SPECS.items()})


# --- envelope ----------------------------------------------------------------------------------


class CxmlCredential(BaseModel):
    """One ``<Credential domain=…><Identity>…</Identity></Credential>``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: str
    identity: str


class CxmlEnvelope(BaseModel):
    """The cXML envelope: who sent it, to whom, when, and the payload id.

    Attributes:
        sender: the ``Header/Sender`` credentials; the gateway resolves the partner by these.
        shared_secret: ``Header/Sender/Credential/SharedSecret``, for the gateway to verify;
            never copied into a canonical document or a log.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    payload_id: str
    timestamp: str
    version: str | None = None
    lang: str | None = None
    from_: tuple[CxmlCredential, ...] = ()
    to: tuple[CxmlCredential, ...] = ()
    sender: tuple[CxmlCredential, ...] = ()
    shared_secret: SecretStr | None = None
    user_agent: str | None = None
    deployment_mode: str | None = None

    @property
    def sender_credential(self) -> CxmlCredential | None:
        """The first Sender credential (the partner identity), if any."""
        return self.sender[0] if self.sender else None


def _credentials(target: str, path: str) -> Each:
    return Each(target, f"Header/{path}/Credential", (Field("domain", "@domain"), Field("identity", "Identity")))


_ENVELOPE = XmlSpec(
    name="cxml/envelope",
    document_type="",
    context=".",
    rules=(
        Field("payload_id", "@payloadID"),
        Field("timestamp", "@timestamp"),
        Field("version", "@version"),
        Field("lang", "@xml:lang"),
        _credentials("from_", "From"),
        _credentials("to", "To"),
        _credentials("sender", "Sender"),
        Field("shared_secret", "Header/Sender/Credential/SharedSecret"),
        Field("user_agent", "Header/Sender/UserAgent"),
        Field("deployment_mode", "Request/@deploymentMode"),
    ),
    format="cxml",
)


# --- reading and writing -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CxmlResult:
    """What :func:`read_cxml` found.

    Attributes:
        message: the message element name (``"OrderRequest"``), ``""`` when none.
        envelope: the envelope, or ``None`` when it lacks payloadID/timestamp.
        document: the canonical document, or ``None`` when the message is unsupported or
            invalid (then ``issues`` says why).
        issues: every problem found, as data.
    """

    message: str
    envelope: CxmlEnvelope | None
    document: Any
    issues: list[Issue]


def read_cxml(document: XmlDocument) -> CxmlResult:
    """cXML document → envelope + canonical document.

    Args:
        document: parsed by :func:`crossdock.adapters.xml.parse_xml`.

    Returns:
        The result; never raises for a bad document (issues say what is wrong).
    """
    root = document.root
    if root.name != "cXML":
        return CxmlResult("", None, None, [Issue("DOCUMENT_UNSUPPORTED", f"root is {root.name}, not cXML")])
    tracker = xs.new_tracker()
    envelope, issues = _read_envelope(root, tracker)
    message = _message(root)
    spec = _pick_spec(message)
    if spec is None:
        name = message.name if message else ""
        issues.append(Issue("DOCUMENT_UNSUPPORTED", f"cXML message {name or '(none)'} is not mapped", ("cXML", name)))
        return CxmlResult(name, envelope, None, issues)
    canonical, doc_issues = xs.map_document(root, spec, tracker, DOCUMENT_TYPES[spec.document_type])
    return CxmlResult(message.name, envelope, canonical, issues + doc_issues)


def write_cxml(document: Any, envelope: CxmlEnvelope) -> tuple[XmlDocument, list[Issue]]:
    """Canonical document → cXML.

    Args:
        document: a canonical document of a type listed in the module docstring.
        envelope: payload id, timestamp and credentials to write (the caller allocates the
            payload id and reads the clock; the shared secret is written when given).

    Returns:
        The cXML document (with the cXML DOCTYPE) and the issues (``DOCUMENT_UNSUPPORTED`` when
        the type has no cXML message; ``NOT_REPRESENTABLE`` warnings for data cXML cannot carry).
    """
    spec = _BY_DOCUMENT_TYPE.get(document.document_type)
    root = xs.Draft("cXML")
    issues = _write_envelope(root, envelope, spec)
    if spec is None:
        issues.append(Issue("DOCUMENT_UNSUPPORTED", f"{document.document_type} has no cXML message", ("document_type",)))
        return XmlDocument(root.freeze(), CXML_DTD), issues
    issues.extend(xs.write_document(document.model_dump(mode="json", exclude_none=True), spec, root))
    return XmlDocument(root.freeze(), CXML_DTD), issues


def check_cxml_specs() -> None:
    """Check every cXML table against the canonical model (raises SpecInvalid)."""
    for spec in CXML_SPECS.values():
        xs.check_spec(spec, DOCUMENT_TYPES[spec.document_type])
    xs.check_spec(_ENVELOPE, CxmlEnvelope)


def _message(root: XmlNode) -> XmlNode | None:
    for wrapper in root.children:
        if wrapper.name in ("Request", "Message") and wrapper.children:
            return wrapper.children[0]
    return None


def _pick_spec(message: XmlNode | None) -> XmlSpec | None:
    if message is None:
        return None
    if message.name == "OrderRequest":
        header = next((c for c in message.children if c.name == "OrderRequestHeader"), None)
        kind = header.get("type", "new") if header else "new"
        return CXML_SPECS[("OrderRequest", "order_change" if kind in ("update", "delete") else "purchase_order")]
    return next((spec for (name, _), spec in CXML_SPECS.items() if name == message.name), None)


def _read_envelope(root: XmlNode, tracker: Any) -> tuple[CxmlEnvelope | None, list[Issue]]:
    data, issues = xs.read(root, _ENVELOPE, tracker)
    envelope, validation = xs.validate(data, CxmlEnvelope, code="ENVELOPE_INVALID")
    return envelope, issues + validation


def _write_envelope(root: xs.Draft, envelope: CxmlEnvelope, spec: XmlSpec | None) -> list[Issue]:
    data = envelope.model_dump(mode="json", exclude_none=True)
    if envelope.shared_secret is not None:
        data["shared_secret"] = envelope.shared_secret.get_secret_value()
    # Request/Message must exist before the message; deploymentMode only applies to Request
    wrapper = spec.context.split("/")[0] if spec else "Request"
    issues = xs.write(data, _ENVELOPE, root) if wrapper == "Request" else xs.write(
        {k: v for k, v in data.items() if k != "deployment_mode"}, _ENVELOPE, root
    )
    if not any(child.tag == wrapper for child in root.children):
        root.add(wrapper)
    return issues
