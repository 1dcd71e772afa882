"""X12 as JSON: our lossless form both ways, and readers for two foreign shapes.

Our form (``"format": "crossdock.x12-json"``) mirrors :mod:`crossdock.schemas.x12.tree`, the way
Stedi's and node-x12's segment views expose EDI, but keeps everything needed to write the same
bytes back (delimiters, suffix, ISA padding, trailers)::

    {"format": "crossdock.x12-json", "version": 1,
     "interchanges": [{
        "delimiters": {"element": "*", "segment": "~", "component": ":", "repetition": "^",
                       "suffix": "\\n"},
        "header": ["ISA", "00", "          ", ...],
        "control_segments": [],          # TA1 etc. between ISA and the first GS
        "groups": [{
            "header": ["GS", "PO", ...],
            "transactions": [[["ST", "850", "0001"], ["BEG", "00", "SA", "PO1"], ...,
                              ["SE", "12", "0001"]]],
            "trailer": ["GE", "1", "1"]}],
        "trailer": ["IEA", "1", "000000001"]}]}

A segment is ``[id, element01, element02, …]``; an element is a string, a composite is a list
of component strings, a repeated element is ``{"repeats": [string-or-list, …]}``. A missing
trailer (broken input) is ``null``. Because the tree keeps the ISA padding and the delimiters,
``serialize(json_to_tree(tree_to_json(parse(x))))`` gives back ``x`` for well-formed input
(the X12 reader drops trailing empty elements by contract, so ``N1*ST*A**~`` comes back as
``N1*ST*A~``).

Foreign shapes read (not written):

* Stedi raw fixture ``{"data": "ISA*…"}``: the string is X12; the caller parses it.
* Stedi Guide JSON (``{"payload": {"heading": …, "detail": …, "summary": …}}``): keys ending
  in ``_<SEGMENT ID>`` (optionally followed by a lower-case qualifier name) are segments, keys ending ``_loop`` are loops, element keys end in
  ``_NN`` (position). ISO dates ``2022-08-30`` become ``20220830``. Gives one transaction body
  (ST…SE, SE counted here); the guide itself is not known to us, so element order within a
  loop is the JSON's order.

node-x12's ``850_map_result.json`` / ``Transaction_data.json`` are business objects shaped by a
user-written map, not X12: they are reported as ``X12_JSON_SHAPE_UNKNOWN``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from crossdock.schemas.errors import Issue
from crossdock.schemas.x12.tree import (
    Composite,
    Delimiters,
    Group,
    Interchange,
    Repeats,
    Segment,
    Transaction,
    Value,
)

__all__ = [
    "X12_JSON_FORMAT",
    "X12_JSON_VERSION",
    "tree_to_json",
    "interchange_to_json",
    "json_to_tree",
    "segment_to_json",
    "segment_from_json",
    "guide_json_to_transaction",
]

X12_JSON_FORMAT = "crossdock.x12-json"
X12_JSON_VERSION = 1

# "..._BEG", or with a guide-specific qualifier suffix: "reference_information_REF_customer_order"
_SEGMENT_KEY = re.compile(r"_([A-Z][A-Z0-9]{1,2})(?:_[a-z][a-z0-9_]*)?$")
_ELEMENT_KEY = re.compile(r"_(\d{2})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_ISO_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")
_GUIDE_SECTIONS = ("heading", "detail", "summary")


def tree_to_json(interchanges: Iterable[Interchange]) -> dict[str, Any]:
    """Our lossless JSON form of parsed interchanges.

    Args:
        interchanges: trees from the X12 reader.

    Returns:
        A JSON-ready dict (see the module docstring).
    """
    return {
        "format": X12_JSON_FORMAT,
        "version": X12_JSON_VERSION,
        "interchanges": [interchange_to_json(item) for item in interchanges],
    }


def interchange_to_json(interchange: Interchange) -> dict[str, Any]:
    """One interchange in our JSON form."""
    delimiters = interchange.delimiters
    return {
        "delimiters": {
            "element": delimiters.element,
            "segment": delimiters.segment,
            "component": delimiters.component,
            "repetition": delimiters.repetition,
            "suffix": delimiters.suffix,
        },
        "header": segment_to_json(interchange.header),
        "control_segments": [segment_to_json(s) for s in interchange.control_segments],
        "groups": [
            {
                "header": segment_to_json(group.header),
                "transactions": [[segment_to_json(s) for s in t.segments] for t in group.transactions],
                "trailer": _optional_segment(group.trailer),
            }
            for group in interchange.groups
        ],
        "trailer": _optional_segment(interchange.trailer),
    }


def segment_to_json(segment: Segment) -> list[Any]:
    """``Segment("N1", ("ST", "NAME"))`` → ``["N1", "ST", "NAME"]``."""
    return [segment.id, *(_value_to_json(value) for value in segment.elements)]


def json_to_tree(document: Any) -> tuple[tuple[Interchange, ...], list[Issue]]:
    """Read our JSON form back into trees.

    Args:
        document: the decoded JSON (from the hardened loader).

    Returns:
        The interchanges that were well-formed, and an Issue for each part that was not
        (code ``X12_JSON_INVALID`` with its JSON location). A document in another shape gives
        no interchanges and one ``X12_JSON_SHAPE_UNKNOWN`` issue.
    """
    if not isinstance(document, dict) or document.get("format") != X12_JSON_FORMAT:
        return (), [Issue("X12_JSON_SHAPE_UNKNOWN", f"not a {X12_JSON_FORMAT} document")]
    if document.get("version") != X12_JSON_VERSION:
        return (), [Issue("X12_JSON_INVALID", f"unsupported version, expected {X12_JSON_VERSION}", ("version",))]
    items = document.get("interchanges")
    if not isinstance(items, list):
        return (), [Issue("X12_JSON_INVALID", "interchanges must be a list", ("interchanges",))]
    result: list[Interchange] = []
    issues: list[Issue] = []
    for index, item in enumerate(items):
        try:
            result.append(_interchange_from_json(item))
        except _ShapeError as exc:
            issues.append(Issue("X12_JSON_INVALID", exc.msg, ("interchanges", index, *exc.loc)))
    return tuple(result), issues


def segment_from_json(item: Any) -> Segment:
    """``["N1", "ST", "NAME"]`` → ``Segment("N1", ("ST", "NAME"))``.

    Raises:
        ValueError: the item is not a segment in our form.
    """
    try:
        return _segment(item)
    except _ShapeError as exc:
        raise ValueError(exc.msg) from exc


def guide_json_to_transaction(document: Any) -> tuple[Transaction | None, list[Issue]]:
    """Read a Stedi Guide JSON payload as one transaction (ST … SE).

    Args:
        document: decoded JSON with ``payload`` (or the payload itself) holding
            ``heading``/``detail``/``summary``.

    Returns:
        The transaction (SE01 counted, SE02 = ST02) or ``None``, and the issues.
    """
    payload = document.get("payload", document) if isinstance(document, dict) else None
    if not isinstance(payload, dict) or not any(key in payload for key in _GUIDE_SECTIONS):
        return None, [Issue("X12_JSON_SHAPE_UNKNOWN", "no Stedi Guide JSON payload (heading/detail/summary)")]
    issues: list[Issue] = []
    segments = list(_guide_segments(payload, (), issues))
    segments = [s for s in segments if s.id != "SE"]
    if not segments or segments[0].id != "ST":
        return None, [*issues, Issue("X12_JSON_INVALID", "the payload has no ST segment first", ("payload",))]
    trailer = Segment("SE", (str(len(segments) + 1), segments[0].get(2)))
    return Transaction((*segments, trailer)), issues


class _ShapeError(Exception):
    def __init__(self, msg: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(msg)
        self.msg = msg
        self.loc = loc


def _optional_segment(segment: Segment | None) -> list[Any] | None:
    return None if segment is None else segment_to_json(segment)


def _value_to_json(value: Value) -> Any:
    if isinstance(value, Repeats):
        return {"repeats": [list(r) if isinstance(r, Composite) else r for r in value]}
    if isinstance(value, Composite):
        return list(value)
    return value


def _interchange_from_json(item: Any) -> Interchange:
    if not isinstance(item, dict):
        raise _ShapeError("an interchange must be an object")
    groups = item.get("groups")
    if not isinstance(groups, list):
        raise _ShapeError("groups must be a list", ("groups",))
    controls = item.get("control_segments", [])
    if not isinstance(controls, list):
        raise _ShapeError("control_segments must be a list", ("control_segments",))
    return Interchange(
        header=_located(_segment, item.get("header"), ("header",)),
        groups=tuple(_located(_group, group, ("groups", i)) for i, group in enumerate(groups)),
        trailer=_located(_optional, item.get("trailer"), ("trailer",)),
        delimiters=_located(_delimiters, item.get("delimiters"), ("delimiters",)),
        control_segments=tuple(_located(_segment, s, ("control_segments", i)) for i, s in enumerate(controls)),
    )


def _group(item: Any) -> Group:
    if not isinstance(item, dict) or not isinstance(item.get("transactions"), list):
        raise _ShapeError("a group must be an object with a transactions list")
    transactions = tuple(
        _located(_transaction, t, ("transactions", i)) for i, t in enumerate(item["transactions"])
    )
    return Group(
        header=_located(_segment, item.get("header"), ("header",)),
        transactions=transactions,
        trailer=_located(_optional, item.get("trailer"), ("trailer",)),
    )


def _transaction(item: Any) -> Transaction:
    if not isinstance(item, list) or not item:
        raise _ShapeError("a transaction must be a non-empty list of segments")
    return Transaction(tuple(_located(_segment, s, (i,)) for i, s in enumerate(item)))


def _optional(item: Any) -> Segment | None:
    return None if item is None else _segment(item)


def _segment(item: Any) -> Segment:
    if not isinstance(item, list) or not item or not isinstance(item[0], str) or not item[0]:
        raise _ShapeError("a segment must be a list starting with its id")
    return Segment(item[0], tuple(_located(_value, v, (i,)) for i, v in enumerate(item[1:], start=1)))


def _value(item: Any) -> Value:
    if isinstance(item, str):
        return item
    if isinstance(item, list):
        return _composite(item)
    if isinstance(item, dict) and set(item) == {"repeats"} and isinstance(item["repeats"], list):
        return Repeats(r if isinstance(r, str) else _composite(r) for r in item["repeats"])
    raise _ShapeError("an element must be a string, a list (composite) or {'repeats': [...]}")


def _composite(item: Any) -> Composite:
    if not isinstance(item, list) or not all(isinstance(c, str) for c in item):
        raise _ShapeError("a composite must be a list of strings")
    return Composite(item)


def _delimiters(item: Any) -> Delimiters:
    if not isinstance(item, dict):
        raise _ShapeError("delimiters must be an object")
    fields = {"element", "segment", "component", "repetition", "suffix"}
    if set(item) - fields:
        raise _ShapeError(f"unknown delimiter keys {sorted(set(item) - fields)}")
    for key, value in item.items():
        if not (value is None and key == "repetition") and not isinstance(value, str):
            raise _ShapeError(f"delimiter {key} must be a string")
    return Delimiters(**item)


def _located(reader, item: Any, loc: tuple[str | int, ...]):
    """Run ``reader(item)``, prefixing the location of any shape error with ``loc``."""
    try:
        return reader(item)
    except _ShapeError as exc:
        raise _ShapeError(exc.msg, (*loc, *exc.loc)) from None


def _guide_segments(node: dict[str, Any], loc: tuple[str | int, ...], issues: list[Issue]) -> Iterator[Segment]:
    """Segments of a guide JSON object in document order (sections, loops, segments)."""
    for key, value in node.items():
        where = (*loc, key)
        if key in _GUIDE_SECTIONS or key.endswith("_loop"):
            for index, child in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(child, dict):
                    yield from _guide_segments(child, (*where, index), issues)
            continue
        match = _SEGMENT_KEY.search(key)
        if match is None:
            issues.append(Issue("X12_JSON_KEY_UNKNOWN", "key is neither a loop nor a segment", where, "warning", key))
            continue
        for index, elements in enumerate(value if isinstance(value, list) else [value]):
            yield _guide_segment(match.group(1), elements, (*where, index), issues)


def _guide_segment(segment_id: str, elements: Any, loc: tuple[str | int, ...], issues: list[Issue]) -> Segment:
    values: dict[int, Value] = {}
    for key, raw in (elements or {}).items() if isinstance(elements, dict) else ():
        match = _ELEMENT_KEY.search(key)
        if match is None:
            issues.append(Issue("X12_JSON_KEY_UNKNOWN", "element key has no _NN position", (*loc, key), "warning", key))
            continue
        values[int(match.group(1))] = _guide_value(raw)
    width = max(values, default=0)
    return Segment(segment_id, tuple(values.get(position, "") for position in range(1, width + 1)))


def _guide_value(raw: Any) -> Value:
    if isinstance(raw, dict):
        components = {int(m.group(1)): _guide_scalar(v) for k, v in raw.items() if (m := _ELEMENT_KEY.search(k))}
        width = max(components, default=0)
        return Composite(components.get(position, "") for position in range(1, width + 1))
    return _guide_scalar(raw)


def _guide_scalar(raw: Any) -> str:
    if isinstance(raw, bool) or raw is None:
        return "" if raw is None else ("Y" if raw else "N")
    text = str(raw)
    if date := _ISO_DATE.match(text):
        return "".join(date.groups())
    if time := _ISO_TIME.match(text):
        return "".join(part for part in time.groups() if part)
    return text
