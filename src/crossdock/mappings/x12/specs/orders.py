"""850 purchase order, 860 order change, 855 order acknowledgement (004010 and 005010)."""

from __future__ import annotations

from crossdock.mappings.spec import Collect, DocumentSpec, Each, Field, Rules
from crossdock.mappings.x12.loops import shape
from crossdock.mappings.x12.specs.common import (
    CHARGE, DATE, DESCRIPTION, HEADER_COMMON, N1_LOOP, NOTE, PARTY, PRICE, REFERENCE, line_items, packaging,
)
from crossdock.schemas.canonical import OrderChange, OrderResponse, PurchaseOrder

__all__ = ["PO_850", "PC_860", "PR_855"]

VERSIONS = ("004010", "005010")

_HEADER_MEMBERS = ("BEG BCH BAK CUR REF PER TAX FOB CTP PAM CSH TC2 SAC ITD DIS INC DTM LDT LIN SI "
                   "PID MEA PWK PKG TD1 TD5 TD3 TD4 MAN PCT CTB TXI N9 MSG NTE N1 PO1 POC CTT AMT")
_LINE_MEMBERS = ("LIN SI CUR CN1 PO3 CTP PAM MEA PID PWK PO4 REF PER SAC IT8 CSH ITD DIS INC TAX FOB "
                 "SDQ IT3 DTM TC2 TD1 TD5 TD3 TD4 PCT MAN MSG SPI TXI CTB QTY SCH PKG LS LE N9 NTE "
                 "ACK N1")

#: rules of any order-like line after its head segment (PO1/POC)
LINE_DETAIL: Rules = (
    Each("prices", "CTP", PRICE),
    Each("descriptions", "PID", DESCRIPTION),
    *packaging(),
    Each("references", "REF", REFERENCE),
    Each("charges", "SAC", CHARGE),
    Collect("destinations", "SDQ", "sdq"),
    Each("dates", "DTM", DATE),
    Each("notes", "NTE", NOTE),
    Each("parties", "N1", PARTY),
)

_SUMMARY: Rules = (
    Field("line_count", "CTT01", ("int",)),
    Field("hash_total", "CTT02", ("decimal",)),
    Field("total_amount", "AMT[TT|GV|1]02", ("decimal", "money")),
)


def _structure(line: str, *line_members: str):
    return shape("", _HEADER_MEMBERS, N1_LOOP,
                 shape(line, " ".join((_LINE_MEMBERS,) + line_members), N1_LOOP))


PO_850 = DocumentSpec(
    name="x12.850", format="x12", document_type="purchase_order", model=PurchaseOrder,
    set_id="850", versions=VERSIONS, structure=_structure("PO1"),
    rules=(
        Field(("purpose", "purpose_code"), "BEG01", ("coded(purpose)",)),
        Field("order_type_code", "BEG02"),
        Field("po_number", "BEG03", required=True),
        Field("release_number", "BEG04"),
        Field("order_date", "BEG05", ("date_value",)),
        Field("contract_number", "BEG06"),
        *HEADER_COMMON,
        Each("lines", "PO1", (*line_items("PO1", 6, 25), *LINE_DETAIL)),
        *_SUMMARY,
    ),
)

_CHANGE_LINE: Rules = (
    Field("line_number", "POC01"),
    Field(("change", "change_code"), "POC02", ("coded(change_type)",)),
    Field("quantity", ("POC03", "POC05-1"), ("quantity",)),
    Field("quantity_left", "POC04", ("decimal",)),
    Field("unit_price", "POC06", ("decimal", "money")),
    Field("price_basis", "POC07"),
    Field("item", "POC08..27", ("item_ids",)),
    *LINE_DETAIL,
)

PC_860 = DocumentSpec(
    name="x12.860", format="x12", document_type="order_change", model=OrderChange,
    set_id="860", versions=VERSIONS, structure=_structure("POC"),
    rules=(
        Field(("purpose", "purpose_code"), "BCH01", ("coded(purpose)",)),
        Field("order_type_code", "BCH02"),
        Field("po_number", "BCH03", required=True),
        Field("release_number", "BCH04"),
        Field("change_sequence", "BCH05"),
        Field("order_date", "BCH06", ("date_value",)),
        Field("contract_number", "BCH09"),
        Field("change_date", "BCH11", ("date_value",)),
        *HEADER_COMMON,
        Each("lines", "POC", _CHANGE_LINE),
        *_SUMMARY,
    ),
)

_LINE_ACK: Rules = (
    Field(("status", "status_code"), "ACK01", ("coded(line_ack_status)",)),
    Field("quantity", ("ACK02", "ACK03"), ("quantity",)),
    Field("date_qualifier", "ACK04"),
    Field("date", "ACK05", ("date",)),
    Field("item", "ACK07..26", ("item_ids",)),
)

PR_855 = DocumentSpec(
    name="x12.855", format="x12", document_type="order_response", model=OrderResponse,
    set_id="855", versions=VERSIONS, structure=_structure("PO1"),
    rules=(
        Field(("purpose", "purpose_code"), "BAK01", ("coded(purpose)",)),
        Field(("ack_type", "ack_type_code"), "BAK02", ("coded(ack_type)",)),
        Field("po_number", "BAK03", required=True),
        Field("po_date", "BAK04", ("date_value",)),
        Field("release_number", "BAK05"),
        Field("contract_number", "BAK07"),
        Field("seller_order_number", "BAK08"),
        Field("ack_date", "BAK09", ("date_value",)),
        *HEADER_COMMON,
        Each("lines", "PO1", (*line_items("PO1", 6, 25), *LINE_DETAIL, Each("acks", "ACK", _LINE_ACK))),
        *_SUMMARY,
    ),
)
