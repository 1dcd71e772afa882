"""Inbound X12 mapping as generated Python: one specialised function per rule table.

:func:`generate_inbound` takes the :class:`~crossdock.mappings.x12.compiled.CompiledSpec` of a
(spec, version, partner variant) — the rule tables stay the single source of truth — and writes
Python source for it: per rule table, one function per plan (the rules worth running for the
segment ids present, as the compiled table's plan cache decides), generated at the plan's first
use; straight-line code per rule with segment lookups by id, direct element reads (``els[2]``),
qualifiers as literal comparisons, transforms called directly, targets written with literal keys.
Each function is compiled once with :func:`compile` and cached with its spec.

What a plan knows when it is generated is written into it: a plan for one segment (cached per
segment id, width and loop heads) reads that segment's elements directly, without a search; in
a loop plan, a source no earlier rule of the plan can have consumed (:func:`_settled`) skips the
consumption check and, without a qualifier, takes the first segment of its id; a nested rule
calls its table's plan function straight from the plan cache.

Semantics are exactly those of :meth:`CompiledSpec.read` (rules in table order, the first
unconsumed matching segment wins, consumption per element, leftovers in ``extensions``); the
generated code reuses its per-read state (``_NodeState``, ``_Reader``) and its leftover report,
and delegates the rare rule kinds (several sources, ``Collect``) to the compiled rule objects.
A test compares both on every golden case, every corpus file and Hypothesis mutations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from crossdock.mappings.engine import EXTENSION_KEY
from crossdock.mappings.spec import DocumentSpec
from crossdock.mappings.transforms import TransformFailed
from crossdock.mappings.x12 import compiled as _compiled_module
from crossdock.mappings.x12.compiled import _MAX_PLANS, CompiledSpec, _NodeState, _Reader, compile_inbound
from crossdock.mappings.x12.loops import group
from crossdock.schemas.errors import Issue
from crossdock.schemas.x12.tree import Segment

__all__ = ["GeneratedSpec", "generate_inbound"]

_FORMAT = "x12"
_INDENT = "    "

Body = tuple[Segment, ...] | list[Segment]


class _Writer:
    """The generated module of one spec: its namespace (constants, helpers, table entry points)."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            "_NodeState": _compiled_module._NodeState,
            "_text": _compiled_module._text,
            "_put": _compiled_module._put,
            "_unmapped": _compiled_module._unmapped,
            "_FAILED": _compiled_module._FAILED,
            "_HL_STRUCTURE": _compiled_module._HL_STRUCTURE,
            "_Segment": Segment,
            "Issue": Issue,
            "TransformFailed": TransformFailed,
            "_EXTENSION_KEY": EXTENSION_KEY,
        }
        #: entry point name per compiled table (``id`` of the table)
        self.tables: dict[int, str] = {}
        self.lines: list[str] = []
        #: triggers of the spec's hierarchical loops (their heads start with HL01..04 taken)
        self.hierarchical: frozenset[str] = frozenset()
        #: while a loop plan is written: ``id`` of the sources no earlier rule can have consumed
        self.settled: frozenset[int] = frozenset()
        #: held while a plan is written and compiled: ``lines`` and ``settled`` are shared by the
        #: spec's tables, and a worker's threads may meet a new plan at the same moment
        self.lock = threading.RLock()

    def const(self, value: Any) -> str:
        """A name in the generated module bound to ``value`` (literals for str/int/None)."""
        if value is None or isinstance(value, (int, str)) and not isinstance(value, bool):
            return repr(value)
        name = f"_c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def emit(self, depth: int, text: str) -> None:
        self.lines.append(_INDENT * depth + text)

    def compile(self, name: str, label: str) -> Callable[..., Any]:
        """Compile the lines written so far and return the function ``name`` they define."""
        source, self.lines = "\n".join(self.lines) + "\n", []
        scope: dict[str, Any] = {}
        exec(compile(source, label, "exec"), self.namespace, scope)  # noqa: S102 - our own generated code
        return scope[name]


def _put_code(parents: tuple[str, ...], last: str, value: str) -> str:
    target = "data"
    for name in parents:
        target = f"{target}.setdefault({name!r}, {{}})"
    return f"{target}[{last!r}] = {value}"


def _qualifier_test(writer: _Writer, qualifier: Any, elements: str) -> str:
    """An expression that is true when ``qualifier`` does NOT match ``elements``."""
    position, codes = qualifier.position, qualifier.codes
    text = f"_q if (_q := {elements}[{position - 1}]).__class__ is str else (_q[0] if _q else '')"
    test = f"({text}) != {codes[0]!r}" if len(codes) == 1 else f"({text}) not in {writer.const(frozenset(codes))}"
    return f"len({elements}) < {position} or {test}"


class _One:
    """What a plan for one segment knows when it is generated: the segment's id and width.

    Its plans are cached per (segment id, element count, loop heads), so the generated code
    reads the segment directly (``els``, ``p`` bound once at the top), without a search loop."""

    __slots__ = ("segment", "width")

    def __init__(self, segment: str, width: int) -> None:
        self.segment, self.width = segment, width


def _find(writer: _Writer, source: Any, depth: int, free: bool, raw: str,
          one: _One | None = None) -> tuple[int, bool]:
    """The search of a source's segment up to the consumption check (``els``, ``p``, ``k`` bound).

    Returns the depth of the code that runs on the segment found, and whether it runs inside a
    search loop (it then ends with ``break``: the first candidate that passes the checks wins).
    """
    emit = writer.emit
    if one is not None:
        # one segment: the source reads it or nothing (a constant test the compiler drops)
        test = "True" if source.segment == one.segment else "False"
        if source.qualifier is not None and source.segment == one.segment:
            test = f"not ({_qualifier_test(writer, source.qualifier, 'els')})"
        emit(depth, f"if {test}:")
        body, looped = depth + 1, False
    elif free and source.qualifier is None and id(source) in writer.settled:
        # nothing can make the first segment of the id fail the checks: it is the one
        emit(depth, f"ps = index.get({source.segment!r})")
        emit(depth, "if ps is not None:")
        body, looped = depth + 1, False
        emit(body, "p = ps[0]")
        emit(body, "els = items[p][1]")
    else:
        emit(depth, f"ps = index.get({source.segment!r})")
        emit(depth, "if ps is not None:")
        emit(depth + 1, "for p in ps:")
        body, looped = depth + 2, True
        emit(body, "els = items[p][1]")
        if source.qualifier is not None:
            emit(body, f"if {_qualifier_test(writer, source.qualifier, 'els')}:")
            emit(body + 1, "continue")
    emit(body, "k = taken[p]")
    if free and id(source) not in writer.settled:
        emit(body, f"if k is not None and (-1 in k or not {writer.const(source.keys)}.isdisjoint(k)):")
        emit(body + 1, "continue")
    if source.simple:
        element = source.simple
        if one is None:
            emit(body, f"{raw} = els[{element - 1}] if len(els) >= {element} else ''")
        else:
            emit(body, f"{raw} = els[{element - 1}]" if one.width >= element else f"{raw} = ''")
        emit(body, f"if {raw}.__class__ is not str:")
        emit(body + 1, f"{raw} = _text({raw}, None)")
    else:
        emit(body, f"{raw} = {writer.const(source)}.values(els)")
    return body, looped


def _found(writer: _Writer, depth: int, looped: bool) -> None:
    """End the code on a found segment: a search loop stops at its first candidate."""
    if looped:
        writer.emit(depth, "break")


def _consume(writer: _Writer, depth: int, keys: str, position: str = "p", current: str = "k") -> None:
    writer.emit(depth, f"if {current} is None:")
    writer.emit(depth + 1, f"taken[{position}] = set({keys})")
    writer.emit(depth, "else:")
    writer.emit(depth + 1, f"{current}.update({keys})")


def _field(writer: _Writer, rule: Any, depth: int, free: bool, one: _One | None = None) -> None:
    source = rule.sources[0]
    emit = writer.emit
    emit(depth, f"# {rule.label} <- {source.text}")
    emit(depth, "v = None")
    body, looped = _find(writer, source, depth, free, "raw", one)
    if source.simple:
        emit(body, "if raw != '':")
    else:
        emit(body, "if (any(raw) if raw.__class__ is tuple else raw != ''):")
    present = body + 1
    if rule.parses:
        _transform_code(writer, rule, writer.const(source.types), "raw", present)
        emit(present, "if v is not None and v is not _FAILED:")
        _consume(writer, present + 1, writer.const(source.consumes))
    else:
        emit(present, "v = raw")
        _consume(writer, present, writer.const(source.consumes))
    _found(writer, body, looped)
    _store(writer, rule, depth)


def _field_many(writer: _Writer, rule: Any, depth: int, free: bool, one: _One | None = None) -> None:
    """A field of several sources: each found independently, consumed together after the transform."""
    emit = writer.emit
    count = len(rule.sources)
    emit(depth, f"# {rule.label} <- {', '.join(s.text for s in rule.sources)}")
    for n, source in enumerate(rule.sources):
        emit(depth, f"r{n} = ''")
        emit(depth, f"p{n} = -1")
        body, looped = _find(writer, source, depth, free, f"r{n}", one)
        emit(body, f"p{n} = p")
        _found(writer, body, looped)
    sent = " or ".join(f"any(r{n})" if s.is_range else f"r{n} != ''" for n, s in enumerate(rule.sources))
    raws = "(" + "".join(f"r{n}, " for n in range(count)) + ")"
    emit(depth, "v = None")
    emit(depth, f"if {sent}:")
    inner = depth + 1
    if rule.parses:
        found = " and ".join(f"p{n} >= 0" for n in range(count))
        parts = " + ".join(f"({writer.const(s.types)} if p{n} >= 0 else (None,))" for n, s in enumerate(rule.sources))
        emit(inner, f"types = {writer.const(rule.types)} if {found} else {parts}")
        _transform_code(writer, rule, "types", raws, inner)
        emit(inner, "if v is not None and v is not _FAILED:")
        inner += 1
    else:
        emit(inner, f"v = {raws}")
    for n, source in enumerate(rule.sources):
        emit(inner, f"if p{n} >= 0:")
        emit(inner + 1, f"k = taken[p{n}]")
        _consume(writer, inner + 1, writer.const(source.consumes), f"p{n}")
    _store(writer, rule, depth)


def _transform_code(writer: _Writer, rule: Any, types: str, value: str, depth: int) -> None:
    emit = writer.emit
    emit(depth, f"where = loc + ({rule.first!r},)")
    emit(depth, f"ctx.loc = where; ctx.element_types = {types}")
    emit(depth, "try:")
    for parse in rule.parses:
        emit(depth + 1, f"v = {writer.const(parse)}({value}, ctx)")
        value = "v"
    emit(depth, "except TransformFailed as exc:")
    severity = "error" if rule.required else "warning"
    emit(depth + 1, f"issues.append(Issue(exc.code, exc.message, where, {severity!r}, "
                    "None if exc.value is None else str(exc.value)[:80]))")
    emit(depth + 1, "v = _FAILED")


def _store(writer: _Writer, rule: Any, depth: int) -> None:
    """After a field's read: default, required check, write to the target(s)."""
    emit = writer.emit
    if rule.parses:
        emit(depth, "if v is not _FAILED:")
        depth += 1
    if rule.default is not None:
        emit(depth, "if v is None:")
        emit(depth + 1, f"v = {writer.const(rule.default)}")
    emit(depth, "if v is None:")
    if rule.required:
        emit(depth + 1, f"issues.append(Issue('MISSING_REQUIRED', {rule.label + ' is required'!r}, "
                        f"loc + ({rule.first!r},)))")
    else:
        emit(depth + 1, "pass")
    emit(depth, "else:")
    if rule.target is not None:
        emit(depth + 1, _put_code(rule.target[0], rule.target[1], "v"))
        return
    emit(depth + 1, f"for (pp, ll), it in zip({writer.const(rule.targets)}, v):")
    emit(depth + 2, "if it is not None:")
    emit(depth + 3, "_put(data, pp, ll, it)")


def _nested(writer: _Writer, rule: Any, depth: int) -> None:
    emit = writer.emit
    child = writer.tables[id(rule.table)]
    segment, qualifier = rule.segment, rule.qualifier
    emit(depth, f"# {'One' if rule.single else 'Each'} {rule.target} <- {rule.source}")
    emit(depth, "found = []")
    emit(depth, f"if (shape.hierarchical and shape.trigger == {segment!r}) or {segment!r} in shape.by_trigger:")
    # a loop instance whose head is not the trigger cannot match: heads lists the heads there are
    emit(depth + 1, f"if {segment!r} in state.heads:")
    inner = depth + 2
    emit(inner, "entered = reader.entered")
    emit(inner, "for item in items:")
    emit(inner + 1, "if item.__class__ is _Segment:")
    emit(inner + 2, "continue")
    emit(inner + 1, "head = item.items[0] if item.items else None")
    emit(inner + 1, f"if head is None or head.__class__ is not _Segment or head[0] != {segment!r} "
                    "or id(item) in entered:")
    emit(inner + 2, "continue")
    if qualifier is not None:
        emit(inner + 1, "hels = head[1]")
        emit(inner + 1, f"if {_qualifier_test(writer, qualifier, 'hels')}:")
        emit(inner + 2, "continue")
    emit(inner + 1, "entered.add(id(item))")
    emit(inner + 1, "sub = _NodeState(item)")
    emit(inner + 1, "if sub.shape.hierarchical:")
    emit(inner + 2, "sub.take(0, _HL_STRUCTURE)")
    # the child table's plan function when it exists already (its read() finds or makes it)
    emit(inner + 1, f"f = {child}_plans.get(sub.heads.union(sub.index)) or {child}")
    emit(inner + 1, f"found.append(f(reader, sub, None, loc + ({segment!r}, len(found) + 1)))")
    if rule.single:
        emit(inner + 1, "break")
    emit(depth, "else:")
    emit(depth + 1, f"ps = index.get({segment!r})")
    emit(depth + 1, "if ps is not None:")
    emit(depth + 2, "for p in ps:")
    inner = depth + 3
    if qualifier is not None:
        emit(inner, "els = items[p][1]")
        emit(inner, f"if {_qualifier_test(writer, qualifier, 'els')}:")
        emit(inner + 1, "continue")
    emit(inner, "k = taken[p]")
    emit(inner, "if k:")
    emit(inner + 1, "continue")
    emit(inner, "if k is None:")
    emit(inner + 1, "taken[p] = {0}")
    emit(inner, "else:")
    emit(inner + 1, "k.add(0)")
    emit(inner, f"f = {child}_plans.get(({segment!r}, len(items[p][1]), state.heads)) or {child}")
    emit(inner, f"found.append(f(reader, state, p, loc + ({segment!r}, p + 1)))")
    if rule.single:
        emit(inner, "break")
    emit(depth, "if found:")
    emit(depth + 1, _put_code(rule.parents, rule.last, "found[0]" if rule.single else "found"))
    if rule.required:
        emit(depth, "else:")
        emit(depth + 1, f"issues.append(Issue('MISSING_REQUIRED', {rule.target + ' is required'!r}, "
                        f"loc + ({rule.source!r},)))")


def _settled(rules: tuple[Any, ...], hierarchical: frozenset[str]) -> frozenset[int]:
    """Sources of a loop plan whose consumption check cannot fail (``id`` of each source).

    In a loop instance, only the plan's earlier rules consume element keys of its segments
    (a loop instance is read once, from a fresh state), plus HL01..04 of a hierarchical head.
    Following the rules in order, a source needs no check when no earlier rule could have
    consumed one of its keys on a segment of its id: earlier fields' keys are known here; a
    collect takes whole segments and a nested rule's table takes keys of its own: after one of
    those on a segment id, every later source on that id keeps its check.
    """
    possible: dict[str, set[Any]] = {segment: {1, 2, 3, 4} for segment in hierarchical}
    unknown: set[str] = set()
    settled: set[int] = set()
    for rule in rules:
        if isinstance(rule, _compiled_module._Field):
            for source in rule.sources:
                if source.segment not in unknown and source.keys.isdisjoint(possible.get(source.segment, ())):
                    settled.add(id(source))
            for source in rule.sources:
                possible.setdefault(source.segment, set()).update(source.consumes)
        elif not isinstance(rule, _compiled_module._Const):
            unknown.update(rule.ids)
    return frozenset(settled)


def _plan_function(writer: _Writer, name: str, rules: tuple[Any, ...], free: bool, one: _One | None = None) -> None:
    """One function applying ``rules`` (a table's plan) to a loop instance (``free``) or one segment
    (``only``; with ``one``, the function is for segments of that id and width only)."""
    emit = writer.emit
    emit(0, f"def {name}(reader, state, only, loc):")
    for line in ("data = {}", "items = state.items", "taken = state.taken", "shape = state.shape",
                 "issues = reader.issues", "ctx = reader.ctx"):
        emit(1, line)
    writer.settled = _settled(rules, writer.hierarchical) if free else frozenset()
    if free:
        emit(1, "index = state.index")
    else:
        emit(1, "index = {items[only][0]: (only,)}")
        if one is not None:
            emit(1, "p = only")
            emit(1, "els = items[p][1]")
    for rule in rules:
        if isinstance(rule, _compiled_module._Field):
            if rule.single is not None:
                _field(writer, rule, 1, free, one)
            else:
                _field_many(writer, rule, 1, free, one)
        elif isinstance(rule, _compiled_module._Nested):
            _nested(writer, rule, 1)
        elif isinstance(rule, _compiled_module._Const):
            emit(1, _put_code(rule.parents, rule.last, writer.const(rule.value)))
        else:
            # a collect: rare and dominated by its transform, so the compiled rule object does it
            emit(1, f"{writer.const(rule)}.read(reader, state, only, loc, data)")
    if free:
        # a loop scope reports what no rule took; a single-segment scope reports nothing
        emit(1, "leftover = _unmapped(reader, state)")
        emit(1, "if leftover:")
        emit(2, f"data.setdefault('extensions', {{}})[{_FORMAT!r}] = {{_EXTENSION_KEY: leftover}}")
    emit(1, "return data")


class _TableCode:
    """A compiled rule table's generated functions, one per plan (the rules worth running for the
    segment ids present), generated at the plan's first use like the compiled table's plans."""

    __slots__ = ("table", "writer", "label", "functions", "whole")

    def __init__(self, table: Any, writer: _Writer, label: str) -> None:
        self.table, self.writer, self.label = table, writer, label
        self.functions: dict[Any, Callable[..., dict[str, Any]]] = {}
        #: every rule, per mode: used once the plan cache is full (junk input with endless shapes)
        self.whole: dict[bool, Callable[..., dict[str, Any]]] = {}

    def read(self, reader: Any, state: Any, only: int | None, loc: tuple[Any, ...]) -> dict[str, Any]:
        """As the compiled table's ``read``: apply the table to a loop instance or one segment."""
        if only is None:
            key: Any = state.heads.union(state.index)
        else:
            segment_id, elements = state.items[only]
            key = (segment_id, len(elements), state.heads)
        function = self.functions.get(key)
        if function is None:
            function = self._generate(key, state, only)
        return function(reader, state, only, loc)

    def _generate(self, key: Any, state: Any, only: int | None) -> Callable[..., dict[str, Any]]:
        with self.writer.lock:
            function = self.functions.get(key)  # another thread may have written it meanwhile
            return function if function is not None else self._generate_locked(key, state, only)

    def _generate_locked(self, key: Any, state: Any, only: int | None) -> Callable[..., dict[str, Any]]:
        free = only is None
        if len(self.functions) >= _MAX_PLANS:
            function = self.whole.get(free)
            if function is None:
                function = self.whole[free] = self._function(self.table.rules, free)
            return function
        if free:
            plan = self.table._plan(key, key)
            one = None
        else:
            segment_id, elements = state.items[only]
            plan = self.table._plan(key, state.heads | {segment_id}, len(elements))
            one = _One(segment_id, len(elements))
        function = self.functions[key] = self._function(plan, free, one)
        return function

    def _function(self, rules: tuple[Any, ...], free: bool, one: _One | None = None) -> Callable[..., dict[str, Any]]:
        _plan_function(self.writer, "_plan", rules, free, one)
        return self.writer.compile("_plan", self.label)


def _hierarchical_triggers(root: Any) -> frozenset[str]:
    found: set[str] = set()
    pending, seen = [] if root is None else [root], set()
    while pending:
        shape = pending.pop()
        if id(shape) in seen:
            continue
        seen.add(id(shape))
        if shape.hierarchical:
            found.add(shape.trigger)
        pending.extend(shape.children)
    return frozenset(found)


class GeneratedSpec:
    """A spec's inbound mapping as generated code: ``read(body)`` as :meth:`CompiledSpec.read`."""

    __slots__ = ("compiled", "_root")

    def __init__(self, compiled: CompiledSpec) -> None:
        self.compiled = compiled
        writer = _Writer()
        writer.hierarchical = _hierarchical_triggers(compiled.spec.structure)
        label = f"<crossdock.codegen {compiled.spec.name} {compiled.version}>"
        pending, codes = [compiled.root], []
        while pending:
            table = pending.pop()
            if id(table) in writer.tables:
                continue
            code = _TableCode(table, writer, label)
            writer.tables[id(table)] = name = f"_T{len(writer.tables)}"
            writer.namespace[name] = code.read
            writer.namespace[f"{name}_plans"] = code.functions
            codes.append(code)
            pending.extend(rule.table for rule in table.rules if hasattr(rule, "table"))
        self._root = codes[0].read

    def read(self, body: Body) -> tuple[dict[str, Any], list[Issue]]:
        """Map a transaction body (ST/SE excluded) to the canonical model's data.

        Returns:
            ``(data, issues)``, equal to what :meth:`CompiledSpec.read` returns for ``body``.
        """
        reader = _Reader()
        data = self._root(reader, _NodeState(group(body, self.compiled.spec.structure)), None, ())
        return data, reader.issues


@lru_cache(maxsize=128)
def _generated(compiled: CompiledSpec) -> GeneratedSpec:
    return GeneratedSpec(compiled)


def generate_inbound(spec: DocumentSpec, version: str) -> GeneratedSpec:
    """The generated mapping of ``spec`` for ``version`` (built once per compiled spec, then cached).

    Raises:
        SpecInvalid: a path or transform of the spec is invalid (as :func:`compile_inbound`).
    """
    return _generated(compile_inbound(spec, version))
