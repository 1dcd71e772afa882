"""856 ship notice: BSN header and the HL hierarchy shipment -> order -> (tare) -> pack -> item."""

from __future__ import annotations

from crossdock.mappings.spec import DocumentSpec, Each, Field, One, Rules
from crossdock.mappings.x12.loops import shape
from crossdock.mappings.x12.specs.common import (
    CARRIER, DATE, DESCRIPTION, EQUIPMENT, FOB, LADING, MARK, PARTY, PRICE, REFERENCE, packaging,
)
from crossdock.schemas.canonical import ShipNotice

__all__ = ["SH_856"]

_HL_MEMBERS = ("LIN SN1 SLN PRF PO3 PO4 PID MEA PWK PKG TD1 TD5 TD3 TD4 TSD REF PER LH1 CLD MAN DTM FOB "
               "PAL N1 SDQ ETD CUR SAC GF YNQ V1 INV ITA CTP")
_STRUCTURE = shape("", "BSN DTM HL CTT",
                   shape("HL", _HL_MEMBERS, shape("N1", "N2 N3 N4 REF PER FOB"), hierarchical=True))

#: what every hierarchy level may carry
_LEVEL: Rules = (
    Each("lading", "TD1", LADING),
    Each("references", "REF", REFERENCE),
    Each("dates", "DTM", DATE),
    Each("marks", "MAN", MARK),
    Each("parties", "N1", PARTY),
)
_PACKS = Each("packs", "HL[03=P]", "pack")
_ITEMS = Each("items", "HL[03=I]", "item")
_TARES = Each("tares", "HL[03=T]", "tare")

_TABLES: dict[str, Rules] = {
    "shipment": (
        *_LEVEL,
        Each("carriers", "TD5", CARRIER),
        Each("equipment", "TD3", EQUIPMENT),
        Each("fob", "FOB", FOB),
        Each("orders", "HL[03=O]", "order"),
        _TARES, _PACKS, _ITEMS,
    ),
    "order": (
        Field("po_number", "PRF01"),
        Field("release_number", "PRF02"),
        Field("change_sequence", "PRF03"),
        Field("po_date", "PRF04", ("date",)),
        *_LEVEL,
        _TARES, _PACKS, _ITEMS,
    ),
    "tare": (*_LEVEL, _PACKS, _ITEMS),
    "pack": (*packaging(), *_LEVEL, _PACKS, _ITEMS),
    "item": (
        Field("line_number", "LIN01"),
        Field("item", "LIN02..31", ("item_ids",)),
        Field("shipped_line_id", "SN101"),
        Field("quantity_shipped", ("SN102", "SN103"), ("quantity",)),
        Field("quantity_shipped_to_date", "SN104", ("decimal",)),
        Field("quantity_ordered", ("SN105", "SN106"), ("quantity",)),
        Field("status_code", "SN108"),
        Each("descriptions", "PID", DESCRIPTION),
        *packaging(),
        Each("prices", "CTP", PRICE),
        *_LEVEL,
        _PACKS,
    ),
}

SH_856 = DocumentSpec(
    name="x12.856", format="x12", document_type="ship_notice", model=ShipNotice,
    set_id="856", versions=("004010", "005010"), structure=_STRUCTURE, tables=_TABLES,
    rules=(
        Field(("purpose", "purpose_code"), "BSN01", ("coded(purpose)",)),
        Field("asn_number", "BSN02", required=True),
        Field("asn_date", ("BSN03", "BSN04"), ("datetime",)),
        Field("structure_code", "BSN05"),
        Field("transaction_type_code", "BSN06"),
        Each("dates", "DTM", DATE),
        One("shipment", "HL[03=S]", "shipment"),
        Field("line_count", "CTT01", ("int",)),
    ),
)
