"""pyx12 keeps its role: map directories generated from our definitions, and a runner.

pyx12 ships maps for healthcare sets only (plus 997 4010 / 999 5010); its engine is
transaction-agnostic, so :func:`write_pyx12_maps` writes a complete ``map_path`` directory from
:mod:`crossdock.schemas.x12.definitions`:

* ``maps.xml`` — keyed by ISA12 (00401/00501), GS08 and GS01, one entry per set and version
  plus any GS08 aliases the caller names (``004010VICS`` → the 004010 maps), under both ISA
  versions;
* ``x12.control.00401.xml`` / ``x12.control.00501.xml`` — pyx12's own control maps, with GS01
  opened to our functional ids and GS08 to any version;
* ``850.4010.xml``... — one map per set and version: the control loops around our set body;
* ``dataele.xml`` — pyx12's dictionary plus ours (ours wins); ``codes.xml`` — pyx12's.

Only closed code lists become ``valid_codes``: pyx12 treats every listed code as the whole list.
In 005010 a group ``FA`` with GS08 ``005010`` maps to the 997 and ``005010X231*`` to the 999
(pyx12 keys maps by GS01, which both share).

:func:`run_pyx12` runs ``pyx12.x12n_document`` with explicit parameters (it never reads
``~/.pyx12.conf.xml``) and returns the verdict per set from pyx12's error tree (the same codes
its 997/999 carries). pyx12 reads ISA12 00401/00501 ASCII interchanges only.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from crossdock.schemas.errors import ConfigurationInvalid, InputRejected
from crossdock.schemas.x12.definitions import (
    CompositeUse,
    ElementDef,
    LoopDef,
    SegmentDef,
    SegmentUse,
    TransactionSetDef,
    load_definition,
    resolve_version,
    segment,
    supported_sets,
)

__all__ = [
    "PYX12_INTERCHANGE_VERSIONS",
    "Pyx12Problem",
    "Pyx12SetVerdict",
    "Pyx12Verdict",
    "write_pyx12_maps",
    "run_pyx12",
]

#: ISA12 versions pyx12 reads, and the definition version each one's control map serves
PYX12_INTERCHANGE_VERSIONS: dict[str, str] = {"00401": "004010", "00501": "005010"}
_CONTROL_MAPS = {"00401": "x12.control.00401.xml", "00501": "x12.control.00501.xml"}
_USAGE = {"M": "R", "O": "S", "X": "S"}
_UNBOUNDED = ">1"
_FUNCTIONAL_ACK_999 = "005010X231"
_GS08 = re.compile(r"[A-Z0-9]{1,12}")
_LOG = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# writing maps


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = text
    return child


def _local_ref(seg: SegmentDef, position: int, component: int | None = None) -> str:
    """pyx12 needs a dictionary key for every element; elements without a recorded reference
    number get a local one (``ADV05``), used only inside the generated map directory."""
    return f"{seg.id}{position:02d}" + (f"-{component:02d}" if component else "")


def _element_xml(parent: ET.Element, xid: str, el: ElementDef, ref: str, usage: str, seq: int) -> None:
    node = ET.SubElement(parent, "element", xid=xid)
    _sub(node, "data_ele", ref)
    _sub(node, "name", el.name)
    _sub(node, "usage", usage)
    _sub(node, "seq", f"{seq:02d}")
    if el.codes_closed and el.codes:
        codes = ET.SubElement(node, "valid_codes")
        for code in sorted(el.codes):
            _sub(codes, "code", code)


def _segment_xml(parent: ET.Element, seg: SegmentDef, usage: str, pos: int, max_use: int | None) -> None:
    node = ET.SubElement(parent, "segment", xid=seg.id)
    _sub(node, "name", seg.name)
    _sub(node, "usage", usage)
    _sub(node, "pos", f"{pos:03d}")
    _sub(node, "max_use", str(max_use) if max_use is not None else _UNBOUNDED)
    for note in seg.syntax:
        _sub(node, "syntax", note.code)
    for use in seg.elements:
        xid = f"{seg.id}{use.position:02d}"
        if isinstance(use, CompositeUse):
            comp = ET.SubElement(node, "composite", xid=xid)
            _sub(comp, "data_ele", use.composite.ref)
            _sub(comp, "name", use.composite.name)
            _sub(comp, "usage", _USAGE[use.requirement])
            _sub(comp, "seq", f"{use.position:02d}")
            if use.repeat > 1:
                _sub(comp, "repeat", str(use.repeat))
            for c in use.composite.components:
                ref = c.element.ref or _local_ref(seg, use.position, c.position)
                _element_xml(comp, f"{xid}-{c.position:02d}", c.element, ref, _USAGE[c.requirement], c.position)
        else:
            ref = use.element.ref or _local_ref(seg, use.position)
            _element_xml(node, xid, use.element, ref, _USAGE[use.requirement], use.position)


def _body_xml(parent: ET.Element, nodes: Iterable[SegmentUse | LoopDef], start: int = 1) -> None:
    for pos, node in enumerate(nodes, start):
        if isinstance(node, LoopDef):
            loop = ET.SubElement(parent, "loop", xid=node.id, type="explicit")
            _sub(loop, "name", f"Loop {node.id}")
            _sub(loop, "usage", _USAGE[node.requirement])
            _sub(loop, "pos", f"{pos * 10:03d}")
            _sub(loop, "repeat", str(node.repeat) if node.repeat is not None else _UNBOUNDED)
            first = node.children[0]
            assert isinstance(first, SegmentUse)
            _segment_xml(loop, first.segment, "R", 10, 1)
            _body_xml(loop, node.children[1:], 2)
        else:
            _segment_xml(parent, node.segment, _USAGE[node.requirement], pos * 10, node.max_use)


def _st_loop(definition: TransactionSetDef, st: SegmentDef, se: SegmentDef) -> ET.Element:
    loop = ET.Element("loop", xid="ST_LOOP", type="explicit")
    _sub(loop, "name", f"Transaction Set {definition.set_id}")
    _sub(loop, "usage", "R")
    _sub(loop, "pos", "020")
    _sub(loop, "repeat", _UNBOUNDED)
    _segment_xml(loop, st, "R", 10, 1)
    st_set_id = loop.find("segment/element[@xid='ST01']")
    if st_set_id is not None:
        codes = ET.SubElement(st_set_id, "valid_codes")
        _sub(codes, "code", definition.set_id)
    _body_xml(loop, definition.body, 2)
    _segment_xml(loop, se, "R", (len(definition.body) + 2) * 10, 1)
    return loop


def _bundled(name: str) -> bytes:
    return files("pyx12").joinpath("map", name).read_bytes()


def _control_tree(isa_version: str, functional_ids: set[str]) -> ET.ElementTree:
    """pyx12's control map with GS01 accepting our functional ids and GS08 any version."""
    root = ET.fromstring(_bundled(_CONTROL_MAPS[isa_version]))
    for xid in ("GS01", "GS08"):
        element = root.find(f".//element[@xid='{xid}']")
        codes = element.find("valid_codes") if element is not None else None
        if codes is None:
            continue
        if xid == "GS08":
            element.remove(codes)  # type: ignore[union-attr]
            continue
        present = {c.text for c in codes.findall("code")}
        for fid in sorted(functional_ids - present):
            _sub(codes, "code", fid)
    return ET.ElementTree(root)


def _transaction_tree(control: ET.ElementTree, definition: TransactionSetDef) -> ET.ElementTree:
    root = ET.fromstring(ET.tostring(control.getroot()))
    root.set("xid", definition.set_id)
    name = root.find("name")
    if name is not None:
        name.text = f"{definition.name} {definition.set_id} ({definition.version})"
    gs_loop = root.find("loop/loop[@xid='GS_LOOP']")
    if gs_loop is None:
        raise ConfigurationInvalid("pyx12's control map has no GS_LOOP; cannot build maps")
    st, se = segment("ST", definition.version), segment("SE", definition.version)
    assert st is not None and se is not None
    children = list(gs_loop)
    gs_index = next(i for i, c in enumerate(children) if c.tag == "segment" and c.get("xid") == "GS")
    gs_loop.insert(gs_index + 1, _st_loop(definition, st, se))
    return ET.ElementTree(root)


def _dataele_tree(versions: Iterable[str]) -> ET.ElementTree:
    """pyx12's element dictionary with ours on top (types, lengths; local refs included)."""
    root = ET.fromstring(_bundled("dataele.xml"))
    by_ref = {e.get("ele_num"): e for e in root.iter("data_ele")}

    def put(ref: str, el: ElementDef) -> None:
        node = by_ref.get(ref)
        if node is None:
            node = by_ref[ref] = ET.SubElement(root, "data_ele")
        node.attrib.update(ele_num=ref, data_type=el.data_type, min_len=str(el.min_length), max_len=str(el.max_length), name=el.name)

    for version in versions:
        for set_id, defined in supported_sets():
            if defined != version:
                continue
            definition = load_definition(set_id, version).definition
            assert definition is not None
            for seg in _segments_of(definition):
                for use in seg.elements:
                    if isinstance(use, CompositeUse):
                        for c in use.composite.components:
                            put(c.element.ref or _local_ref(seg, use.position, c.position), c.element)
                    else:
                        put(use.element.ref or _local_ref(seg, use.position), use.element)
    return ET.ElementTree(root)


def _segments_of(definition: TransactionSetDef) -> list[SegmentDef]:
    out: list[SegmentDef] = []

    def walk(nodes: Iterable[SegmentUse | LoopDef]) -> None:
        for node in nodes:
            if isinstance(node, LoopDef):
                walk(node.children)
            else:
                out.append(node.segment)

    walk(definition.body)
    return out


def _map_file(set_id: str, version: str) -> str:
    return f"{set_id}.{version[2:6]}.xml"


def _maps_index(entries: list[tuple[str, str, str]]) -> ET.ElementTree:
    """Every (GS08, GS01) under both ISA versions: ISA12 does not decide the group's version
    (a 00401 interchange may carry a 005010 group), and pyx12 checks the ISA with the control
    map of the ISA's own version."""
    root = ET.Element("maps")
    for isa_version, control in _CONTROL_MAPS.items():
        node = ET.SubElement(root, "version", icvn=isa_version)
        for vriic, fic, map_file in entries:
            ET.SubElement(node, "map", vriic=vriic, fic=fic, abbr=map_file.split(".")[0]).text = map_file
        ET.SubElement(node, "map", vriic="", fic="", abbr="X12").text = control
    return ET.ElementTree(root)


def _map_for(version: str, functional_id: str, gs08: str, sets: dict[tuple[str, str], str]) -> str | None:
    """The map file serving (GS08, GS01) among ``sets`` ((version, fid) -> set id)."""
    if functional_id == "FA" and version == "005010":
        return _map_file("999" if gs08.startswith(_FUNCTIONAL_ACK_999) else "997", version)
    set_id = sets.get((version, functional_id))
    return _map_file(set_id, version) if set_id else None


def write_pyx12_maps(directory: str | os.PathLike[str], *, gs08_aliases: Iterable[str] = ()) -> Path:
    """Write a pyx12 ``map_path`` directory generated from our definitions.

    Args:
        directory: where to write (created if missing; existing map files are replaced).
        gs08_aliases: further GS08 values to route (pyx12 matches GS08 exactly), e.g.
            ``"004010VICS"`` or ``"003040"``: each uses the nearest defined version's maps.
            Values that are not a valid GS08 (1-12 upper-case letters and digits) are ignored.

    Returns:
        The directory, ready to pass as ``map_path``.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    by_version_fid: dict[tuple[str, str], str] = {}
    functional_ids: set[str] = set()
    for set_id, version in supported_sets():
        definition = load_definition(set_id, version).definition
        assert definition is not None
        functional_ids.add(definition.functional_id)
        if set_id not in ("997", "999"):
            by_version_fid[(version, definition.functional_id)] = set_id
    by_version_fid[("004010", "FA")] = "997"
    entries: list[tuple[str, str, str]] = []
    for isa_version, version in PYX12_INTERCHANGE_VERSIONS.items():
        control = _control_tree(isa_version, functional_ids)
        control.write(target / _CONTROL_MAPS[isa_version], encoding="utf-8", xml_declaration=True)
        for set_id, defined in supported_sets():
            if defined != version:
                continue
            definition = load_definition(set_id, version).definition
            assert definition is not None
            _transaction_tree(control, definition).write(target / _map_file(set_id, version), encoding="utf-8", xml_declaration=True)
        aliases = (a for a in gs08_aliases if _GS08.fullmatch(a) and resolve_version(a)[0] == version)
        gs08_values = {version, *aliases}
        if version == "005010":
            gs08_values.add(_FUNCTIONAL_ACK_999 + "A1")
        for gs08 in sorted(gs08_values):
            for fid in sorted(functional_ids):
                map_file = _map_for(version, fid, gs08, by_version_fid)
                if map_file is not None:
                    entries.append((gs08, fid, map_file))
    _maps_index(entries).write(target / "maps.xml", encoding="utf-8", xml_declaration=True)
    _dataele_tree(PYX12_INTERCHANGE_VERSIONS.values()).write(target / "dataele.xml", encoding="utf-8", xml_declaration=True)
    (target / "codes.xml").write_bytes(_bundled("codes.xml"))
    _LOG.debug("pyx12 maps written: %d map entries", len(entries))
    return target


# ---------------------------------------------------------------------------------------------
# running pyx12


@dataclass(frozen=True, slots=True)
class Pyx12Problem:
    """One error pyx12 reported: its level, code and where."""

    level: str
    code: str
    message: str
    segment_id: str | None = None
    segment_position: int | None = None
    element_position: int | None = None
    component_position: int | None = None
    element_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Pyx12SetVerdict:
    """pyx12's verdict on one transaction set.

    Attributes:
        status: the AK5/IK5 acknowledgement code pyx12 derives (``A``, ``E`` or ``R``).
        problems: set, segment and element errors, in pyx12's order.
    """

    group_control_number: str
    set_id: str
    control_number: str
    status: str
    problems: tuple[Pyx12Problem, ...]

    @property
    def accepted(self) -> bool:
        return self.status in ("A", "E")

    def codes(self, level: str) -> tuple[str, ...]:
        """Sorted distinct codes of one level."""
        return tuple(sorted({p.code for p in self.problems if p.level == level}))


@dataclass(frozen=True, slots=True)
class Pyx12Verdict:
    """The outcome of :func:`run_pyx12` on one file.

    Attributes:
        valid: pyx12's own return value (no error anywhere).
        sets: per-set verdicts, in file order.
        envelope_problems: interchange and group level errors.
        ack: the 997/999 pyx12 wrote (empty for FA groups, which pyx12 does not acknowledge).
        error: set when pyx12 could not process the file at all (e.g. no map).
    """

    valid: bool
    sets: tuple[Pyx12SetVerdict, ...] = ()
    envelope_problems: tuple[Pyx12Problem, ...] = ()
    ack: str = ""
    error: str | None = None


def _problems(level: str, raw: list[dict[str, Any]], **where: Any) -> list[Pyx12Problem]:
    return [Pyx12Problem(level, str(e["err_cde"]), str(e["err_str"]), **where) for e in raw]


def _set_verdict(group: dict[str, Any], st: dict[str, Any]) -> Pyx12SetVerdict:
    problems = _problems("set", st["errors"])
    for seg in st["segments"]:
        where = {"segment_id": seg["seg_id"], "segment_position": seg["seg_count"]}
        problems += _problems("segment", seg["errors"], **where)
        for el in seg["elements"]:
            problems += _problems(
                "element",
                el["errors"],
                element_position=el["ele_pos"],
                component_position=el["subele_pos"],
                element_ref=el["ele_ref_num"],
                **where,
            )
    return Pyx12SetVerdict(str(group["gs_control_num"]), str(st["trn_set_id"]), str(st["trn_set_control_num"]), str(st["ack_code"]), tuple(problems))


def _verdict_from_json(valid: bool, text: str, ack: str) -> Pyx12Verdict:
    doc = json.loads(text) if text.strip() else {"interchanges": []}
    sets: list[Pyx12SetVerdict] = []
    envelope: list[Pyx12Problem] = []
    for isa in doc["interchanges"]:
        envelope += _problems("interchange", isa["errors"])
        for group in isa["groups"]:
            envelope += _problems("group", group["errors"])
            sets.extend(_set_verdict(group, st) for st in group["transactions"])
    return Pyx12Verdict(valid, tuple(sets), tuple(envelope), ack)


def _source_text(source: bytes | str | os.PathLike[str]) -> str:
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise InputRejected("pyx12 reads ASCII interchanges only", code="ENCODING_UNSUPPORTED") from exc


def run_pyx12(source: bytes | str | os.PathLike[str], map_path: str | os.PathLike[str]) -> Pyx12Verdict:
    """Validate with ``pyx12.x12n_document`` against a map directory.

    Args:
        source: the interchange bytes, or a path to them (ASCII; ISA12 00401 or 00501).
        map_path: a directory written by :func:`write_pyx12_maps`.

    Returns:
        A :class:`Pyx12Verdict`; pyx12 failures (no map, unreadable file) become ``error``.

    Raises:
        InputRejected: the bytes are not ASCII (pyx12 would fail on them).
    """
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    text = _source_text(source)
    params = pyx12.params.ParamsBase()  # the base class reads no configuration file
    params.set("charset", "E")
    params.set("map_path", str(map_path))
    ack_out, json_out = io.StringIO(), io.StringIO()
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=params,
            src_file=io.StringIO(text),
            fd_997=ack_out,
            fd_html=None,
            fd_json=json_out,
            map_path=str(map_path),
        )
    except Exception as exc:  # noqa: BLE001  pyx12 fails with anything (EngineError, IndexError...) on bad input
        return Pyx12Verdict(False, error=f"{type(exc).__name__}: {exc}")
    return _verdict_from_json(bool(valid), json_out.getvalue(), ack_out.getvalue())
