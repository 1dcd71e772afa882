"""The canonical documents: one model per business document, whatever the wire format.

Every document carries ``document_type`` (the discriminator of :data:`CanonicalDocument`),
``schema_version``, ``extensions`` (partner data with no canonical home) and the property
``business_keys`` (the numbers the gateway links documents by: PO, ASN, invoice, BOL ...).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Literal, Union

from pydantic import Field

from crossdock.schemas.canonical.base import SCHEMA_VERSION, CanonicalModel, Extensions
from crossdock.schemas.canonical.values import (
    CarrierRouting,
    Charge,
    Contact,
    DateReference,
    DateTimeValue,
    Description,
    Equipment,
    FobTerms,
    ItemIdentifiers,
    Lading,
    LocationQuantity,
    Mark,
    Money,
    Note,
    Packaging,
    Party,
    PaymentTerms,
    PriceDetail,
    Purpose,
    Quantity,
    Reference,
    ReferenceKind,
)

__all__ = [
    "AckType", "LineAckStatus", "ChangeType", "ActivityCode", "InventoryQuantityKind", "ForecastType",
    "OrderLine", "PurchaseOrder", "ChangeLine", "OrderChange", "LineAck", "ResponseLine",
    "OrderResponse", "ShipItem", "Pack", "Tare", "ShipOrder", "Shipment", "ShipNotice",
    "InvoiceLine", "TaxDetail", "Invoice", "InventoryQuantity", "InventoryItem", "InventoryReport",
    "Activity", "ActivityItem", "ActivityLocation", "ProductActivity", "ForecastBucket",
    "ScheduleItem", "PlanningSchedule", "ElementError", "SegmentError", "SetAck", "FunctionalAck",
    "InterchangeAck", "CanonicalDocument", "DOCUMENT_TYPES",
]

#: the Literal must name the same value as SCHEMA_VERSION (a test checks it)
SchemaVersion = Literal["1.0"]


def _ref_values(references: tuple[Reference, ...], kind: ReferenceKind) -> tuple[str, ...]:
    return tuple(r.value for r in references if r.kind == kind)


def _keys(**values: object) -> dict[str, str | tuple[str, ...]]:
    return {k: v for k, v in values.items() if v not in (None, "", ())}  # type: ignore[misc]


class _Document(CanonicalModel):
    schema_version: SchemaVersion = SCHEMA_VERSION
    extensions: Extensions = Field(default_factory=dict)


# --- orders: 850 / 860 / 855 -------------------------------------------------------------------


class AckType(StrEnum):
    """Overall answer to an order (X12 element 587)."""

    ACCEPTED = "accepted"
    ACCEPTED_WITH_CHANGES = "accepted_with_changes"
    ACCEPTED_WITH_EXCEPTIONS = "accepted_with_exceptions"
    REJECTED = "rejected"
    ON_HOLD = "on_hold"
    OTHER = "other"


class LineAckStatus(StrEnum):
    """Answer for one order line (X12 element 668)."""

    ACCEPTED = "accepted"
    ACCEPTED_WITH_CHANGES = "accepted_with_changes"
    PRICE_CHANGED = "price_changed"
    QUANTITY_CHANGED = "quantity_changed"
    BACKORDERED = "backordered"
    RESCHEDULED = "rescheduled"
    SUBSTITUTED = "substituted"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    DELETED = "deleted"
    OTHER = "other"


class ChangeType(StrEnum):
    """What an order change does to a line (X12 element 670)."""

    ADD = "add"
    DELETE = "delete"
    CHANGE = "change"
    PRICE_CHANGE = "price_change"
    QUANTITY_INCREASE = "quantity_increase"
    QUANTITY_DECREASE = "quantity_decrease"
    RESCHEDULE = "reschedule"
    REPLACE = "replace"
    OTHER = "other"


class _LineCommon(CanonicalModel):
    line_number: str | None = None
    item: ItemIdentifiers = ItemIdentifiers()
    descriptions: tuple[Description, ...] = ()
    prices: tuple[PriceDetail, ...] = ()
    packaging: Packaging | None = None
    charges: tuple[Charge, ...] = ()
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    notes: tuple[Note, ...] = ()
    destinations: tuple[LocationQuantity, ...] = ()
    extensions: Extensions = Field(default_factory=dict)


class OrderLine(_LineCommon):
    """One ordered item (X12 PO1 loop)."""

    quantity: Quantity | None = None
    unit_price: Money | None = None
    price_basis: str | None = None


class _OrderHeader(_Document):
    purpose: Purpose | None = None
    purpose_code: str | None = None
    order_type_code: str | None = None
    po_number: str
    release_number: str | None = None
    order_date: DateTimeValue | None = None
    contract_number: str | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    contacts: tuple[Contact, ...] = ()
    payment_terms: tuple[PaymentTerms, ...] = ()
    fob: tuple[FobTerms, ...] = ()
    carriers: tuple[CarrierRouting, ...] = ()
    charges: tuple[Charge, ...] = ()
    notes: tuple[Note, ...] = ()
    line_count: int | None = None
    hash_total: Decimal | None = None
    total_amount: Money | None = None


class PurchaseOrder(_OrderHeader):
    """A purchase order (X12 850, cXML OrderRequest new, UBL Order)."""

    document_type: Literal["purchase_order"] = "purchase_order"
    lines: tuple[OrderLine, ...] = ()

    @property
    def business_keys(self) -> dict[str, str | tuple[str, ...]]:
        return _keys(po_number=self.po_number, release_number=self.release_number)


class ChangeLine(_LineCommon):
    """One changed line of an order change (X12 POC loop)."""

    change: ChangeType | None = None
    change_code: str | None = None
    quantity: Quantity | None = None
    quantity_left: Decimal | None = None
    unit_price: Money | None = None
    price_basis: str | None = None


class OrderChange(_OrderHeader):
    """A change to a purchase order (X12 860, cXML OrderRequest update/delete, UBL OrderChange)."""

    document_type: Literal["order_change"] = "order_change"
    change_sequence: str | None = None
    change_date: DateTimeValue | None = None
    lines: tuple[ChangeLine, ...] = ()

    @property
    def business_keys(self) -> dict[str, str | tuple[str, ...]]:
        return _keys(po_number=self.po_number, change_sequence=self.change_sequence)


class LineAck(CanonicalModel):
    """The seller's answer for (part of) a line (X12 ACK)."""

    status: LineAckStatus | None = None
    status_code: str | None = None
    quantity: Quantity | None = None
    date_qualifier: str | None = None
    date: dt.date | None = None
    item: ItemIdentifiers = ItemIdentifiers()


class ResponseLine(OrderLine):
    """An order line as acknowledged (X12 855 PO1 loop with ACK)."""

    acks: tuple[LineAck, ...] = ()


class OrderResponse(_Document):
    """An order acknowledgement (X12 855, cXML ConfirmationRequest, UBL OrderResponse)."""

    document_type: Literal["order_response"] = "order_response"
    purpose: Purpose | None = None
    purpose_code: str | None = None
    ack_type: AckType | None = None
    ack_type_code: str | None = None
    po_number: str
    po_date: DateTimeValue | None = None
    release_number: str | None = None
    contract_number: str | None = None
    seller_order_number: str | None = None
    ack_date: DateTimeValue | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    contacts: tuple[Contact, ...] = ()
    payment_terms: tuple[PaymentTerms, ...] = ()
    fob: tuple[FobTerms, ...] = ()
    carriers: tuple[CarrierRouting, ...] = ()
    charges: tuple[Charge, ...] = ()
    notes: tuple[Note, ...] = ()
    lines: tuple[ResponseLine, ...] = ()
    line_count: int | None = None
    hash_total: Decimal | None = None
    total_amount: Money | None = None

    @property
    def business_keys(self) -> dict[str, str | tuple[str, ...]]:
        return _keys(po_number=self.po_number, seller_order_number=self.seller_order_number)


# --- ship notice: 856 --------------------------------------------------------------------------


class _Level(CanonicalModel):
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    lading: tuple[Lading, ...] = ()
    marks: tuple[Mark, ...] = ()
    extensions: Extensions = Field(default_factory=dict)


class ShipItem(_Level):
    """A shipped item (HL level I): identifiers and quantities (X12 LIN, SN1, PID, PO4)."""

    line_number: str | None = None
    item: ItemIdentifiers = ItemIdentifiers()
    shipped_line_id: str | None = None
    quantity_shipped: Quantity | None = None
    quantity_shipped_to_date: Decimal | None = None
    quantity_ordered: Quantity | None = None
    status_code: str | None = None
    descriptions: tuple[Description, ...] = ()
    packaging: Packaging | None = None
    prices: tuple[PriceDetail, ...] = ()
    #: packs below an item (rare "I then P" hierarchies)
    packs: tuple[Pack, ...] = ()


class Pack(_Level):
    """A carton or other package (HL level P), possibly nested."""

    packaging: Packaging | None = None
    packs: tuple[Pack, ...] = ()
    items: tuple[ShipItem, ...] = ()


class Tare(_Level):
    """A pallet (HL level T)."""

    packs: tuple[Pack, ...] = ()
    items: tuple[ShipItem, ...] = ()


class ShipOrder(_Level):
    """One order in a shipment (HL level O, X12 PRF)."""

    po_number: str | None = None
    release_number: str | None = None
    change_sequence: str | None = None
    po_date: dt.date | None = None
    tares: tuple[Tare, ...] = ()
    packs: tuple[Pack, ...] = ()
    items: tuple[ShipItem, ...] = ()


class Shipment(_Level):
    """The shipment level (HL level S): carrier, weights, parties, and the orders in it."""

    carriers: tuple[CarrierRouting, ...] = ()
    equipment: tuple[Equipment, ...] = ()
    fob: tuple[FobTerms, ...] = ()
    orders: tuple[ShipOrder, ...] = ()
    tares: tuple[Tare, ...] = ()
    packs: tuple[Pack, ...] = ()
    items: tuple[ShipItem, ...] = ()


class ShipNotice(_Document):
    """An advance ship notice (X12 856, cXML ShipNoticeRequest, UBL DespatchAdvice)."""

    document_type: Literal["ship_notice"] = "ship_notice"
    purpose: Purpose | None = None
    purpose_code: str | None = None
    asn_number: str
    asn_date: DateTimeValue | None = None
    structure_code: str | None = None
    transaction_type_code: str | None = None
    dates: tuple[DateReference, ...] = ()
    shipment: Shipment = Shipment()
    line_count: int | None = None

    @property
    def business_keys(self) -> dict[str, str | tuple[str, ...]]:
        refs = self.shipment.references
        return _keys(
            asn_number=self.asn_number,
            po_numbers=tuple(o.po_number for o in self.shipment.orders if o.po_number),
            bill_of_lading=_ref_values(refs, ReferenceKind.BILL_OF_LADING),
            tracking=_ref_values(refs, ReferenceKind.TRACKING) + _ref_values(refs, ReferenceKind.CARRIER_PRO),
        )


# --- invoice: 810 ------------------------------------------------------------------------------


class TaxDetail(CanonicalModel):
    """A tax (X12 TXI)."""

    tax_type: str | None = None
    amount: Money | None = None
    percent: Decimal | None = None
    jurisdiction_qualifier: str | None = None
    jurisdiction: str | None = None
    exempt_code: str | None = None


class InvoiceLine(_LineCommon):
    """One invoiced item (X12 IT1 loop)."""

    quantity: Quantity | None = None
    unit_price: Money | None = None
    price_basis: str | None = None
    taxes: tuple[TaxDetail, ...] = ()


class Invoice(_Document):
    """An invoice (X12 810, cXML InvoiceDetailRequest, UBL Invoice)."""

    document_type: Literal["invoice"] = "invoice"
    purpose: Purpose | None = None
    purpose_code: str | None = None
    transaction_type_code: str | None = None
    invoice_number: str
    invoice_date: DateTimeValue | None = None
    po_number: str | None = None
    po_date: DateTimeValue | None = None
    release_number: str | None = None
    change_sequence: str | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    contacts: tuple[Contact, ...] = ()
    payment_terms: tuple[PaymentTerms, ...] = ()
    fob: tuple[FobTerms, ...] = ()
    carriers: tuple[CarrierRouting, ...] = ()
    notes: tuple[Note, ...] = ()
    lines: tuple[InvoiceLine, ...] = ()
    total_amount: Money | None = None
    amount_subject_to_discount: Money | None = None
    discounted_amount: Money | None = None
    terms_discount_amount: Money | None = None
    taxes: tuple[TaxDetail, ...] = ()
    charges: tuple[Charge, ...] = ()
    line_count: int | None = None

    @property
    def business_keys(self) -> dict[str, str | tuple[str, ...]]:
        return _keys(
            invoice_number=self.invoice_number,
            po_number=self.po_number,
            bill_of_lading=_ref_values(self.references, ReferenceKind.BILL_OF_LADING),
        )


# --- inventory: 846 / 852 ----------------------------------------------------------------------


class InventoryQuantityKind(StrEnum):
    """What an inventory quantity counts (X12 element 673 in QTY01)."""

    ON_HAND = "on_hand"
    AVAILABLE = "available"
    ON_ORDER = "on_order"
    IN_TRANSIT = "in_transit"
    COMMITTED = "committed"
    BACKORDERED = "backordered"
    DAMAGED = "damaged"
    MINIMUM = "minimum"
    MAXIMUM = "maximum"
    OTHER = "other"


class InventoryQuantity(CanonicalModel):
    """One qualified inventory quantity (X12 QTY)."""

    kind: InventoryQuantityKind
    qualifier: str | None = None
    quantity: Quantity
    dates: tuple[DateReference, ...] = ()
    extensions: Extensions = Field(default_factory=dict)


class InventoryItem(_LineCommon):
    """An item's inventory position (X12 846 LIN loop)."""

    quantities: tuple[InventoryQuantity, ...] = ()


class InventoryReport(_Document):
    """Inventory inquiry/advice (X12 846, UBL InventoryReport)."""

    document_type: Literal["inventory_report"] = "inventory_report"
    purpose: Purpose | None = None
    purpose_code: str | None = None
    report_type_code: str | None = None
    report_id: str
    report_date: DateTimeValue | None = None
    action_code: str | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    contacts: tuple[Contact, ...] = ()
    items: tuple[InventoryItem, ...] = ()
    line_count: int | None = None

    @property
    def business_keys(self) -> dict[str, str | tuple[str, ...]]:
        return _keys(report_id=self.report_id)


class ActivityCode(StrEnum):
    """Product activity reported (X12 element 859 in ZA01), as defined for vendor-managed inventory."""

    ON_HAND = "on_hand"                      # QA
    SOLD = "sold"                            # QS
    ON_ORDER = "on_order"                    # QP
    IN_TRANSIT = "in_transit"                # QI
    RECEIVED = "received"                    # QR
    OUT_OF_STOCK = "out_of_stock"            # QO
    MINIMUM = "minimum"                      # QL
    MAXIMUM = "maximum"                      # QM
    PLANNED_INVENTORY = "planned_inventory"  # QN
    REORDER_POINT = "reorder_point"          # PO
    PLANNED_ORDER = "planned_order"          # OQ
    LOST_SALES = "lost_sales"                # LS
    RETURNED = "returned"                    # QU, Q2
    ADJUSTMENT = "adjustment"                # QT
    COMMITTED = "committed"                  # QC
    ON_HOLD = "on_hold"                      # QH
    REQUESTED = "requested"                  # QX
    OTHER = "other"


class Activity(CanonicalModel):
    """One activity figure for an item (X12 ZA loop), total and/or per location (SDQ)."""

    code: ActivityCode
    code_original: str | None = None
    quantity: Quantity | None = None
    date_qualifier: str | None = None
    date: DateTimeValue | None = None
    by_location: tuple[LocationQuantity, ...] = ()
    extensions: Extensions = Field(default_factory=dict)


class ActivityItem(_LineCommon):
    """An item with its activities (X12 852 LIN loop)."""

    activities: tuple[Activity, ...] = ()


class ActivityLocation(CanonicalModel):
    """A reporting location and the items reported for it (X12 852 N1 loop followed by LIN loops)."""

    party: Party
    items: tuple[ActivityItem, ...] = ()
    extensions: Extensions = Field(default_factory=dict)


class ProductActivity(_Document):
    """Product activity / point-of-sale and stock data (X12 852, cXML ProductActivityMessage, UBL)."""

    document_type: Literal["product_activity"] = "product_activity"
    report_id: str | None = None
    report_type_code: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    locations: tuple[ActivityLocation, ...] = ()
    items: tuple[ActivityItem, ...] = ()
    line_count: int | None = None

    @property
    def business_keys(self) -> dict[str, str | tuple[str, ...]]:
        start = self.period_start.isoformat() if self.period_start else None
        end = self.period_end.isoformat() if self.period_end else None
        return _keys(report_id=self.report_id, period_start=start, period_end=end)


# --- planning schedule: 830 --------------------------------------------------------------------


class ForecastType(StrEnum):
    """Commitment level of a forecast bucket (X12 element 680 in FST02)."""

    FIRM = "firm"
    PLANNING = "planning"
    OTHER = "other"


class ForecastBucket(CanonicalModel):
    """Quantity for one period (X12 FST), optionally split by location (SDQ)."""

    quantity: Quantity | None = None
    forecast_type: ForecastType | None = None
    forecast_code: str | None = None
    timing_qualifier: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    reference_qualifier: str | None = None
    reference: str | None = None
    by_location: tuple[LocationQuantity, ...] = ()
    extensions: Extensions = Field(default_factory=dict)


class ScheduleItem(_LineCommon):
    """One item of a planning schedule (X12 830 LIN loop)."""

    unit_price: Money | None = None
    unit: str | None = None
    forecasts: tuple[ForecastBucket, ...] = ()


class PlanningSchedule(_Document):
    """A forecast / planning schedule (X12 830, UBL Forecast)."""

    document_type: Literal["planning_schedule"] = "planning_schedule"
    purpose: Purpose | None = None
    purpose_code: str | None = None
    schedule_number: str | None = None
    release_number: str | None = None
    schedule_type_code: str | None = None
    quantity_type_code: str | None = None
    horizon_start: dt.date | None = None
    horizon_end: dt.date | None = None
    issue_date: dt.date | None = None
    contract_number: str | None = None
    po_number: str | None = None
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    contacts: tuple[Contact, ...] = ()
    items: tuple[ScheduleItem, ...] = ()
    line_count: int | None = None

    @property
    def business_keys(self) -> dict[str, str | tuple[str, ...]]:
        return _keys(schedule_number=self.schedule_number, release_number=self.release_number,
                     po_number=self.po_number)


# --- acknowledgements: 997 / 999 / TA1 ---------------------------------------------------------


class ElementError(CanonicalModel):
    """An element error reported by the partner (AK4 / IK4)."""

    position: int | None = None
    component: int | None = None
    repetition: int | None = None
    element_ref: str | None = None
    code: str
    bad_value: str | None = None


class SegmentError(CanonicalModel):
    """A segment error reported by the partner (AK3 / IK3)."""

    segment_id: str
    position: int | None = None
    loop_id: str | None = None
    code: str | None = None
    elements: tuple[ElementError, ...] = ()
    extensions: Extensions = Field(default_factory=dict)


class SetAck(CanonicalModel):
    """The partner's verdict on one of our transaction sets (AK2..AK5 / IK2..IK5)."""

    set_id: str
    control_number: str
    implementation_ref: str | None = None
    status: str
    codes: tuple[str, ...] = ()
    segment_errors: tuple[SegmentError, ...] = ()
    extensions: Extensions = Field(default_factory=dict)


class FunctionalAck(_Document):
    """A functional acknowledgement (X12 997 or 999) of one of our functional groups."""

    document_type: Literal["functional_ack"] = "functional_ack"
    ack_set: Literal["997", "999"]
    functional_id: str
    group_control_number: str
    group_version: str | None = None
    sets: tuple[SetAck, ...] = ()
    group_status: str | None = None
    group_codes: tuple[str, ...] = ()
    sets_included: int | None = None
    sets_received: int | None = None
    sets_accepted: int | None = None

    @property
    def business_keys(self) -> dict[str, str | tuple[str, ...]]:
        return _keys(functional_id=self.functional_id, group_control_number=self.group_control_number,
                     set_control_numbers=tuple(s.control_number for s in self.sets))


class InterchangeAck(_Document):
    """An interchange acknowledgement (X12 TA1) of one of our interchanges."""

    document_type: Literal["interchange_ack"] = "interchange_ack"
    control_number: str
    interchange_date: dt.date | None = None
    interchange_time: dt.time | None = None
    status: Literal["A", "E", "R"]
    note_code: str | None = None

    @property
    def business_keys(self) -> dict[str, str | tuple[str, ...]]:
        return _keys(interchange_control_number=self.control_number)


CanonicalDocument = Annotated[
    Union[
        PurchaseOrder, OrderChange, OrderResponse, ShipNotice, Invoice,
        InventoryReport, ProductActivity, PlanningSchedule, FunctionalAck, InterchangeAck,
    ],
    Field(discriminator="document_type"),
]

#: document_type -> model class, in a stable order (CLI, JSON Schema export, registries)
DOCUMENT_TYPES: MappingProxyType[str, type[CanonicalModel]] = MappingProxyType({
    "purchase_order": PurchaseOrder,
    "order_change": OrderChange,
    "order_response": OrderResponse,
    "ship_notice": ShipNotice,
    "invoice": Invoice,
    "inventory_report": InventoryReport,
    "product_activity": ProductActivity,
    "planning_schedule": PlanningSchedule,
    "functional_ack": FunctionalAck,
    "interchange_ack": InterchangeAck,
})

# ShipItem and Pack refer to each other; resolve the forward reference once both exist.
ShipItem.model_rebuild()
