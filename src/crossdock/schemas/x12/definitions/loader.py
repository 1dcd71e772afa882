"""Load the JSON definitions under ``data/`` into the frozen model, lazily and once.

Files (all compact, human-editable JSON):

* ``elements.004010.json`` — element dictionary ``ref: [name, type, min, max]``;
  ``elements.005010.json`` holds only what 005010 changed.
* ``composites.<version>.json`` — ``ref: [name, [[element ref, requirement], ...]]`` (005010 delta).
* ``segments.<version>.json`` — ``id: [name, [element use, ...], [syntax note, ...]]`` where an
  element use is ``[ref, requirement]`` (``[ref, requirement, repeat]`` for a repeating element)
  or, for the few elements whose reference number is not
  recorded yet (LH1, LH3, LH4, ADV, ...), ``[null, requirement, type, min, max]`` (005010 delta,
  whole segments); AK4-03/IK4-03 is then left empty for them.
* ``codes.json`` — code lists by element ref, ``closed`` or a common subset.
* ``segment_ids.json`` — every segment id of the release (to tell AK304 code 1 from code 6).
* ``sets/<set>.<version>.json`` — one transaction set: body of segment uses
  ``[id, requirement, max use]`` and loops ``{"loop", "req", "repeat", "children"}``.

Nothing is read at import; every loader is cached with :func:`functools.lru_cache`.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from crossdock.schemas.errors import SpecInvalid
from crossdock.schemas.x12.definitions.model import (
    BodyNode,
    CompositeDef,
    CompositeUse,
    DefinitionLookup,
    ElementDef,
    ElementUse,
    LoopDef,
    SegmentDef,
    SegmentUse,
    SyntaxNote,
    TransactionSetDef,
)

__all__ = [
    "BASE_VERSION",
    "DEFINED_VERSIONS",
    "load_definition",
    "element",
    "composite",
    "segment",
    "supported_sets",
    "known_segment_ids",
    "resolve_version",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
BASE_VERSION = "004010"
DEFINED_VERSIONS: tuple[str, ...] = ("004010", "005010")
UNBOUNDED = ">1"
_SYNTAX = re.compile(r"^([PRECL])((?:\d\d){2,})$")


def _read(name: str) -> Any:
    path = DATA_DIR / name
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise SpecInvalid(f"X12 definition file {name} cannot be read: {exc}") from exc


def _merged(stem: str, version: str) -> dict[str, Any]:
    """The 004010 table with the version's delta applied on top."""
    table = dict(_read(f"{stem}.{BASE_VERSION}.json"))
    if version != BASE_VERSION:
        table.update(_read(f"{stem}.{version}.json"))
    return table


@lru_cache(maxsize=1)
def _codes() -> dict[str, tuple[frozenset[str], bool]]:
    raw = _read("codes.json")
    return {
        ref: (frozenset(entry["codes"]), bool(entry["closed"]))
        for ref, entry in raw.items()
        if not ref.startswith("_")
    }


@lru_cache(maxsize=4)
def _elements(version: str) -> dict[str, ElementDef]:
    codes = _codes()
    out: dict[str, ElementDef] = {}
    for ref, (name, data_type, min_length, max_length) in _merged("elements", version).items():
        code_list, closed = codes.get(ref, (None, False))
        out[ref] = ElementDef(ref, name, data_type, min_length, max_length, code_list, closed)
    return out


@lru_cache(maxsize=4)
def _composites(version: str) -> dict[str, CompositeDef]:
    elements = _elements(version)
    out: dict[str, CompositeDef] = {}
    for ref, (name, components) in _merged("composites", version).items():
        uses = tuple(
            ElementUse(i, req, _element_or_fail(elements, el_ref, f"{ref}-{i:02d}"))
            for i, (el_ref, req) in enumerate(components, 1)
        )
        out[ref] = CompositeDef(ref, name, uses)
    return out


def _element_or_fail(elements: dict[str, ElementDef], ref: str, where: str) -> ElementDef:
    found = elements.get(ref)
    if found is None:
        raise SpecInvalid(f"X12 definition {where} names element {ref}, which is not in the dictionary")
    return found


def _syntax(code: str, segment_id: str) -> SyntaxNote:
    match = _SYNTAX.match(code)
    if match is None:
        raise SpecInvalid(f"segment {segment_id} has a malformed syntax note {code!r}")
    digits = match.group(2)
    positions = tuple(int(digits[i : i + 2]) for i in range(0, len(digits), 2))
    return SyntaxNote(match.group(1), positions)  # type: ignore[arg-type]


def _element_use(
    raw: list[Any], position: int, segment_id: str, version: str
) -> ElementUse | CompositeUse:
    ref, requirement = raw[0], raw[1]
    repeat = raw[2] if ref is not None and len(raw) > 2 else 1
    if ref is None:
        data_type, min_length, max_length = raw[2], raw[3], raw[4]
        name = f"{segment_id}{position:02d} (reference number not recorded)"
        return ElementUse(position, requirement, ElementDef(None, name, data_type, min_length, max_length))
    if ref.startswith("C"):
        found = _composites(version).get(ref)
        if found is None:
            raise SpecInvalid(f"segment {segment_id}{position:02d} names unknown composite {ref}")
        return CompositeUse(position, requirement, found, repeat)
    return ElementUse(position, requirement, _element_or_fail(_elements(version), ref, f"{segment_id}{position:02d}"), repeat)


@lru_cache(maxsize=4)
def _segments(version: str) -> dict[str, SegmentDef]:
    out: dict[str, SegmentDef] = {}
    for seg_id, entry in _merged("segments", version).items():
        name, raw_elements = entry[0], entry[1]
        notes = tuple(_syntax(code, seg_id) for code in (entry[2] if len(entry) > 2 else ()))
        uses = tuple(_element_use(raw, i, seg_id, version) for i, raw in enumerate(raw_elements, 1))
        out[seg_id] = SegmentDef(seg_id, name, uses, notes)
    return out


def _limit(value: int | str) -> int | None:
    return None if value == UNBOUNDED else int(value)


def _body(nodes: list[Any], segments: dict[str, SegmentDef], where: str) -> tuple[BodyNode, ...]:
    out: list[BodyNode] = []
    for node in nodes:
        if isinstance(node, dict):
            children = _body(node["children"], segments, where)
            out.append(LoopDef(node["loop"], node["req"], _limit(node["repeat"]), children))
            continue
        seg_id, requirement, max_use = node
        found = segments.get(seg_id)
        if found is None:
            raise SpecInvalid(f"{where} uses segment {seg_id}, which is not in the segment dictionary")
        out.append(SegmentUse(found, requirement, _limit(max_use)))
    return tuple(out)


@lru_cache(maxsize=64)
def _set(set_id: str, version: str) -> TransactionSetDef | None:
    path = DATA_DIR / "sets" / f"{set_id}.{version}.json"
    if not path.is_file():
        return None
    raw = _read(f"sets/{set_id}.{version}.json")
    body = _body(raw["body"], _segments(version), f"{set_id}/{version}")
    return TransactionSetDef(raw["set_id"], raw["version"], raw["name"], raw["functional_id"], body)


@lru_cache(maxsize=1)
def supported_sets() -> tuple[tuple[str, str], ...]:
    """Every ``(set_id, version)`` that has a definition, sorted."""
    found = []
    for path in (DATA_DIR / "sets").glob("*.json"):
        set_id, version = path.stem.split(".")
        found.append((set_id, version))
    return tuple(sorted(found))


def resolve_version(version: str) -> tuple[str, bool, str | None]:
    """Map a GS08 version to the defined version used to validate it.

    ``004010``, ``004010VICS`` and ``004010X098A1`` are 004010 exactly (an industry or
    implementation suffix does not change the standard); other 002/003/004 releases use 004010
    and 005/006+ releases use 005010, with a note.

    Args:
        version: GS08 (version / release / industry identifier code).

    Returns:
        ``(defined version, exact, note)``; ``note`` is ``None`` when exact.
    """
    base = version[:6]
    if base in DEFINED_VERSIONS:
        return base, True, None
    if len(base) == 6 and base.isascii() and base.isdigit():  # not "²04010": int() refuses it
        nearest = BASE_VERSION if int(base[:3]) <= 4 else "005010"
        return nearest, False, f"version {version} is not defined here; validated against {nearest}"
    return BASE_VERSION, False, f"version {version!r} is not an X12 version; validated against {BASE_VERSION}"


@lru_cache(maxsize=256)
def load_definition(set_id: str, version: str) -> DefinitionLookup:
    """The definition of a transaction set for a group version, or the nearest one.

    Args:
        set_id: ST01, e.g. ``"850"``.
        version: GS08, e.g. ``"004010"``, ``"004030VICS"``, ``"003040"``, ``"005010X231A1"``.

    Returns:
        A :class:`DefinitionLookup`; its ``definition`` is ``None`` when the set is defined in
        no version (AK5 code 1). A set defined only in another version (999 asked for in
        004010) is answered with that version and a note.
    """
    nearest, exact, note = resolve_version(version)
    found = _set(set_id, nearest)
    if found is not None:
        return DefinitionLookup(found, exact, note, version)
    for other in DEFINED_VERSIONS:
        found = _set(set_id, other)
        if found is not None:
            why = f"transaction set {set_id} is not defined in {nearest}; validated against {other}"
            return DefinitionLookup(found, False, why, version)
    return DefinitionLookup(None, False, f"transaction set {set_id!r} is not supported", version)


def element(ref: str, version: str = BASE_VERSION) -> ElementDef | None:
    """The dictionary entry of data element ``ref`` (``"353"``) in ``version``, or ``None``."""
    return _elements(resolve_version(version)[0]).get(ref)


def composite(ref: str, version: str = BASE_VERSION) -> CompositeDef | None:
    """The composite ``ref`` (``"C001"``) in ``version``, or ``None``."""
    return _composites(resolve_version(version)[0]).get(ref)


def segment(segment_id: str, version: str = BASE_VERSION) -> SegmentDef | None:
    """The segment dictionary entry for ``segment_id`` in ``version``, or ``None``."""
    return _segments(resolve_version(version)[0]).get(segment_id)


@lru_cache(maxsize=4)
def known_segment_ids(version: str = BASE_VERSION) -> frozenset[str]:
    """Every segment id of the release (including those no supported set uses)."""
    raw = _read("segment_ids.json")
    ids = set(raw[BASE_VERSION].split())
    if resolve_version(version)[0] == "005010":
        ids.update(raw["005010_added"].split())
        ids.difference_update(raw["005010_removed"].split())
    return frozenset(ids)
