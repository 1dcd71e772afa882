"""846 inventory inquiry/advice and 852 product activity data (004010 and 005010)."""

from __future__ import annotations

from crossdock.mappings.spec import Collect, DocumentSpec, Each, Field, Rules
from crossdock.mappings.x12.loops import shape
from crossdock.mappings.x12.specs.common import (
    CONTACT, DATE, DESCRIPTION, N1_LOOP, PARTY, PRICE, REFERENCE, packaging, prefixed,
)
from crossdock.schemas.canonical import InventoryReport, ProductActivity

__all__ = ["IB_846", "PD_852"]

_QUANTITY: Rules = (
    Field(("kind", "qualifier"), "QTY01", ("coded(inventory_quantity_kind)",), required=True),
    Field("quantity", ("QTY02", "QTY03-1"), ("quantity",), required=True),
    Each("dates", "DTM", DATE),
)

_ITEM_COMMON: Rules = (
    Field("line_number", "LIN01"),
    Field("item", "LIN02..31", ("item_ids",)),
    Each("descriptions", "PID", DESCRIPTION),
    Each("prices", "CTP", PRICE),
    *packaging(),
    Each("references", "REF", REFERENCE),
    Each("dates", "DTM", DATE),
)

IB_846 = DocumentSpec(
    name="x12.846", format="x12", document_type="inventory_report", model=InventoryReport,
    set_id="846", versions=("004010", "005010"),
    structure=shape("", "BIA CUR REF PER MEA DTM N1 LIN CTT AMT", N1_LOOP,
                    shape("LIN", "SLN PID DTM REF PER MEA CTP PO4 SAC PWK PKG QTY SDQ LDT LM N1", N1_LOOP,
                          shape("QTY", "SCH DTM LDT"))),
    rules=(
        Field(("purpose", "purpose_code"), "BIA01", ("coded(purpose)",)),
        Field("report_type_code", "BIA02"),
        Field("report_id", "BIA03", required=True),
        Field("report_date", ("BIA04", "BIA05"), ("datetime",)),
        Field("action_code", "BIA06"),
        Field("currency", "CUR[BY|SE|BT|ST|VN|SU|PR|RI]02", ("upper",)),
        Each("references", "REF", REFERENCE),
        Each("contacts", "PER", CONTACT),
        Each("dates", "DTM", DATE),
        Each("parties", "N1", PARTY),
        Each("items", "LIN", (
            *_ITEM_COMMON,
            Each("quantities", "QTY", _QUANTITY),
            Collect("destinations", "SDQ", "sdq"),
            Each("parties", "N1", PARTY),
        )),
        Field("line_count", "CTT01", ("int",)),
    ),
)

_ZA = shape("ZA", "QTY SDQ CTP G95")
_LIN_852 = shape("LIN", "PID PO4 CTP DTM REF PER QTY SLN LDT ZA", _ZA)

_N9_REFERENCE: Rules = (
    Field(("kind", "qualifier"), "N901", ("coded(reference_kind)",), required=True),
    Field("value", "N902", default=""),
    Field("description", "N903"),
)

_TABLES: dict[str, Rules] = {
    "activity": (
        Field(("code", "code_original"), "ZA01", ("coded(activity_code)",), required=True),
        Field("quantity", ("ZA02", "ZA03"), ("quantity",)),
        Field("date_qualifier", "ZA04"),
        Field("date", "ZA05", ("date_value",)),
        Collect("by_location", "SDQ", "sdq"),
    ),
    "item": (*_ITEM_COMMON, Each("activities", "ZA", "activity")),
}
_TABLES["location"] = (*prefixed("party", PARTY), Each("items", "LIN", "item"))

#: roles that name a trading partner rather than a reporting location
_PARTNER_ROLES = "VN|SU|BY|SE|MF|DS|FR|TO"

PD_852 = DocumentSpec(
    name="x12.852", format="x12", document_type="product_activity", model=ProductActivity,
    set_id="852", versions=("004010", "005010"), tables=_TABLES,
    structure=shape("", "XQ XPO N9 PER N1 LIN CTT", shape("N1", "N2 N3 N4 REF PER LIN", _LIN_852), _LIN_852),
    rules=(
        Field("report_type_code", "XQ01"),
        Field("period_start", "XQ02", ("date",)),
        Field("period_end", "XQ03", ("date",)),
        Field("report_id", "XQ04"),
        Each("references", "N9", _N9_REFERENCE),
        Each("parties", f"N1[{_PARTNER_ROLES}]", PARTY),
        Each("locations", "N1", "location"),
        Each("items", "LIN", "item"),
        Field("line_count", "CTT01", ("int",)),
    ),
)
