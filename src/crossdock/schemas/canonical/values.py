"""Value types shared by the canonical documents: parties, items, quantities, money, dates, references.

Coded values keep two fields: a typed enum (what the hub reasons with) and the original code as
the partner sent it (``role`` + ``role_code``), so an outbound mapping to the same standard can
write the exact code back and nothing a partner sends is lost.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from crossdock.schemas.canonical.base import CanonicalModel, Extensions, NonEmptyStr
from crossdock.schemas.canonical.gtin import gtin_format_ok

__all__ = [
    "Purpose", "PartyRole", "IdScheme", "ItemIdKind", "DateKind", "ReferenceKind", "ChargeIndicator",
    "DateTimeValue", "DateReference", "Reference", "PartyIdentifier", "Address", "ContactChannel",
    "Contact", "Party", "ItemId", "ItemIdentifiers", "Quantity", "Money", "Description", "Note",
    "Charge", "PaymentTerms", "FobTerms", "CarrierRouting", "Lading", "Equipment", "PriceDetail",
    "Packaging", "LocationQuantity", "Mark", "TimePrecision",
]

TimePrecision = Literal["minute", "second", "hundredth"]


class Purpose(StrEnum):
    """Why a document was sent (X12 element 353)."""

    ORIGINAL = "original"
    CANCELLATION = "cancellation"
    ADD = "add"
    DELETE = "delete"
    CHANGE = "change"
    REPLACE = "replace"
    CONFIRMATION = "confirmation"
    DUPLICATE = "duplicate"
    STATUS = "status"
    RESPONSE = "response"
    REQUEST = "request"
    OTHER = "other"


class PartyRole(StrEnum):
    """Role a party plays in a document (X12 element 98, cXML/UBL party roles)."""

    BUYER = "buyer"
    SELLER = "seller"
    SUPPLIER = "supplier"
    SHIP_TO = "ship_to"
    SHIP_FROM = "ship_from"
    BILL_TO = "bill_to"
    SOLD_TO = "sold_to"
    REMIT_TO = "remit_to"
    PAYER = "payer"
    MANUFACTURER = "manufacturer"
    ORDERED_BY = "ordered_by"
    CARRIER = "carrier"
    CONSIGNEE = "consignee"
    WAREHOUSE = "warehouse"
    STORE = "store"
    REPORTING_LOCATION = "reporting_location"
    DISTRIBUTOR = "distributor"
    SENDER = "sender"
    RECEIVER = "receiver"
    OTHER = "other"


class IdScheme(StrEnum):
    """What kind of identifier a party id is (X12 element 66)."""

    DUNS = "duns"
    DUNS_PLUS4 = "duns_plus4"
    GLN = "gln"
    ASSIGNED_BY_BUYER = "assigned_by_buyer"
    ASSIGNED_BY_SELLER = "assigned_by_seller"
    MUTUALLY_DEFINED = "mutually_defined"
    SCAC = "scac"
    OTHER = "other"


class ItemIdKind(StrEnum):
    """What kind of product identifier an item id is (X12 element 235)."""

    BUYER_PART = "buyer_part"
    VENDOR_PART = "vendor_part"
    MANUFACTURER_PART = "manufacturer_part"
    BUYER_ITEM = "buyer_item"
    VENDOR_ITEM = "vendor_item"
    GTIN = "gtin"
    UPC_SHORT = "upc_short"
    SKU = "sku"
    BUYER_STYLE = "buyer_style"
    VENDOR_STYLE = "vendor_style"
    BUYER_CATALOG = "buyer_catalog"
    VENDOR_CATALOG = "vendor_catalog"
    COLOR = "color"
    SIZE = "size"
    NDC = "ndc"
    SERIAL = "serial"
    LOT = "lot"
    OTHER = "other"


class DateKind(StrEnum):
    """What a date means (X12 element 374)."""

    ORDER = "order"
    REQUESTED_DELIVERY = "requested_delivery"
    REQUESTED_SHIP = "requested_ship"
    SHIP_NOT_BEFORE = "ship_not_before"
    SHIP_NO_LATER = "ship_no_later"
    DELIVER_NOT_BEFORE = "deliver_not_before"
    DELIVER_NO_LATER = "deliver_no_later"
    CANCEL_AFTER = "cancel_after"
    PROMISED_DELIVERY = "promised_delivery"
    SCHEDULED_SHIP = "scheduled_ship"
    SCHEDULED_DELIVERY = "scheduled_delivery"
    SHIPPED = "shipped"
    ESTIMATED_DELIVERY = "estimated_delivery"
    DELIVERED = "delivered"
    RECEIVED = "received"
    INVOICE = "invoice"
    EFFECTIVE = "effective"
    EXPIRATION = "expiration"
    PROCESSED = "processed"
    PERIOD_START = "period_start"
    PERIOD_END = "period_end"
    OTHER = "other"


class ReferenceKind(StrEnum):
    """What a reference number identifies (X12 element 128)."""

    PURCHASE_ORDER = "purchase_order"
    VENDOR_ORDER = "vendor_order"
    INVOICE = "invoice"
    SHIPMENT = "shipment"
    BILL_OF_LADING = "bill_of_lading"
    CARRIER_PRO = "carrier_pro"
    TRACKING = "tracking"
    PACKING_LIST = "packing_list"
    DEPARTMENT = "department"
    INTERNAL_VENDOR = "internal_vendor"
    CONTRACT = "contract"
    CUSTOMER_REFERENCE = "customer_reference"
    PROMOTION = "promotion"
    MUTUALLY_DEFINED = "mutually_defined"
    OTHER = "other"


class ChargeIndicator(StrEnum):
    """Allowance, charge or neither (X12 element 248)."""

    ALLOWANCE = "allowance"
    CHARGE = "charge"
    NO_CHARGE = "no_charge"
    PROMOTION = "promotion"
    OTHER = "other"


class DateTimeValue(CanonicalModel):
    """A date and/or time with the precision it was sent in.

    Attributes:
        date: calendar date, when sent.
        time: time of day, when sent.
        time_precision: ``minute`` (HHMM), ``second`` (HHMMSS) or ``hundredth`` (HHMMSSdd).
        time_code: time zone or time code as sent (X12 element 623, e.g. ``ET``, ``UT``), or an
            ISO offset such as ``+02:00``.
    """

    date: dt.date | None = None
    time: dt.time | None = None
    time_precision: TimePrecision | None = None
    time_code: str | None = None

    @model_validator(mode="after")
    def _time_has_precision(self) -> DateTimeValue:
        if self.time is not None and self.time_precision is None:
            raise ValueError("time_precision is required when time is set")
        if self.time is None and self.time_precision is not None:
            raise ValueError("time_precision without time")
        return self


class DateReference(CanonicalModel):
    """A qualified date: what it means (typed and as sent) and its value."""

    kind: DateKind
    qualifier: str | None = None
    #: ``None`` when the partner sent only a period in another format (kept in extensions)
    value: DateTimeValue | None = None


class Reference(CanonicalModel):
    """A qualified reference number (PO number, bill of lading, tracking number, ...)."""

    kind: ReferenceKind
    qualifier: str | None = None
    value: str
    description: str | None = None


class PartyIdentifier(CanonicalModel):
    """One identifier of a party with its scheme (typed) and qualifier (as sent)."""

    scheme: IdScheme
    qualifier: str | None = None
    value: NonEmptyStr


class Address(CanonicalModel):
    """A postal address; ``lines`` are street lines in order."""

    lines: tuple[str, ...] = ()
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    location_qualifier: str | None = None
    location_id: str | None = None


class ContactChannel(CanonicalModel):
    """One way to reach a contact: qualifier (``TE``, ``EM``, ``FX``, ...) and number/address."""

    qualifier: str
    value: str


class Contact(CanonicalModel):
    """A contact person or department (X12 PER)."""

    function_code: str | None = None
    name: str | None = None
    channels: tuple[ContactChannel, ...] = ()

    def _channel(self, *qualifiers: str) -> str | None:
        return next((c.value for c in self.channels if c.qualifier in qualifiers), None)

    @property
    def phone(self) -> str | None:
        return self._channel("TE", "phone")

    @property
    def email(self) -> str | None:
        return self._channel("EM", "email")

    @property
    def fax(self) -> str | None:
        return self._channel("FX", "fax")


class Party(CanonicalModel):
    """A business party in a role: buyer, seller, ship-to, bill-to, ..."""

    role: PartyRole
    role_code: str | None = None
    name: str | None = None
    additional_names: tuple[str, ...] = ()
    identifiers: tuple[PartyIdentifier, ...] = ()
    address: Address | None = None
    contacts: tuple[Contact, ...] = ()
    references: tuple[Reference, ...] = ()
    extensions: Extensions = Field(default_factory=dict)


class ItemId(CanonicalModel):
    """One product identifier: kind (typed), qualifier as sent and value.

    A ``gtin`` must be 8, 12, 13 or 14 digits; the check digit is verified by mappings, which
    report ``GTIN_CHECK_DIGIT`` instead of rejecting the document.
    """

    kind: ItemIdKind
    qualifier: str | None = None
    value: NonEmptyStr

    @model_validator(mode="after")
    def _gtin_format(self) -> ItemId:
        if self.kind is ItemIdKind.GTIN and not gtin_format_ok(self.value):
            raise ValueError("a gtin must be 8, 12, 13 or 14 digits")
        return self


class ItemIdentifiers(CanonicalModel):
    """All identifiers of one item, in the order the partner sent them."""

    ids: tuple[ItemId, ...] = ()

    def first(self, kind: ItemIdKind) -> str | None:
        """The first identifier of ``kind``, or ``None``."""
        return next((i.value for i in self.ids if i.kind == kind), None)

    @property
    def buyer_part(self) -> str | None:
        return self.first(ItemIdKind.BUYER_PART)

    @property
    def vendor_part(self) -> str | None:
        return self.first(ItemIdKind.VENDOR_PART)

    @property
    def gtin(self) -> str | None:
        return self.first(ItemIdKind.GTIN)

    @property
    def sku(self) -> str | None:
        return self.first(ItemIdKind.SKU)


class Quantity(CanonicalModel):
    """A quantity in a canonical unit, keeping the unit code the partner sent."""

    value: Decimal
    unit: str | None = None
    unit_original: str | None = None


class Money(CanonicalModel):
    """An amount, with its ISO 4217 currency when the document says it at that level."""

    amount: Decimal
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class Description(CanonicalModel):
    """An item description (X12 PID): free-form text or a coded characteristic."""

    type_code: str | None = None
    characteristic: str | None = None
    agency: str | None = None
    code: str | None = None
    text: str | None = None
    language: str | None = None


class Note(CanonicalModel):
    """Free text with an optional reference code (X12 NTE/MSG, cXML Comments)."""

    code: str | None = None
    text: str


class Charge(CanonicalModel):
    """An allowance or charge (X12 SAC): what, how much, how computed."""

    indicator: ChargeIndicator
    indicator_code: str | None = None
    code: str | None = None
    agency_qualifier: str | None = None
    agency_code: str | None = None
    amount: Money | None = None
    percent_qualifier: str | None = None
    percent: Decimal | None = None
    rate: Decimal | None = None
    quantity: Quantity | None = None
    handling_code: str | None = None
    reference: str | None = None
    description: str | None = None


class PaymentTerms(CanonicalModel):
    """Terms of sale (X12 ITD)."""

    type_code: str | None = None
    basis_date_code: str | None = None
    discount_percent: Decimal | None = None
    discount_due_date: dt.date | None = None
    discount_days: int | None = None
    net_due_date: dt.date | None = None
    net_days: int | None = None
    discount_amount: Money | None = None
    description: str | None = None
    day_of_month: int | None = None


class FobTerms(CanonicalModel):
    """Shipping payment terms (X12 FOB)."""

    payment_method: str | None = None
    location_qualifier: str | None = None
    location: str | None = None
    terms_qualifier: str | None = None
    terms_code: str | None = None


class CarrierRouting(CanonicalModel):
    """Carrier and routing (X12 TD5): SCAC when ``id_qualifier`` is ``2``."""

    routing_sequence: str | None = None
    id_qualifier: str | None = None
    carrier_id: str | None = None
    transport_method: str | None = None
    routing: str | None = None
    service_level: str | None = None


class Lading(CanonicalModel):
    """Packaging and weight of a shipment or container (X12 TD1)."""

    packaging_code: str | None = None
    lading_quantity: Decimal | None = None
    commodity_code: str | None = None
    weight_qualifier: str | None = None
    weight: Quantity | None = None
    volume: Quantity | None = None


class Equipment(CanonicalModel):
    """Transport equipment (X12 TD3): trailer or container."""

    equipment_code: str | None = None
    initial: str | None = None
    number: str | None = None
    seal_number: str | None = None


class PriceDetail(CanonicalModel):
    """A qualified price (X12 CTP): retail, contract, list ..."""

    class_of_trade: str | None = None
    qualifier: str | None = None
    price: Decimal | None = None
    quantity: Quantity | None = None
    multiplier_qualifier: str | None = None
    multiplier: Decimal | None = None


class Packaging(CanonicalModel):
    """Item physical details (X12 PO4): inner pack, size, packaging code, weight."""

    pack: Decimal | None = None
    size: Quantity | None = None
    packaging_code: str | None = None
    weight_qualifier: str | None = None
    gross_weight: Quantity | None = None
    inner_pack: Decimal | None = None


class LocationQuantity(CanonicalModel):
    """A quantity for one location (X12 SDQ pairs): store or DC id with its qualifier."""

    location_qualifier: str | None = None
    location: str
    quantity: Quantity


class Mark(CanonicalModel):
    """A marks-and-numbers label on a container (X12 MAN): e.g. ``GM`` + SSCC-18."""

    qualifier: str | None = None
    value: str
    value_to: str | None = None
