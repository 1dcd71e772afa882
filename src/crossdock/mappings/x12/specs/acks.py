"""997 / 999 functional acknowledgements and the TA1 interchange acknowledgement, inbound from partners."""

from __future__ import annotations

from crossdock.mappings.spec import Const, DocumentSpec, Each, Field, Rules
from crossdock.mappings.x12.loops import shape
from crossdock.schemas.canonical import FunctionalAck, InterchangeAck

__all__ = ["FA_997", "FA_999", "TA1_SPEC"]


def _element_errors(seg: str) -> Rules:
    return (
        Field("position", f"{seg}01-1", ("int",)),
        Field("component", f"{seg}01-2", ("int",)),
        Field("repetition", f"{seg}01-3", ("int",)),
        Field("element_ref", f"{seg}02"),
        Field("code", f"{seg}03", default=""),
        Field("bad_value", f"{seg}04"),
    )


def _segment_errors(seg: str, element: str) -> Rules:
    return (
        Field("segment_id", f"{seg}01", default=""),
        Field("position", f"{seg}02", ("int",)),
        Field("loop_id", f"{seg}03"),
        Field("code", f"{seg}04"),
        Each("elements", element, _element_errors(element)),
    )


def _spec(set_id: str, seg3: str, seg4: str, seg5: str, versions: tuple[str, ...]) -> DocumentSpec:
    set_rules: Rules = (
        Field("set_id", "AK201", default=""),
        Field("control_number", "AK202", default=""),
        Field("implementation_ref", "AK203"),
        Each("segment_errors", seg3, _segment_errors(seg3, seg4)),
        Field("status", f"{seg5}01", default=""),
        Field("codes", f"{seg5}02..06", ("codes",)),
    )
    structure = shape("", "AK1 AK2 AK9", shape("AK2", f"{seg3} {seg5}", shape(seg3, f"CTX {seg4}")))
    return DocumentSpec(
        name=f"x12.{set_id}", format="x12", document_type="functional_ack", model=FunctionalAck,
        set_id=set_id, versions=versions, structure=structure,
        rules=(
            Const("ack_set", set_id),
            Field("functional_id", "AK101", required=True),
            Field("group_control_number", "AK102", required=True),
            Field("group_version", "AK103"),
            Each("sets", "AK2", set_rules),
            Field("group_status", "AK901"),
            Field("sets_included", "AK902", ("int",)),
            Field("sets_received", "AK903", ("int",)),
            Field("sets_accepted", "AK904", ("int",)),
            Field("group_codes", "AK905..09", ("codes",)),
        ),
    )


FA_997 = _spec("997", "AK3", "AK4", "AK5", ("004010", "005010"))
FA_999 = _spec("999", "IK3", "IK4", "IK5", ("005010",))

TA1_SPEC = DocumentSpec(
    name="x12.TA1", format="x12", document_type="interchange_ack", model=InterchangeAck,
    set_id="TA1", versions=("004010", "005010"), structure=shape("", "TA1"),
    rules=(
        Field("control_number", "TA101", required=True),
        Field("interchange_date", "TA102", ("date",)),
        Field("interchange_time", "TA103", ("time",)),
        Field("status", "TA104", required=True),
        Field("note_code", "TA105"),
    ),
)
