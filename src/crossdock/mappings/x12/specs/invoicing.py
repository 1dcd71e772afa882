"""810 invoice (004010 and 005010)."""

from __future__ import annotations

from crossdock.mappings.spec import DocumentSpec, Each, Field, Rules
from crossdock.mappings.x12.loops import shape
from crossdock.mappings.x12.specs.common import (
    CHARGE, CONTACT, DATE, DESCRIPTION, FOB, N1_LOOP, NOTE, PARTY, PRICE, REFERENCE, TAX, TERMS,
    line_items, packaging,
)
from crossdock.schemas.canonical import Invoice

__all__ = ["IN_810"]

_STRUCTURE = shape(
    "", "BIG NTE CUR REF YNQ PER N1 ITD DTM FOB PID MEA PWK PKG L7 BAL INC PAM IT1 TDS TXI CAD AMT SAC ISS CTT",
    N1_LOOP,
    shape("IT1", "CRC QTY CUR IT3 TXI CTP PAM MEA PID PWK PKG PO4 ITD REF YNQ PER IT8 SDQ DTM CAD L7 SR SAC SLN N1",
          N1_LOOP),
)

_CAD: Rules = (
    Field("transport_method", "CAD01"),
    Field("carrier_id", "CAD04"),
    Field("routing", "CAD05"),
)

_LINE: Rules = (
    *line_items("IT1", 6, 25),
    Each("taxes", "TXI", TAX),
    Each("prices", "CTP", PRICE),
    Each("descriptions", "PID", DESCRIPTION),
    *packaging(),
    Each("references", "REF", REFERENCE),
    Each("dates", "DTM", DATE),
    Each("charges", "SAC", CHARGE),
    Each("parties", "N1", PARTY),
)

IN_810 = DocumentSpec(
    name="x12.810", format="x12", document_type="invoice", model=Invoice,
    set_id="810", versions=("004010", "005010"), structure=_STRUCTURE,
    rules=(
        Field("invoice_date", "BIG01", ("date_value",)),
        Field("invoice_number", "BIG02", required=True),
        Field("po_date", "BIG03", ("date_value",)),
        Field("po_number", "BIG04"),
        Field("release_number", "BIG05"),
        Field("change_sequence", "BIG06"),
        Field("transaction_type_code", "BIG07"),
        Field(("purpose", "purpose_code"), "BIG08", ("coded(purpose)",)),
        Each("notes", "NTE", NOTE),
        Field("currency", "CUR[BY|SE|BT|ST|VN|SU|PR|RI]02", ("upper",)),
        Each("references", "REF", REFERENCE),
        Each("contacts", "PER", CONTACT),
        Each("parties", "N1", PARTY),
        Each("payment_terms", "ITD", TERMS),
        Each("dates", "DTM", DATE),
        Each("fob", "FOB", FOB),
        Each("lines", "IT1", _LINE),
        Field("total_amount", "TDS01", ("decimal", "money")),
        Field("amount_subject_to_discount", "TDS02", ("decimal", "money")),
        Field("discounted_amount", "TDS03", ("decimal", "money")),
        Field("terms_discount_amount", "TDS04", ("decimal", "money")),
        Each("taxes", "TXI", TAX),
        Each("carriers", "CAD", _CAD),
        Each("charges", "SAC", CHARGE),
        Field("line_count", "CTT01", ("int",)),
    ),
)
