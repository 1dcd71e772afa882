"""Shared helpers for the reader tests: input builders and a minimal set validator.

The reader's own tests must not depend on the transaction-set definitions, so they plug in
:class:`CountingValidator` (it checks only what SE carries: SE01 count and SE02 = ST02). The
test modules load this file by path, whatever the package layout.
"""

from __future__ import annotations

from typing import Any

from crossdock.adapters.x12 import ReadOptions
from crossdock.schemas.x12.report import FileReport, SetReport, X12Error
from crossdock.schemas.x12.tree import Delimiters, Segment

#: ISA01..ISA15 of the default test interchange (ISA16 comes from the delimiters)
ISA_FIELDS = ("00", "          ", "00", "          ", "ZZ", "SENDERID       ", "ZZ",
              "RECEIVERID     ", "240101", "1200", "U", "00401", "000000001", "0", "P")

PO_BODY = ("BEG*00*SA*PO-1**20240101", "PO1*1*10*EA*9.95**UP*012345678905", "CTT*1")


class CountingValidator:
    """Checks only SE01 (segment count) and SE02 (= ST02); codes 2, 3 and 4 of element 718."""

    def __init__(self, st: Segment, functional_id: str, group_version: str,
                 delimiters: Delimiters) -> None:
        self._st = st
        self._count = 1

    def feed(self, segment: Segment) -> None:
        self._count += 1

    def finish(self, se: Segment | None) -> SetReport:
        errors = []
        number = self._st.get(2)
        if se is None:
            errors.append(X12Error(level="set", code="2", message="SE missing"))
        else:
            count = se.get(1)
            if not count.isdigit() or int(count) != self._count + 1:
                errors.append(X12Error(level="set", code="4", message="SE01 count"))
            if se.get(2) != number:
                errors.append(X12Error(level="set", code="3", message="SE02 differs"))
        return SetReport(set_id=self._st.get(1), control_number=number,
                         status="R" if errors else "A", errors=tuple(errors),
                         segment_count=self._count + (se is not None))


OPTIONS = ReadOptions(validator=CountingValidator)
LENIENT = ReadOptions(validator=CountingValidator, lenient_isa=True)


def isa(element: str = "*", component: str = ">", terminator: str = "~", **fields: str) -> str:
    """A fixed-width ISA; ``fields`` override ISA01..ISA15 by name, e.g. ``isa13="000000007"``."""
    values = list(ISA_FIELDS)
    for key, value in fields.items():
        values[int(key[3:]) - 1] = value
    return "ISA" + element + element.join(values) + element + component + terminator


def st_set(number: str = "0001", body: tuple[str, ...] = PO_BODY, set_id: str = "850",
           count: int | None = None, extra: str = "") -> list[str]:
    """ST..SE segment texts ('*' separated) with a correct SE01 unless ``count`` is given."""
    st = f"ST*{set_id}*{number}{extra}"
    return [st, *body, f"SE*{count if count is not None else len(body) + 2}*{number}"]


def group(sets: list[list[str]], number: str = "1", version: str = "004010",
          functional_id: str = "PO", ge_count: int | None = None,
          ge_number: str | None = None) -> list[str]:
    out = [f"GS*{functional_id}*SENDER*RECEIVER*20240101*1200*{number}*X*{version}"]
    for segments in sets:
        out.extend(segments)
    out.append(f"GE*{len(sets) if ge_count is None else ge_count}*{ge_number or number}")
    return out


def interchange(groups: list[list[str]] | None = None, *, element: str = "*",
                component: str = ">", terminator: str = "~", suffix: str = "",
                iea_count: int | None = None, iea_number: str | None = None,
                iea: bool = True, **fields: str) -> str:
    """One interchange as text; segment bodies are written with '*' and converted."""
    if groups is None:
        groups = [group([st_set()])]
    header = isa(element, component, terminator, **fields)
    segments = [s for g in groups for s in g]
    control = fields.get("isa13", ISA_FIELDS[12])
    if iea:
        segments.append(f"IEA*{len(groups) if iea_count is None else iea_count}*"
                        f"{iea_number or control}")
    body = "".join(s.replace("*", element) + terminator + suffix for s in segments)
    return header + suffix + body


def summary(report: FileReport) -> list[dict[str, Any]] | dict[str, str]:
    """The whole verdict as plain data (codes and positions, not sentences)."""
    if report.error is not None:
        return {"code": report.error["code"], "reason": report.error["reason"]}
    return [
        {
            "status": ic.status,
            "ta1": ic.ta1_code,
            "errors": [(e.code, e.segment_id, e.element_position, e.severity) for e in ic.errors],
            "groups": [
                {
                    "status": g.status,
                    "ak9": list(g.ak9_codes),
                    "sets": [(t.control_number, t.status, [e.code for e in t.errors])
                             for t in g.transactions],
                }
                for g in ic.groups
            ],
        }
        for ic in report.interchanges
    ]


def accepted(groups: int = 1, sets: tuple[int, ...] = (1,)) -> list[dict[str, Any]]:
    """The summary of one clean interchange."""
    return [{"status": "accepted", "ta1": None, "errors": [],
             "groups": [{"status": "A", "ak9": [],
                         "sets": [(f"{n + 1:04d}", "A", []) for n in range(count)]}
                        for count in sets[:groups]]}]
