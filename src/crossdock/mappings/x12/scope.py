"""X12 implementations of the engine's protocols: :class:`X12Scope` (inbound) and :class:`X12Builder` (outbound).

Inbound, a scope is one loop instance of the grouped tree (:mod:`.loops`). Reading a path takes
the first matching segment whose elements are still unconsumed; consumption is tracked per
element (per component for composites), so whatever no rule took is reported by
:meth:`X12Scope.unmapped` as JSON entries::

    ["MSG", ["free text"], 5]                    whole segment, at item index 5 of its loop
    ["BEG", [null, null, null, null, null, "X"], 0, "merge"]   leftover elements of the 1st (0) BEG
    ["loop", [["N9", ["ZZ", "1"]], ["MSG", ["x"]]], 7]        a whole loop instance no rule entered

Element values are strings, lists (composites) or ``{"repeat": [...]}`` (repetitions).
Outbound, :meth:`X12Builder.restore` puts the entries back at the same places, so
X12 -> canonical -> X12 keeps partner data that has no canonical home.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Union

from crossdock.mappings.x12.loops import LoopShape, Node
from crossdock.mappings.x12.paths import Step, parse_path
from crossdock.mappings.x12.elements import element_type, format_value
from crossdock.schemas.x12.tree import Composite, Repeats, Segment, Value

__all__ = ["X12Scope", "X12Builder", "element_to_json", "element_from_json", "path_types"]

_CLAIMED = 0      # key: a segment-level rule took the segment (its leftovers still count)
_WHOLE = -1       # key: a collect rule took the whole segment
_HL_STRUCTURE = (1, 2, 3, 4)


def element_to_json(value: Value) -> Any:
    """A tree element as JSON: str, list of components, or ``{"repeat": [...]}``."""
    if isinstance(value, Repeats):
        return {"repeat": [element_to_json(v) for v in value]}
    if isinstance(value, Composite):
        return list(value)
    return value


def element_from_json(value: Any) -> Value:
    """Inverse of :func:`element_to_json`."""
    if isinstance(value, dict):
        return Repeats(element_from_json(v) for v in value.get("repeat", ()))
    if isinstance(value, list):
        return Composite(str(v) for v in value)
    return "" if value is None else str(value)


def _text(value: Value, component: int | None) -> str:
    if isinstance(value, Repeats):
        value = value[0] if value else ""
    if isinstance(value, Composite):
        index = (component or 1) - 1
        return value[index] if index < len(value) else ""
    return value if component in (None, 1) else ""


@lru_cache(maxsize=4096)
def path_types(path: str, version: str) -> tuple[str | None, ...]:
    """X12 data type of each element a path reads (``None`` where the definitions do not say)."""
    parsed = parse_path(path)
    kinds = (element_type(parsed.step.segment, p, version, parsed.component) for p in parsed.positions)
    return tuple(k.data_type if k else None for k in kinds) or (None,)


class _Run:
    """Per-document consumption state (created per call, never shared)."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.consumed: dict[tuple[int, int], set[Any]] = {}
        self.entered: set[int] = set()
        self._index: dict[int, dict[str, list[int]]] = {}

    def index(self, node: Node) -> dict[str, list[int]]:
        """Positions of each segment id among a node's items (built once per node)."""
        found = self._index.get(id(node))
        if found is None:
            found = {}
            for position, item in enumerate(node.items):
                if isinstance(item, Segment):
                    found.setdefault(item.id, []).append(position)
            self._index[id(node)] = found
        return found


class X12Scope:
    """One loop instance (or, for segment-level rules, one segment) of an X12 set, inbound."""

    def __init__(self, node: Node, run: _Run, loc: tuple[str | int, ...] = (), only: int | None = None) -> None:
        self.node = node
        self.run = run
        self.loc = loc
        self.only = only

    @classmethod
    def root(cls, node: Node, version: str) -> X12Scope:
        """The scope of a whole grouped transaction body."""
        return cls(node, _Run(version))

    def _keys(self, index: int) -> set[Any]:
        return self.run.consumed.setdefault((id(self.node), index), set())

    def _segments(self, step: Step) -> Iterator[tuple[int, Segment]]:
        indexes = self.run.index(self.node).get(step.segment, ()) if self.only is None else (self.only,)
        for index in indexes:
            item = self.node.items[index]
            if isinstance(item, Segment) and step.matches(item.id, item.elements):
                yield index, item

    def types(self, path: str) -> tuple[str | None, ...]:
        return path_types(path, self.run.version)

    def read(self, path: str) -> tuple[Any, tuple[str | None, ...], object] | None:
        parsed = parse_path(path)
        positions = parsed.positions
        keys = [(p, parsed.component) if parsed.component else p for p in positions]
        for index, segment in self._segments(parsed.step):
            taken = self._keys(index)
            if self.only is None and (_WHOLE in taken or any(k in taken for k in keys)):
                continue
            values = tuple(_text(segment.elements[p - 1], parsed.component) if p <= len(segment.elements) else ""
                           for p in positions)
            if parsed.step.qualifier is not None:
                keys.append(parsed.step.qualifier.position)
            raw: Any = values if parsed.last else (values[0] if values else "")
            return raw, self.types(path), (index, tuple(keys))
        return None

    def consume(self, token: object) -> None:
        if isinstance(token, list):  # from collect(): whole segments
            for index in token:
                self._keys(index).add(_WHOLE)
            return
        index, keys = token  # type: ignore[misc]
        self._keys(index).update(keys)

    def each(self, path: str) -> Iterator[X12Scope]:
        step = parse_path(path).step
        if self.node.shape.child(step.segment) is not None:
            count = 0
            for item in self.node.items:
                head = item.head if isinstance(item, Node) else None
                if head is not None and id(item) not in self.run.entered and step.matches(head.id, head.elements):
                    self.run.entered.add(id(item))
                    if item.shape.hierarchical:
                        # HL01/HL02/HL04 are recomputed from the nesting; HL03 is the rule's qualifier
                        self.run.consumed.setdefault((id(item), 0), set()).update(_HL_STRUCTURE)
                    count += 1
                    yield X12Scope(item, self.run, self.loc + (step.segment, count))
            return
        for index, _segment in list(self._segments(step)):
            taken = self._keys(index)
            if taken:
                continue
            taken.add(_CLAIMED)
            yield X12Scope(self.node, self.run, self.loc + (step.segment, index + 1), only=index)

    def collect(self, path: str) -> tuple[list[tuple[Any, ...]], object]:
        step = parse_path(path).step
        found = [(i, s) for i, s in self._segments(step) if not self._keys(i)]
        return [s.elements for _, s in found], [i for i, _ in found]

    def unmapped(self) -> list[Any]:
        if self.only is not None:
            return []
        entries: list[Any] = []
        for index, item in enumerate(self.node.items):
            if isinstance(item, Node):
                if id(item) not in self.run.entered:
                    entries.append(["loop", [[s.id, [element_to_json(e) for e in s.elements]]
                                             for s in _all_segments(item)], index])
                continue
            entry = self._leftover(index, item)
            if entry is not None:
                entries.append(entry)
        return entries

    def _leftover(self, index: int, segment: Segment) -> list[Any] | None:
        keys = self.run.consumed.get((id(self.node), index), set())
        if _WHOLE in keys:
            return None
        if not keys:
            return [segment.id, [element_to_json(e) for e in segment.elements], index]
        leftover: list[Any] = []
        # merges are placed by ordinal among same-id segments, which outbound rules keep stable
        ordinal = sum(1 for item in self.node.items[:index] if isinstance(item, Segment) and item.id == segment.id)
        for position, value in enumerate(segment.elements, start=1):
            taken = _taken(value, position, keys)
            leftover.append(None if taken or value == "" else element_to_json(value))
        while leftover and leftover[-1] is None:
            leftover.pop()
        return [segment.id, leftover, ordinal, "merge"] if leftover else None


def _taken(value: Value, position: int, keys: set[Any]) -> bool:
    if position in keys:
        return isinstance(value, str) or (isinstance(value, Composite) and len(value) <= 1)
    if isinstance(value, Composite):
        return all(c == "" or (position, n) in keys for n, c in enumerate(value, start=1))
    return isinstance(value, str) and (position, 1) in keys


def _all_segments(node: Node) -> Iterator[Segment]:
    for item in node.items:
        if isinstance(item, Node):
            yield from _all_segments(item)
        else:
            yield item


class _Seg:
    """A segment under construction: id and a growable element list."""

    __slots__ = ("id", "elements")

    def __init__(self, segment_id: str, elements: list[Value] | None = None) -> None:
        self.id = segment_id
        self.elements: list[Value] = elements or []

    def set(self, position: int, value: Value, component: int | None = None) -> None:
        while len(self.elements) < position:
            self.elements.append("")
        if component is None:
            self.elements[position - 1] = value
            return
        current = self.elements[position - 1]
        parts = list(current) if isinstance(current, Composite) else ([current] if current else [])
        parts += [""] * (component - len(parts))
        parts[component - 1] = str(value)
        self.elements[position - 1] = Composite(parts)

    def matches(self, step: Step) -> bool:
        return step.matches(self.id, tuple(self.elements))

    def segment(self) -> Segment:
        # a composite written through one component path stays a simple element when alone
        elements = [e[0] if isinstance(e, Composite) and len(e) == 1 else e for e in self.elements]
        while elements and elements[-1] in ("", Composite(), Repeats()):
            elements.pop()
        return Segment(self.id, tuple(elements))


class X12Builder:
    """One loop instance (or one segment, for segment-level rules) of an X12 set, outbound."""

    def __init__(self, shape: LoopShape, version: str, only: _Seg | None = None,
                 parent: X12Builder | None = None) -> None:
        self.shape = shape
        self.version = version
        self.items: list[Union[_Seg, X12Builder, _RawLoop]] = []
        self.only = only
        self.parent = parent
        self._restored = False

    def types(self, path: str) -> tuple[str | None, ...]:
        return path_types(path, self.version)

    def _find(self, step: Step) -> _Seg:
        if self.only is not None:
            return self.only
        for item in self.items:
            if isinstance(item, _Seg) and item.matches(step):
                return item
        return self._new(step)

    def _new(self, step: Step) -> _Seg:
        created = _Seg(step.segment)
        if step.qualifier is not None:
            created.set(step.qualifier.position, step.qualifier.codes[0])
        self.items.append(created)
        return created

    def write(self, path: str, value: Any) -> None:
        parsed = parse_path(path)
        if self.only is not None and parsed.step.segment != self.only.id and self.parent is not None:
            self.parent.write(path, value)
            return
        target = self._find(parsed.step)
        values = tuple(value) if parsed.last else (value,)
        for position, item in zip(parsed.positions, values):
            if item is None:
                continue
            kind = element_type(parsed.step.segment, position, self.version, parsed.component)
            text = item if isinstance(item, (Composite, Repeats)) else format_value(item, kind)
            target.set(position, text, parsed.component)

    def child(self, path: str) -> X12Builder:
        step = parse_path(path).step
        loop = self.shape.child(step.segment)
        if loop is None:
            return X12Builder(self.shape, self.version, self._new(step), self)
        child = X12Builder(loop, self.version, parent=self)
        child._new(step)
        self.items.append(child)
        return child

    def write_segments(self, path: str, rows: list[tuple[Any, ...]]) -> None:
        step = parse_path(path).step
        for row in rows:
            created = _Seg(step.segment)
            for position, item in enumerate(row, start=1):
                if item is not None and item != "":
                    kind = element_type(step.segment, position, self.version)
                    created.set(position, item if isinstance(item, (Composite, Repeats)) else format_value(item, kind))
            self.items.append(created)

    def _item_id(self, item: Union[_Seg, X12Builder, _RawLoop]) -> str:
        if isinstance(item, _Seg):
            return item.id
        if isinstance(item, X12Builder):
            return item.shape.trigger
        return item.segments[0].id if item.segments else ""

    def _sort(self) -> None:
        # rules write in table order; the standard's order is the loop shape's, and the same
        # order a conforming inbound file had, so unmapped entries find their original index
        self.items.sort(key=self._rank)

    def _rank(self, item: Union[_Seg, X12Builder, _RawLoop]) -> int:
        if isinstance(item, X12Builder) and item.shape is self.shape:
            return len(self.shape.order) + 1  # nested HL levels follow the level's own segments
        return self.shape.rank(self._item_id(item))

    def restore(self, entries: list[Any]) -> None:
        self._sort()
        self._restored = True
        inserts = sorted((e for e in entries if _is_insert(e)), key=lambda e: e[2])
        for entry in inserts:
            at = min(int(entry[2]), len(self.items))
            if entry[0] == "loop":
                self.items.insert(at, _RawLoop([_Seg(str(i), [element_from_json(v) for v in els])
                                                for i, els in entry[1]]))
            else:
                self.items.insert(at, _Seg(str(entry[0]), [element_from_json(v) for v in entry[1]]))
        merged: set[int] = set()
        for entry in entries:
            if isinstance(entry, list) and len(entry) == 4 and entry[3] == "merge":
                self._merge(entry, merged)

    def _merge(self, entry: list[Any], merged: set[int]) -> None:
        segment_id, elements, ordinal = str(entry[0]), entry[1], int(entry[2])
        candidates = [i for i, item in enumerate(self.items) if isinstance(item, _Seg) and item.id == segment_id]
        index = candidates[ordinal] if ordinal < len(candidates) and candidates[ordinal] not in merged \
            else next((i for i in candidates if i not in merged), None)
        if index is None:
            self.items.append(_Seg(segment_id, [element_from_json(v) for v in elements]))
            return
        merged.add(index)
        target = self.items[index]
        for position, value in enumerate(elements, start=1):
            if value is not None and isinstance(target, _Seg):
                target.set(position, element_from_json(value))

    def node(self) -> Node:
        """The built loop instance as a :class:`Node` tree (for :func:`~.loops.flatten`)."""
        if not self._restored:
            self._sort()
        items: list[Union[Segment, Node]] = []
        for item in self.items:
            if isinstance(item, _Seg):
                items.append(item.segment())
            elif isinstance(item, _RawLoop):
                items.extend(s.segment() for s in item.segments)
            else:
                items.append(item.node())
        return Node(self.shape, items)


class _RawLoop:
    """A loop instance restored verbatim from ``unmapped`` (no rule entered it)."""

    def __init__(self, segments: list[_Seg]) -> None:
        self.segments = segments


def _is_insert(entry: Any) -> bool:
    return isinstance(entry, list) and len(entry) == 3 and isinstance(entry[2], int)
