"""The mapping engine: apply a rule table inbound (source -> canonical) or outbound (canonical -> target).

The engine knows rules, transforms and models, not formats. A format plugs in through two small
protocols: a :class:`SourceScope` (inbound: resolves a rule's source path in the current loop,
tracks what was consumed, and reports what was not) and a :class:`TargetBuilder` (outbound:
writes values at paths, opens child loops, restores unmapped data). X12 implements them in
:mod:`crossdock.mappings.x12.scope`; an XML resolver can implement the same pair.

Inbound never raises for a bad document: every problem is an :class:`Issue` with a location.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from crossdock.mappings.spec import Collect, Const, DocumentSpec, Each, Field, One, Rule, Rules
from crossdock.mappings.transforms import TransformContext, TransformFailed, get_transform
from crossdock.schemas.errors import Issue

__all__ = ["SourceScope", "TargetBuilder", "read_document", "write_document", "build_model", "EXTENSION_KEY"]

#: ``extensions[format]["unmapped"]`` holds what no rule consumed
EXTENSION_KEY = "unmapped"


class SourceScope(Protocol):
    """One loop instance (or segment) of a source document, as the engine sees it."""

    loc: tuple[str | int, ...]

    def read(self, path: str) -> tuple[Any, tuple[str | None, ...], object] | None:
        """Raw value at ``path`` (a tuple for ranges), element types, and a token for :meth:`consume`."""

    def consume(self, token: object) -> None:
        """Mark the value behind ``token`` as mapped."""

    def each(self, path: str) -> Iterator[SourceScope]:
        """Sub-scopes for every loop instance (or segment) matching ``path``."""

    def collect(self, path: str) -> tuple[list[tuple[Any, ...]], object]:
        """Element tuples of all unconsumed segments matching ``path``, and a consume token."""

    def unmapped(self) -> list[Any]:
        """JSON entries for everything in this scope that no rule consumed."""


class TargetBuilder(Protocol):
    """One loop instance (or segment) of a target document being built."""

    def types(self, path: str) -> tuple[str | None, ...]:
        """Element types at ``path`` (for transforms that depend on them)."""

    def write(self, path: str, value: Any) -> None:
        """Write a value (a tuple for ranges) at ``path``, creating the segment if needed."""

    def child(self, path: str) -> TargetBuilder:
        """A new loop instance (or segment) for ``path``."""

    def write_segments(self, path: str, rows: list[tuple[Any, ...]]) -> None:
        """Append one segment per row of element values."""

    def restore(self, entries: list[Any]) -> None:
        """Put back data recorded as unmapped by the same format."""


# --- inbound -----------------------------------------------------------------------------------


def _set(data: dict[str, Any], target: str, value: Any) -> None:
    *parents, last = target.split(".")
    for name in parents:
        data = data.setdefault(name, {})
    data[last] = value


def _read_field(rule: Field, scope: SourceScope, data: dict[str, Any], issues: list[Issue]) -> None:
    found = [scope.read(path) for path in rule.sources]
    raws = tuple(f[0] if f else "" for f in found)
    types = tuple(t for f in found for t in (f[1] if f else (None,)))
    present = any(r not in ("", None, ()) and (not isinstance(r, tuple) or any(r)) for r in raws)
    loc = scope.loc + (rule.sources[0],)
    value: Any = None
    if present:
        ctx = TransformContext(loc, issues, types)
        value = raws[0] if len(raws) == 1 else raws
        try:
            for name in rule.transforms:
                value = get_transform(name).parse(value, ctx)
        except TransformFailed as exc:
            issues.append(Issue(exc.code, exc.message, loc, "error" if rule.required else "warning",
                                None if exc.value is None else str(exc.value)[:80]))
            return
        if value is not None:
            # a transform that finds nothing to map leaves the raw data to ``extensions``
            for f in found:
                if f is not None:
                    scope.consume(f[2])
    if value is None:
        value = rule.default
    if value is None:
        if rule.required:
            issues.append(Issue("MISSING_REQUIRED", f"{'/'.join(rule.targets)} is required", loc))
        return
    values = value if len(rule.targets) > 1 else (value,)
    for target, item in zip(rule.targets, values):
        if item is not None:
            _set(data, target, item)


def _read_rules(spec: DocumentSpec, rules: Rules, scope: SourceScope, issues: list[Issue],
                fmt: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for rule in rules:
        _read_rule(spec, rule, scope, data, issues, fmt)
    # a loop scope reports what no rule took; a single-segment scope reports nothing (its
    # leftovers belong to the enclosing loop), so only loop models need an ``extensions`` field
    leftover = scope.unmapped()
    if leftover:
        data.setdefault("extensions", {})[fmt] = {EXTENSION_KEY: leftover}
    return data


def _read_rule(spec: DocumentSpec, rule: Rule, scope: SourceScope, data: dict[str, Any],
               issues: list[Issue], fmt: str) -> None:
    if isinstance(rule, Field):
        _read_field(rule, scope, data, issues)
    elif isinstance(rule, Const):
        _set(data, rule.target, rule.value)
    elif isinstance(rule, Collect):
        rows, token = scope.collect(rule.source)
        if not rows:
            return
        ctx = TransformContext(scope.loc + (rule.source,), issues)
        try:
            value = get_transform(rule.transform).parse(rows, ctx)
        except TransformFailed as exc:
            issues.append(Issue(exc.code, exc.message, ctx.loc, "warning"))
            return
        scope.consume(token)
        if value is not None:
            _set(data, rule.target, value)
    else:
        table = spec.table(rule.rules)
        found = []
        for sub in scope.each(rule.source):
            found.append(_read_rules(spec, table, sub, issues, fmt))
            if isinstance(rule, One):
                break
        if not found and rule.required:
            issues.append(Issue("MISSING_REQUIRED", f"{rule.target} is required", scope.loc + (rule.source,)))
        if found:
            _set(data, rule.target, found if isinstance(rule, Each) else found[0])


def read_document(spec: DocumentSpec, scope: SourceScope, fmt: str) -> tuple[BaseModel | None, list[Issue]]:
    """Apply ``spec`` to a source document.

    Args:
        spec: the rule tables and the canonical model to build.
        scope: the document's root scope from the format's resolver.
        fmt: the format key for ``extensions`` (``"x12"``).

    Returns:
        ``(document, issues)``; document is ``None`` when it could not be built (errors say why).
    """
    issues: list[Issue] = []
    data = _read_rules(spec, spec.rules, scope, issues, fmt)
    return build_model(spec.model, data, issues), issues


def build_model(model: type[BaseModel], data: dict[str, Any], issues: list[Issue]) -> BaseModel | None:
    """Validate mapped data into ``model`` in one pass (pydantic-core, not field by field).

    Args:
        model: the canonical class.
        data: what the rules produced (plain dicts, lists and values).
        issues: ``MODEL_INVALID`` errors are appended here, one per validation error.

    Returns:
        The document, or ``None`` when the data does not make a valid one.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            issues.append(Issue("MODEL_INVALID", error["msg"], tuple(error["loc"]), "error",
                                None if error.get("input") is None else str(error["input"])[:80]))
        return None


# --- outbound ----------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _names(target: str) -> tuple[str, ...]:
    return tuple(target.split("."))


def _get(obj: Any, target: str) -> Any:
    for name in _names(target):
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def _write_field(rule: Field, obj: Any, builder: TargetBuilder, issues: list[Issue], loc: tuple[Any, ...]) -> None:
    # most rules of a table find nothing in a given object: decide that before any other work
    targets = rule.targets
    if len(targets) == 1:
        value: Any = _get(obj, targets[0])
        if value is None or value == ():
            return
    else:
        values = tuple(_get(obj, t) for t in targets)
        if all(v is None or v == () for v in values):
            return
        value = values
    types = tuple(t for path in rule.sources for t in builder.types(path))
    ctx = TransformContext(loc + (rule.sources[0],), issues, types)
    try:
        for name in reversed(rule.transforms):
            value = get_transform(name).render(value, ctx)
    except TransformFailed as exc:
        issues.append(Issue(exc.code, exc.message, ctx.loc, "error", None if exc.value is None else str(exc.value)[:80]))
        return
    outputs = value if len(rule.sources) > 1 else (value,)
    for path, item in zip(rule.sources, outputs):
        if item is not None and item != "" and item != ():
            builder.write(path, item)


def _write_rules(spec: DocumentSpec, rules: Rules, obj: Any, builder: TargetBuilder,
                 issues: list[Issue], fmt: str, loc: tuple[Any, ...]) -> None:
    for rule in rules:
        if isinstance(rule, Field):
            _write_field(rule, obj, builder, issues, loc)
        elif isinstance(rule, Const):
            continue
        elif isinstance(rule, Collect):
            value = _get(obj, rule.target)
            if value:
                ctx = TransformContext(loc + (rule.target,), issues)
                builder.write_segments(rule.source, get_transform(rule.transform).render(value, ctx))
        else:
            value = _get(obj, rule.target)
            items = value if isinstance(rule, Each) else ([value] if value is not None else [])
            for index, item in enumerate(items or ()):
                child = builder.child(rule.source)
                _write_rules(spec, spec.table(rule.rules), item, child, issues, fmt, loc + (rule.target, index))
    # read the field from the instance dict: most value models have no extensions, and asking a
    # pydantic model for an attribute it lacks costs a raised and caught AttributeError
    extensions = obj.get("extensions") if isinstance(obj, dict) else getattr(obj, "__dict__", {}).get("extensions")
    if isinstance(extensions, dict) and isinstance(extensions.get(fmt), dict):
        entries = extensions[fmt].get(EXTENSION_KEY)
        if isinstance(entries, list):
            builder.restore(entries)


def write_document(spec: DocumentSpec, document: BaseModel, builder: TargetBuilder, fmt: str) -> list[Issue]:
    """Apply ``spec`` outbound: write ``document`` into ``builder``.

    Returns:
        Issues (values that could not be rendered, truncations); the builder holds the result.
    """
    issues: list[Issue] = []
    _write_rules(spec, spec.rules, document, builder, issues, fmt, ())
    return issues
