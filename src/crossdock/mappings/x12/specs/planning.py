"""830 planning schedule with release capability: items, locations and forecast buckets."""

from __future__ import annotations

from crossdock.mappings.spec import Collect, DocumentSpec, Each, Field, Rules
from crossdock.mappings.x12.loops import shape
from crossdock.mappings.x12.specs.common import (
    CONTACT, DATE, DESCRIPTION, N1_LOOP, PARTY, REFERENCE, packaging,
)
from crossdock.schemas.canonical import PlanningSchedule

__all__ = ["PS_830"]

_FST = shape("FST", "QTY SDQ LM LQ DTM")
_N1_LINE = shape("N1", "N2 N3 N4 REF PER FOB")
_STRUCTURE = shape(
    "", "BFR XPO CUR REF PER TAX FOB CTP SAC CSH ITD DTM PID MEA PWK PKG TD1 TD5 TD3 TD4 MAN N1 LIN CTT",
    N1_LOOP,
    shape("LIN", "UIT DTM PO3 CTP PID MEA PWK PKG PO4 PRS REF PER SAC ITD TD1 TD5 TD3 TD4 MAN DIS CUR "
          "QTY N1 SDP FST ATH SHP TCD", _N1_LINE, _FST),
)

_FORECAST: Rules = (
    Field("quantity", "FST01", ("quantity",)),
    Field(("forecast_type", "forecast_code"), "FST02", ("coded(forecast_type)",)),
    Field("timing_qualifier", "FST03"),
    Field("start", "FST04", ("date",)),
    Field("end", "FST05", ("date",)),
    Field("reference_qualifier", "FST08"),
    Field("reference", "FST09"),
    Collect("by_location", "SDQ", "sdq"),
)

_ITEM: Rules = (
    Field("line_number", "LIN01"),
    Field("item", "LIN02..31", ("item_ids",)),
    Field("unit", "UIT01-1"),
    Field("unit_price", "UIT02", ("decimal", "money")),
    Each("descriptions", "PID", DESCRIPTION),
    *packaging(),
    Each("references", "REF", REFERENCE),
    Each("dates", "DTM", DATE),
    Each("parties", "N1", PARTY),
    Each("forecasts", "FST", _FORECAST),
)

PS_830 = DocumentSpec(
    name="x12.830", format="x12", document_type="planning_schedule", model=PlanningSchedule,
    set_id="830", versions=("004010", "005010"), structure=_STRUCTURE,
    rules=(
        Field(("purpose", "purpose_code"), "BFR01", ("coded(purpose)",)),
        Field("schedule_number", "BFR02"),
        Field("release_number", "BFR03"),
        Field("schedule_type_code", "BFR04"),
        Field("quantity_type_code", "BFR05"),
        Field("horizon_start", "BFR06", ("date",)),
        Field("horizon_end", "BFR07", ("date",)),
        Field("issue_date", "BFR08", ("date",)),
        Field("contract_number", "BFR10"),
        Field("po_number", "BFR11"),
        Each("references", "REF", REFERENCE),
        Each("contacts", "PER", CONTACT),
        Each("dates", "DTM", DATE),
        Each("parties", "N1", PARTY),
        Each("items", "LIN", _ITEM),
        Field("line_count", "CTT01", ("int",)),
    ),
)
