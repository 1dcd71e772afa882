"""Inbound X12 mapping, compiled: a spec's rule tables turned once into fast readers.

:func:`compile_inbound` turns a :class:`~crossdock.mappings.spec.DocumentSpec` (rules stay data)
into a :class:`CompiledSpec` for one X12 version: every source path parsed once, element types
and transforms bound once, targets split once, and for every rule table a plan cache that, given
the segment ids present in a loop instance, lists only the rules that can find something there
(plus those with a default or ``required``). Reading a set is then one grouping pass
(:func:`~crossdock.mappings.x12.loops.group`) and one walk of the rules over the grouped tree.

The result is the same as the generic engine with :class:`~crossdock.mappings.x12.scope.X12Scope`
(rules run in table order, the first unconsumed matching segment wins, consumption is tracked per
element and component, whatever no rule took is reported in ``extensions``), which stays the
reference implementation: a test compares the two on every golden case and corpus file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from typing import Any

from crossdock.mappings.engine import EXTENSION_KEY
from crossdock.mappings.spec import Collect, Const, DocumentSpec, Each, Field, One, Rule, Rules
from crossdock.mappings.transforms import TransformContext, TransformFailed, get_transform
from crossdock.mappings.x12.loops import Node, group
from crossdock.mappings.x12.paths import Qualifier, parse_path
from crossdock.mappings.x12.scope import element_to_json, path_types
from crossdock.schemas.errors import Issue
from crossdock.schemas.x12.tree import Composite, Repeats, Segment

__all__ = ["CompiledSpec", "compile_inbound"]

_FORMAT = "x12"
_CLAIMED = 0      # key: a segment-level rule took the segment (its leftovers still count)
_WHOLE = -1       # key: a collect rule took the whole segment
_HL_STRUCTURE = frozenset((1, 2, 3, 4))
#: element numbers 1, 2, ... (longer than any segment), for picking the numbers of non-empty elements
_NUMBERS = range(1, 1 << 16)
_NO_HEADS: frozenset[str] = frozenset()
#: plans cached per rule table (distinct sets of segment ids seen); bounded against junk input
_MAX_PLANS = 256

Parse = Callable[[Any, TransformContext], Any]


def _plain(values: tuple[Any, ...]) -> bool:
    """Whether every element value is a string, not a composite or a repeat (the other two kinds
    of :data:`~crossdock.schemas.x12.tree.Value`): only strings join, at C speed."""
    try:
        "".join(values)
    except TypeError:
        return False
    return True


def _text(value: Any, component: int | None) -> str:
    if isinstance(value, Repeats):
        value = value[0] if value else ""
    if isinstance(value, Composite):
        index = (component or 1) - 1
        return value[index] if index < len(value) else ""
    return value if component in (None, 1) else ""


class _NodeState:
    """One loop instance being read: its items, where each segment id sits, what was consumed."""

    __slots__ = ("items", "index", "heads", "taken", "shape")

    def __init__(self, node: Node) -> None:
        self.shape = node.shape
        items = self.items = node.items
        index: dict[str, list[int]] = {}
        heads: set[str] | None = None  # most loop instances hold no loop: no set made for them
        for position, item in enumerate(items):
            if item.__class__ is Segment:
                found = index.get(item[0])
                if found is None:
                    index[item[0]] = [position]
                else:
                    found.append(position)
            else:
                head = item.items[0] if item.items else None  # type: ignore[union-attr]
                if head.__class__ is Segment:
                    if heads is None:
                        heads = set()
                    heads.add(head[0])  # type: ignore[index]
        self.index = index
        self.heads = _NO_HEADS if heads is None else frozenset(heads)
        #: consumption keys per item position (None: nothing consumed)
        self.taken: list[set[Any] | None] = [None] * len(items)

    def take(self, position: int, keys: frozenset[Any] | tuple[Any, ...]) -> None:
        current = self.taken[position]
        if current is None:
            self.taken[position] = set(keys)
        else:
            current.update(keys)


@dataclass(frozen=True, slots=True)
class _Source:
    """One parsed source path with everything reading it needs, resolved at compile time."""

    text: str
    segment: str
    qualifier: Qualifier | None
    positions: tuple[int, ...]
    component: int | None
    is_range: bool
    #: keys that block a read when already consumed, and the keys a read consumes
    keys: frozenset[Any]
    consumes: frozenset[Any]
    types: tuple[str | None, ...]
    #: the element position of a plain one-element path (no range, no component), else 0
    simple: int

    def read(self, state: _NodeState, only: int | None) -> tuple[Any, int] | None:
        """(raw value, item position) of the first matching unconsumed segment, or ``None``."""
        if only is None:
            positions = state.index.get(self.segment)
            if positions is None:
                return None
        elif state.items[only][0] == self.segment:  # type: ignore[index]
            positions = (only,)
        else:
            return None
        items, taken, qualifier = state.items, state.taken, self.qualifier
        for position in positions:
            elements = items[position][1]  # type: ignore[index]
            if qualifier is not None and not qualifier.matches(elements):
                continue
            if only is None:
                keys = taken[position]
                if keys is not None and (_WHOLE in keys or not self.keys.isdisjoint(keys)):
                    continue
            element = self.simple
            if element:
                raw = elements[element - 1] if element <= len(elements) else ""
                return (raw if raw.__class__ is str else _text(raw, None)), position
            return self.values(elements), position
        return None

    def values(self, elements: tuple[Any, ...]) -> Any:
        """The raw value (a tuple for a range) this path reads from a segment's elements."""
        count, component = len(elements), self.component
        if self.is_range:
            first, last = self.positions[0], self.positions[-1]
            values = elements[first - 1:last]
            if component is None and _plain(values):
                return values + ("",) * (last - first + 1 - len(values)) if len(values) <= last - first else values
            return tuple(_text(elements[p - 1], component) if p <= count else "" for p in self.positions)
        position = self.positions[0] if self.positions else 0
        if position == 0 or position > count:
            return ""
        value = elements[position - 1]
        if value.__class__ is str:
            return value if component is None or component == 1 else ""
        return _text(value, component)


def _source(text: str, version: str) -> _Source:
    parsed = parse_path(text)
    component = parsed.component
    keys = frozenset((p, component) if component else p for p in parsed.positions)
    qualifier = parsed.step.qualifier
    consumes = keys | {qualifier.position} if qualifier is not None else keys
    simple = parsed.element or 0 if parsed.last is None and component is None else 0
    return _Source(text, parsed.step.segment, qualifier, parsed.positions, component, parsed.last is not None,
                   keys, consumes, path_types(text, version), simple)


def _targets(names: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], str], ...]:
    out = []
    for name in names:
        *parents, last = name.split(".")
        out.append((tuple(parents), last))
    return tuple(out)


def _put(data: dict[str, Any], parents: tuple[str, ...], last: str, value: Any) -> None:
    for name in parents:
        data = data.setdefault(name, {})
    data[last] = value


class _Reader:
    """Per-set state of one read: issues, the entered loop instances, the transform context."""

    __slots__ = ("issues", "entered", "ctx")

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.entered: set[int] = set()
        #: one context reused by every transform call of this read (transforms never keep it)
        self.ctx = TransformContext((), self.issues, ())


# --- compiled rules --------------------------------------------------------------------------------


class _Rule:
    """Base of the compiled rules: the segment ids a rule reads, and whether it runs when absent."""

    __slots__ = ("ids", "always")

    def read(self, reader: _Reader, state: _NodeState, only: int | None, loc: tuple[Any, ...],
             data: dict[str, Any]) -> None:
        raise NotImplementedError


class _Const(_Rule):
    __slots__ = ("parents", "last", "value")

    def __init__(self, rule: Const) -> None:
        self.ids, self.always = frozenset(), True
        ((self.parents, self.last),) = _targets((rule.target,))
        self.value = rule.value

    def read(self, reader: _Reader, state: _NodeState, only: int | None, loc: tuple[Any, ...],
             data: dict[str, Any]) -> None:
        _put(data, self.parents, self.last, self.value)


class _Field(_Rule):
    __slots__ = ("sources", "single", "types", "strings", "parses", "targets", "target", "default", "required",
                 "label", "first")

    def __init__(self, rule: Field, version: str) -> None:
        self.sources = tuple(_source(s, version) for s in rule.sources)
        self.single = self.sources[0] if len(self.sources) == 1 else None
        #: element types of all sources together (what transforms see when every source is found)
        self.types = tuple(t for source in self.sources for t in source.types)
        self.strings = not any(source.is_range for source in self.sources)
        self.first = self.sources[0].text
        self.ids = frozenset(s.segment for s in self.sources)
        self.parses: tuple[Parse, ...] = tuple(get_transform(name).parse for name in rule.transforms)
        self.targets = _targets(rule.targets)
        self.target = self.targets[0] if len(self.targets) == 1 else None
        self.default, self.required = rule.default, rule.required
        self.always = rule.default is not None or rule.required
        self.label = "/".join(rule.targets)

    def read(self, reader: _Reader, state: _NodeState, only: int | None, loc: tuple[Any, ...],
             data: dict[str, Any]) -> None:
        source = self.single
        if source is None:
            value = self._read_many(reader, state, only, loc)
            if value is _FAILED:
                return
        else:
            # the hot path of every mapping, kept flat: find, extract, transform, consume
            value = None
            segment = source.segment
            if only is None:
                positions = state.index.get(segment)
            else:
                positions = (only,) if state.items[only][0] == segment else None  # type: ignore[index]
            if positions is not None:
                items, taken, qualifier = state.items, state.taken, source.qualifier
                for position in positions:
                    elements = items[position][1]  # type: ignore[index]
                    if qualifier is not None and not qualifier.matches(elements):
                        continue
                    keys = taken[position]
                    if only is None and keys is not None and (_WHOLE in keys or not source.keys.isdisjoint(keys)):
                        continue
                    element = source.simple
                    if element:
                        raw = elements[element - 1] if element <= len(elements) else ""
                        if raw.__class__ is not str:
                            raw = _text(raw, None)
                        present = raw != ""
                    else:
                        raw = source.values(elements)
                        present = any(raw) if raw.__class__ is tuple else raw != ""
                    if present:
                        value = self._transform(raw, source.types, reader, loc) if self.parses else raw
                        if value is _FAILED:
                            return
                        if value is not None:
                            if keys is None:
                                taken[position] = set(source.consumes)
                            else:
                                keys.update(source.consumes)
                    break
        if value is None:
            value = self.default
            if value is None:
                if self.required:
                    reader.issues.append(Issue("MISSING_REQUIRED", f"{self.label} is required",
                                               loc + (self.first,)))
                return
        target = self.target
        if target is not None:
            if target[0]:
                _put(data, target[0], target[1], value)
            else:
                data[target[1]] = value
            return
        for (parents, last), item in zip(self.targets, value):
            if item is not None:
                _put(data, parents, last, item)

    def _read_many(self, reader: _Reader, state: _NodeState, only: int | None,
                   loc: tuple[Any, ...]) -> Any:
        found = [source.read(state, only) for source in self.sources]
        raws = tuple(f[0] if f is not None else "" for f in found)
        # without ranges every raw value is a string, and any() alone tells whether one was sent
        if not (any(raws) if self.strings else any(r if r.__class__ is str else any(r) for r in raws)):
            return None
        if None in found:
            types: tuple[str | None, ...] = ()
            for source, f in zip(self.sources, found):
                types += source.types if f is not None else (None,)
        else:
            types = self.types
        value = self._transform(raws, types, reader, loc) if self.parses else raws
        if value is not None and value is not _FAILED:
            for source, f in zip(self.sources, found):
                if f is not None:
                    state.take(f[1], source.consumes)
        return value

    def _transform(self, value: Any, types: tuple[str | None, ...], reader: _Reader,
                   loc: tuple[Any, ...]) -> Any:
        where = loc + (self.first,)
        ctx = reader.ctx
        ctx.loc, ctx.element_types = where, types
        try:
            for parse in self.parses:
                value = parse(value, ctx)
        except TransformFailed as exc:
            reader.issues.append(Issue(exc.code, exc.message, where, "error" if self.required else "warning",
                                       None if exc.value is None else str(exc.value)[:80]))
            return _FAILED
        return value


#: marker for "a transform rejected the value" (distinct from a transform returning ``None``)
_FAILED = object()


class _Collect(_Rule):
    __slots__ = ("segment", "qualifier", "parse", "parents", "last", "source")

    def __init__(self, rule: Collect) -> None:
        step = parse_path(rule.source).step
        self.segment, self.qualifier, self.source = step.segment, step.qualifier, rule.source
        self.ids, self.always = frozenset((step.segment,)), False
        self.parse = get_transform(rule.transform).parse
        ((self.parents, self.last),) = _targets((rule.target,))

    def read(self, reader: _Reader, state: _NodeState, only: int | None, loc: tuple[Any, ...],
             data: dict[str, Any]) -> None:
        positions = _positions(state, only, self.segment)
        taken, items, qualifier = state.taken, state.items, self.qualifier
        found = [p for p in positions if not taken[p]
                 and (qualifier is None or qualifier.matches(items[p][1]))]  # type: ignore[index]
        if not found:
            return
        ctx = TransformContext(loc + (self.source,), reader.issues)
        try:
            value = self.parse([items[p][1] for p in found], ctx)  # type: ignore[index]
        except TransformFailed as exc:
            reader.issues.append(Issue(exc.code, exc.message, ctx.loc, "warning"))
            return
        for position in found:
            state.take(position, (_WHOLE,))
        if value is not None:
            _put(data, self.parents, self.last, value)


def _positions(state: _NodeState, only: int | None, segment: str) -> list[int] | tuple[int, ...]:
    if only is None:
        return state.index.get(segment, ())
    return (only,) if state.items[only][0] == segment else ()  # type: ignore[index]


class _Nested(_Rule):
    """:class:`Each` / :class:`One`: a loop instance or a segment per element of the target."""

    __slots__ = ("segment", "qualifier", "table", "single", "required", "parents", "last", "target", "source")

    def __init__(self, rule: Each | One, table: _Table) -> None:
        step = parse_path(rule.source).step
        self.segment, self.qualifier, self.source = step.segment, step.qualifier, rule.source
        self.ids, self.always = frozenset((step.segment,)), rule.required
        self.table, self.single, self.required = table, isinstance(rule, One), rule.required
        self.target = rule.target
        ((self.parents, self.last),) = _targets((rule.target,))

    def read(self, reader: _Reader, state: _NodeState, only: int | None, loc: tuple[Any, ...],
             data: dict[str, Any]) -> None:
        shape = state.shape
        if (shape.hierarchical and self.segment == shape.trigger) or self.segment in shape.by_trigger:
            found = self._loops(reader, state, loc)
        else:
            found = self._segments(reader, state, only, loc)
        if found:
            _put(data, self.parents, self.last, found[0] if self.single else found)
        elif self.required:
            reader.issues.append(Issue("MISSING_REQUIRED", f"{self.target} is required", loc + (self.source,)))

    def _loops(self, reader: _Reader, state: _NodeState, loc: tuple[Any, ...]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        entered, qualifier, segment = reader.entered, self.qualifier, self.segment
        for item in state.items:
            if item.__class__ is Segment:
                continue
            # a loop instance starts with its trigger segment (Node.head, without the call)
            head = item.items[0] if item.items else None  # type: ignore[union-attr]
            if head is None or head.__class__ is not Segment or head[0] != segment or id(item) in entered:
                continue
            if qualifier is not None and not qualifier.matches(head[1]):
                continue
            entered.add(id(item))
            child = _NodeState(item)  # type: ignore[arg-type]
            if child.shape.hierarchical:
                # HL01/HL02/HL04 are recomputed from the nesting; HL03 is the rule's qualifier
                child.take(0, _HL_STRUCTURE)
            found.append(self.table.read(reader, child, None, loc + (segment, len(found) + 1)))
            if self.single:
                break
        return found

    def _segments(self, reader: _Reader, state: _NodeState, only: int | None,
                  loc: tuple[Any, ...]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        taken, items, qualifier = state.taken, state.items, self.qualifier
        matching = [p for p in _positions(state, only, self.segment)
                    if qualifier is None or qualifier.matches(items[p][1])]  # type: ignore[index]
        for position in matching:
            if taken[position]:
                continue
            state.take(position, (_CLAIMED,))
            found.append(self.table.read(reader, state, position, loc + (self.segment, position + 1)))
            if self.single:
                break
        return found


# --- tables and plans --------------------------------------------------------------------------


class _Table:
    """A compiled rule table with its plan cache (rules worth running per set of present ids)."""

    __slots__ = ("rules", "plans")

    def __init__(self) -> None:
        self.rules: tuple[_Rule, ...] = ()
        self.plans: dict[Any, tuple[_Rule, ...]] = {}

    def _plan(self, key: Any, present: frozenset[str], width: int | None = None) -> tuple[_Rule, ...]:
        """Rules that can find data when ``present`` ids are there (and, for one segment of
        ``width`` elements, read an element within it)."""
        plan = tuple(r for r in self.rules if r.always or (
            not r.ids.isdisjoint(present) and (width is None or not isinstance(r, _Field) or any(
                s.segment in present and s.positions and s.positions[0] <= width for s in r.sources))))
        if len(self.plans) < _MAX_PLANS:
            self.plans[key] = plan
        return plan

    def read(self, reader: _Reader, state: _NodeState, only: int | None, loc: tuple[Any, ...]) -> dict[str, Any]:
        """Apply the table to a loop instance (``only`` None) or to one segment of it."""
        data: dict[str, Any] = {}
        if only is None:
            key: Any = state.heads.union(state.index)
            plan = self.plans.get(key) or self._plan(key, key)
        else:
            segment_id, elements = state.items[only]  # type: ignore[misc]
            key = (segment_id, len(elements), state.heads)
            plan = self.plans.get(key) or self._plan(key, state.heads | {segment_id}, len(elements))
        for rule in plan:
            rule.read(reader, state, only, loc, data)
        if only is None:
            # a loop scope reports what no rule took; a single-segment scope reports nothing
            leftover = _unmapped(reader, state)
            if leftover:
                data.setdefault("extensions", {})[_FORMAT] = {EXTENSION_KEY: leftover}
        return data


def _unmapped(reader: _Reader, state: _NodeState) -> list[Any]:
    entries: list[Any] = []
    position = -1
    for item, keys in zip(state.items, state.taken):
        position += 1
        if item.__class__ is not Segment:
            if id(item) not in reader.entered:
                entries.append(["loop", [[s[0], [element_to_json(e) for e in s[1]]]
                                         for s in _all_segments(item)], position])  # type: ignore[arg-type]
            continue
        if not keys:
            entries.append([item[0], [element_to_json(e) for e in item[1]], position])
        elif _WHOLE not in keys:
            elements = item[1]
            # the common case at C speed: every non-empty element is a string whose number was
            # consumed (_plain inlined: only strings join, a composite or a repeat raises)
            if keys.issuperset(compress(_NUMBERS, elements)):
                try:
                    "".join(elements)
                    continue
                except TypeError:
                    pass
            entry = _leftover(state, position, item, keys)  # type: ignore[arg-type]
            if entry is not None:
                entries.append(entry)
    return entries


def _leftover(state: _NodeState, position: int, segment: Segment, keys: set[Any]) -> list[Any] | None:
    elements = segment[1]
    number = 0
    for number, value in enumerate(elements, start=1):
        if value != "" and (value.__class__ is not str or (number not in keys and (number, 1) not in keys)):
            break
    else:
        return None  # every element with a value was consumed: the common case
    leftover: list[Any] = [None] * (number - 1)
    for number, value in enumerate(elements[number - 1:], start=number):
        if value.__class__ is str:
            taken = value == "" or number in keys or (number, 1) in keys
        else:
            taken = _taken(value, number, keys)
        leftover.append(None if taken else element_to_json(value))
    while leftover and leftover[-1] is None:
        leftover.pop()
    if not leftover:
        return None
    # merges are placed by ordinal among same-id segments, which outbound rules keep stable
    ordinal = state.index[segment[0]].index(position)
    return [segment[0], leftover, ordinal, "merge"]


def _taken(value: Any, position: int, keys: set[Any]) -> bool:
    if value == "":
        return True
    if position in keys:
        return isinstance(value, Composite) and len(value) <= 1
    if isinstance(value, Composite):
        return all(c == "" or (position, n) in keys for n, c in enumerate(value, start=1))
    return False


def _all_segments(node: Node) -> list[Segment]:
    out: list[Segment] = []
    for item in node.items:
        if isinstance(item, Node):
            out.extend(_all_segments(item))
        else:
            out.append(item)
    return out


# --- compiling ---------------------------------------------------------------------------------


class CompiledSpec:
    """A spec compiled for one X12 version: ``read(body)`` maps a set body to canonical data."""

    __slots__ = ("spec", "version", "root")

    def __init__(self, spec: DocumentSpec, version: str) -> None:
        self.spec, self.version = spec, version
        tables: dict[int, _Table] = {}
        self.root = self._table(spec.rules, tables)

    def _table(self, rules: Rules, tables: dict[int, _Table]) -> _Table:
        # tables are compiled once per rule tuple, so recursive named tables (packs in packs) close
        known = tables.get(id(rules))
        if known is not None:
            return known
        table = tables[id(rules)] = _Table()
        table.rules = tuple(self._rule(rule, tables) for rule in rules)
        return table

    def _rule(self, rule: Rule, tables: dict[int, _Table]) -> _Rule:
        if isinstance(rule, Field):
            return _Field(rule, self.version)
        if isinstance(rule, Const):
            return _Const(rule)
        if isinstance(rule, Collect):
            return _Collect(rule)
        return _Nested(rule, self._table(self.spec.table(rule.rules), tables))

    def read(self, body: tuple[Segment, ...] | list[Segment]) -> tuple[dict[str, Any], list[Issue]]:
        """Map a transaction body (ST/SE excluded) to the canonical model's data.

        Returns:
            ``(data, issues)``: plain dicts and lists, ready for the model's validation.
        """
        reader = _Reader()
        data = self.root.read(reader, _NodeState(group(body, self.spec.structure)), None, ())
        return data, reader.issues


class _SpecKey:
    """Hashes a spec by identity (specs hold dicts, so they are not hashable) and keeps it alive."""

    __slots__ = ("spec",)

    def __init__(self, spec: DocumentSpec) -> None:
        self.spec = spec

    def __hash__(self) -> int:
        return id(self.spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SpecKey) and other.spec is self.spec


@lru_cache(maxsize=128)
def _compiled(key: _SpecKey, version: str) -> CompiledSpec:
    return CompiledSpec(key.spec, version)


def compile_inbound(spec: DocumentSpec, version: str) -> CompiledSpec:
    """The compiled form of ``spec`` for ``version`` (compiled once, then cached).

    Raises:
        SpecInvalid: a path or transform of the spec is invalid (``check_specs`` reports it first).
    """
    return _compiled(_SpecKey(spec), version)
