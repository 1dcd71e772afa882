"""Declarative XML ⇄ canonical mapping: rule tables over XML paths, read and written by one engine.

A spec is a table of rules (STYLE.md 27–31), applied both ways:

* :class:`Field` — ``target ← path → transform``: one value (``many=True``: a list of values);
* :class:`Each` — for each node at ``path``, a list item built by nested rules; ``when`` holds
  the constants that pick the items this rule writes (``{"role": "ship_to"}``) and that reading
  sets;
* :class:`Const` — a constant set on read only (``role_code = "ShipTo"``).

Targets are dotted keys into the canonical JSON (``"total_amount.amount"``). Paths are
relative to the context node: steps ``name`` / ``prefix:name`` separated by ``/``, optional
predicates ``[@attr='v']`` or ``[child='v']``, a last step ``@attr`` for an attribute, ``.`` for
the node itself. Writing creates what a path names (a predicate becomes the attribute or child
it tests), so one table gives both directions.

Nothing is silently dropped: reading marks every element and attribute a rule used, and
:func:`unmapped` lists the rest as ``[path, value]`` pairs (kept in ``extensions``);
:func:`write` puts them back at their paths. Writing reports canonical values the table could
not place as ``NOT_REPRESENTABLE`` issues.

Transforms are a small explicit registry (:data:`TRANSFORMS`) of named pairs of pure functions;
code lists are data carried by each spec (``XmlSpec.code_lists``). :func:`check_spec` verifies a table at startup.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from decimal import Decimal, InvalidOperation
from typing import Any, Union

from pydantic import ValidationError

from crossdock.schemas.canonical import gtin_check_digit_ok
from crossdock.schemas.errors import Issue, SpecInvalid
from crossdock.schemas.xmltree import XmlNode, local_name, namespace_of

__all__ = [
    "Field",
    "Each",
    "Group",
    "Const",
    "Rule",
    "XmlSpec",
    "Transform",
    "TRANSFORMS",
    "read",
    "write",
    "read_document",
    "map_document",
    "ReadResult",
    "gtin_issues",
    "write_document",
    "validate",
    "new_tracker",
    "unmapped",
    "restore_unmapped",
    "check_spec",
    "Draft",
    "select",
    "XML_NS",
]

XML_NS = "http://www.w3.org/XML/1998/namespace"


# --- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """``target ← path → transform`` (see module docstring).

    Attributes:
        direction: ``"both"``, ``"in"`` (read only: e.g. an original code the writer derives
            from the typed value instead) or ``"out"``.
    """

    target: str
    path: str
    transform: str = "text"
    required: bool = False
    many: bool = False
    direction: str = "both"


@dataclass(frozen=True, slots=True)
class Each:
    """A list target: one item per node at ``path``, built by ``rules``.

    Attributes:
        when: ``(target, value)`` constants: reading sets them on each item, writing renders
            only the items that have them.
        single: the path names one node shared with other rules (e.g. two dates read from
            attributes of the same header): writing reuses it instead of adding a sibling.
        keep_unmapped: the item model has ``extensions``: what no rule read inside the item's
            node is kept there (paths relative to the node) instead of at document level.
    """

    target: str
    path: str
    rules: tuple[Rule, ...]
    when: tuple[tuple[str, Any], ...] = ()
    single: bool = False
    keep_unmapped: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    """One nested object at ``path`` (``Money``: amount and currency), kept only when ``key`` is.

    A ``<Money currency="USD"/>`` with no amount is then not half an object: it stays
    unread and lands in ``extensions`` like any other unmapped data.
    """

    target: str
    path: str
    rules: tuple[Rule, ...]
    key: str


@dataclass(frozen=True, slots=True)
class Const:
    """Set ``target`` to ``value`` on read (writing ignores it)."""

    target: str
    value: Any


Rule = Union[Field, Each, Group, Const]


@dataclass(frozen=True, slots=True)
class XmlSpec:
    """One document mapping.

    Attributes:
        name: registry key, e.g. ``"cxml/OrderRequest/purchase_order"``.
        document_type: canonical ``document_type`` it produces.
        context: path from the root to the node the rules are relative to.
        rules: the table.
        namespaces: prefix → namespace used by the paths.
    """

    name: str
    document_type: str
    context: str
    rules: tuple[Rule, ...]
    namespaces: Mapping[str, str] = field(default_factory=dict)
    #: key under ``extensions`` for data no rule read (``"cxml"``, ``"ubl"``)
    format: str = "xml"
    #: code lists as data for ``code:<list>`` transforms: list → {code as sent: canonical value};
    #: writing uses the first code that maps to the value; a ``"*"`` entry catches unknown codes
    code_lists: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: where extensions of other formats travel, as JSON text (``""``: not carried)
    blob_path: str = ""


# --- transforms ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transform:
    """A named pair of pure functions: XML text → canonical value, and back."""

    read: Callable[[str], Any]
    write: Callable[[Any], str]


def _text_in(text: str) -> str:
    return text


def _decimal_in(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError("not a decimal number") from exc
    if not value.is_finite():
        raise ValueError("not a finite number")
    return value


def _int_in(text: str) -> int:
    if not re.fullmatch(r"[+-]?\d{1,18}", text.strip()):
        raise ValueError("not an integer")
    return int(text)


_ISO_DATETIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}:\d{2})?"
)


def _datetime_in(text: str) -> dict[str, Any]:
    """ISO 8601 (``2000-10-12T18:41:29-08:00`` or ``2010-01-20``) → DateTimeValue fields."""
    match = _ISO_DATETIME.fullmatch(text.strip())
    if match is None:
        raise ValueError("not an ISO 8601 date or date-time")
    day, hour, minute, second, fraction, zone = match.groups()
    value: dict[str, Any] = {"date": dt.date.fromisoformat(day).isoformat()}
    if hour is not None:
        precision = "second" if second is not None else "minute"
        time = dt.time(int(hour), int(minute), int(second or 0))
        if fraction:
            precision = "hundredth"
            time = time.replace(microsecond=int(fraction[:2].ljust(2, "0")) * 10_000)
        value.update(time=time.isoformat(), time_precision=precision)
    if zone is not None:
        value["time_code"] = zone
    return value


def _datetime_out(value: Mapping[str, Any]) -> str:
    text = str(value.get("date") or "")
    time = value.get("time")
    if time:
        parsed = dt.time.fromisoformat(str(time))
        precision = value.get("time_precision")
        text += "T" + (parsed.strftime("%H:%M") if precision == "minute" else parsed.strftime("%H:%M:%S"))
        if precision == "hundredth":
            text += f".{parsed.microsecond // 10_000:02d}"
    code = value.get("time_code")
    if code and re.fullmatch(r"Z|[+-]\d{2}:\d{2}", str(code)):
        text += str(code)
    return text


def _date_in(text: str) -> str:
    """An xs:date, or the date part of an xs:dateTime."""
    match = _ISO_DATETIME.fullmatch(text.strip())
    if match is None:
        raise ValueError("not an ISO 8601 date")
    return dt.date.fromisoformat(match.group(1)).isoformat()


def _time_in(text: str) -> str:
    """An xs:time; fractions of a second are dropped (no canonical precision below seconds here)."""
    try:
        return dt.time.fromisoformat(text.strip()).replace(microsecond=0).isoformat()
    except ValueError as exc:
        raise ValueError("not an ISO 8601 time") from exc


def _time_precision_in(text: str) -> str:
    """``12:30`` → minute, ``12:30:00`` (fractions ignored, as :func:`_time_in` drops them) → second."""
    return "second" if re.match(r"\d{2}:\d{2}:\d{2}", text.strip()) else "minute"


def _currency_in(text: str) -> str:
    """An ISO 4217 code (three capitals), checked here so one bad attribute is an issue, not a lost document."""
    if not re.fullmatch(r"[A-Z]{3}", text.strip()):
        raise ValueError("not an ISO 4217 currency code")
    return text.strip()


def _bool_in(text: str) -> bool:
    if text.strip().lower() not in ("true", "false", "1", "0"):
        raise ValueError("not a boolean")
    return text.strip().lower() in ("true", "1")


TRANSFORMS: Mapping[str, Transform] = {
    "text": Transform(_text_in, str),
    "decimal": Transform(_decimal_in, lambda v: format(Decimal(str(v)), "f")),
    "int": Transform(_int_in, str),
    "datetime": Transform(_datetime_in, _datetime_out),
    "date": Transform(_date_in, str),
    "time": Transform(_time_in, str),
    "time_precision": Transform(_time_precision_in, str),
    "bool": Transform(_bool_in, lambda v: "true" if v else "false"),
    "currency": Transform(_currency_in, str),
}

def _transform(name: str, code_lists: Mapping[str, Mapping[str, str]]) -> Transform:
    if name.startswith("code:"):
        table = code_lists[name[5:]]
        inverse: dict[str, str] = {}
        for code, value in table.items():
            if code != "*":
                inverse.setdefault(value, code)

        def read_code(text: str) -> str:
            if text not in table and "*" not in table:
                raise ValueError(f"code not in list {name[5:]}")
            return table.get(text, table.get("*", ""))

        def write_code(value: Any) -> str:
            if str(value) not in inverse:
                raise ValueError(f"value has no code in list {name[5:]}")
            return inverse[str(value)]

        return Transform(read_code, write_code)
    return TRANSFORMS[name]


# --- paths --------------------------------------------------------------------------------------

_STEP = re.compile(r"(@?)((?:\{[^}]*\}|[\w.-]+:)?[\w.-]+|\.)((?:\[[^\]]*\])*)")
_PREDICATE = re.compile(r"\[(@?)((?:[\w.-]+:)?[\w.-]+)='([^']*)'\]")


@dataclass(frozen=True, slots=True)
class _Step:
    name: str  # Clark tag, "@" + Clark attribute, or "."
    predicates: tuple[tuple[str, str], ...] = ()  # (Clark name or "@"+name, value)


def _qualify(name: str, namespaces: Mapping[str, str]) -> str:
    if name.startswith("{") or name == ".":
        return name
    prefix, _, local = name.rpartition(":")
    if not prefix:
        return local  # unprefixed: no namespace (cXML), or attributes
    if prefix == "xml":
        return f"{{{XML_NS}}}{local}"
    if prefix not in namespaces:
        raise SpecInvalid(f"unknown namespace prefix {prefix!r} in path", code="SPEC_INVALID")
    return f"{{{namespaces[prefix]}}}{local}"


def _default_ns(name: str, namespaces: Mapping[str, str]) -> str:
    """Unprefixed element names take the spec's default namespace (key ``""``), if any."""
    if "" in namespaces and not name.startswith(("{", "@", ".")) and ":" not in name:
        return f"{{{namespaces['']}}}{name}"
    return _qualify(name, namespaces)


def parse_path(path: str, namespaces: Mapping[str, str]) -> tuple[_Step, ...]:
    """Compile a path string into steps (raises SpecInvalid on bad syntax); memoized, it is pure."""
    return _compiled(path, tuple(sorted(namespaces.items())))


@lru_cache(maxsize=4096)
def _compiled(path: str, namespace_items: tuple[tuple[str, str], ...]) -> tuple[_Step, ...]:
    namespaces = dict(namespace_items)
    steps: list[_Step] = []
    for raw in _split_path(path):
        match = _STEP.fullmatch(raw)
        if match is None:
            raise SpecInvalid(f"bad path step {raw!r} in {path!r}", code="SPEC_INVALID")
        is_attribute, name, predicates = match.groups()
        qualified = "@" + _qualify(name, namespaces) if is_attribute else _default_ns(name, namespaces)
        preds = tuple(
            ("@" + _qualify(n, namespaces) if at else _default_ns(n, namespaces), v)
            for at, n, v in _PREDICATE.findall(predicates)
        )
        steps.append(_Step(qualified, preds))
    return tuple(steps)


def _split_path(path: str) -> list[str]:
    return re.findall(r"(?:\{[^}]*\}|[^/{])+", path)


def _matches(node: XmlNode, step: _Step) -> bool:
    if node.tag != step.name:
        return False
    for name, value in step.predicates:
        if name.startswith("@"):
            if node.get(name[1:], None) != value:  # type: ignore[arg-type]
                return False
        elif not any(c.tag == name and c.text == value for c in node.children):
            return False
    return True


def new_tracker() -> _Tracker:
    """A fresh record of what rules read, shared by the envelope and document tables."""
    return _Tracker()


class _Tracker:
    """Records which (node, attribute) pairs the rules read."""

    def __init__(self) -> None:
        self.used: set[tuple[int, str | None]] = set()

    def mark(self, node: XmlNode, attribute: str | None = None) -> None:
        self.used.add((id(node), attribute))

    def mark_step(self, node: XmlNode, step: _Step) -> None:
        for name, value in step.predicates:
            if name.startswith("@"):
                self.mark(node, name[1:])
            else:
                for child in node.children:
                    if child.tag == name and child.text == value:
                        self.mark(child)
        if not node.children and not node.text:
            self.mark(node)


def select(node: XmlNode, steps: tuple[_Step, ...], tracker: _Tracker | None = None) -> list[Any]:
    """Nodes (or attribute values, for a last ``@`` step) at ``steps`` below ``node``."""
    current: list[XmlNode] = [node]
    for index, step in enumerate(steps):
        if step.name == ".":
            continue
        if step.name.startswith("@"):
            values = []
            for item in current:
                value = item.get(step.name[1:], None)  # type: ignore[arg-type]
                if value is not None:
                    values.append(value)
                    if tracker:
                        tracker.mark(item, step.name[1:])
            return values
        current = [child for item in current for child in item.children if _matches(child, step)]
        if tracker:
            for item in current:
                tracker.mark_step(item, step)
    return current


# --- reading ------------------------------------------------------------------------------------


def read(root: XmlNode, spec: XmlSpec, tracker: _Tracker) -> tuple[dict[str, Any], list[Issue]]:
    """Apply ``spec`` to the document under ``root``.

    Args:
        root: the document element.
        spec: the table.
        tracker: collects what was read (for :func:`unmapped`).

    Returns:
        Canonical JSON data (not yet validated) and the issues found.
    """
    issues: list[Issue] = []
    contexts = select(root, parse_path(spec.context, spec.namespaces), tracker)
    if not contexts:
        return {}, [Issue("MISSING_REQUIRED", f"no {spec.context} element", (spec.context,))]
    data: dict[str, Any] = {"document_type": spec.document_type} if spec.document_type else {}
    _read_rules(contexts[0], spec.rules, spec, data, tracker, issues, (spec.context,))
    return data, issues


def _read_rules(node, rules, spec: XmlSpec, data, tracker, issues, loc) -> bool:
    """Apply ``rules`` at ``node`` into ``data``; True when any Field found a value."""
    found = False
    for rule in rules:
        if isinstance(rule, Const):
            _put(data, rule.target, rule.value)
        elif isinstance(rule, Field):
            if rule.direction != "out":
                found = _read_field(node, rule, spec, data, tracker, issues, loc) or found
        elif isinstance(rule, Group):
            found = _read_group(node, rule, spec, data, tracker, issues, loc) or found
        else:
            found = _read_each(node, rule, spec, data, tracker, issues, loc) or found
    return found


def _read_group(node, rule: Group, spec: XmlSpec, data, tracker, issues, loc) -> bool:
    for child in select(node, parse_path(rule.path, spec.namespaces))[:1]:
        item: dict[str, Any] = {}
        trial = _Tracker()
        _read_rules(child, rule.rules, spec, item, trial, issues, (*loc, rule.path))
        if _get(item, rule.key) is not None:
            tracker.used |= trial.used
            _put(data, rule.target, item)
            return True
    return False


def _read_each(node, rule: Each, spec: XmlSpec, data, tracker, issues, loc) -> bool:
    items = []
    for index, child in enumerate(select(node, parse_path(rule.path, spec.namespaces), tracker)):
        item: dict[str, Any] = {}
        for key, value in rule.when:
            _put(item, key, value)
        # an item with nothing but its constants (an empty <Comments/>) is not an item
        if _read_rules(child, rule.rules, spec, item, tracker, issues, (*loc, rule.path, index)):
            if rule.keep_unmapped and isinstance(child, XmlNode):
                rest = unmapped(child, tracker, {v: k for k, v in spec.namespaces.items()}, top=True)
                if rest:
                    item.setdefault("extensions", {})[spec.format] = {"unmapped": rest}
                _mark_subtree(child, tracker)
            items.append(item)
    if items:
        _extend(data, rule.target, items)
    return bool(items)


def _mark_subtree(node: XmlNode, tracker: _Tracker) -> None:
    for item in node.iter():
        tracker.mark(item)
        for name, _ in item.attrib:
            tracker.mark(item, name)


def _read_field(node, rule: Field, spec: XmlSpec, data, tracker, issues, loc) -> bool:
    found: list[str] = []
    for item in select(node, parse_path(rule.path, spec.namespaces), tracker):
        if isinstance(item, XmlNode):
            if not item.text or (found and not rule.many):
                continue
            tracker.mark(item)
            item = item.text
        if item != "":
            found.append(item)
    if not found:
        if rule.required:
            issues.append(Issue("MISSING_REQUIRED", f"{rule.path} is required", (*loc, rule.path)))
        return False
    transform = _transform(rule.transform, spec.code_lists)
    values = []
    for text in found if rule.many else found[:1]:
        try:
            values.append(transform.read(text))
        except ValueError as exc:
            issues.append(Issue("VALUE_INVALID", str(exc), (*loc, rule.path), input=text[:80]))
    if values:
        _put(data, rule.target, values if rule.many else values[0])
    return bool(values)


def _put(data: dict[str, Any], target: str, value: Any) -> None:
    *parents, last = target.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[last] = value


def _extend(data: dict[str, Any], target: str, items: list[Any]) -> None:
    *parents, last = target.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data.setdefault(last, []).extend(items)


def _get(data: Mapping[str, Any], target: str) -> Any:
    value: Any = data
    for key in target.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def read_document(root: XmlNode, spec: XmlSpec, tracker: _Tracker) -> tuple[dict[str, Any], list[Issue]]:
    """Rules, then the extensions blob, then everything unread into ``extensions[format]``.

    Args:
        root: the document element.
        spec: the document table.
        tracker: shared with any envelope table read before, so its data is not "unmapped".

    Returns:
        Canonical JSON data (not yet validated) and the issues.
    """
    data, issues = read(root, spec, tracker)
    extensions: dict[str, Any] = {}
    if spec.blob_path:
        for node in select(root, parse_path(f"{spec.context}/{spec.blob_path}", spec.namespaces), tracker):
            tracker.mark(node)
            extensions.update(_load_blob(node.text, issues))
    rest = unmapped(root, tracker, {v: k for k, v in spec.namespaces.items()})
    if rest:
        extensions[spec.format] = {"unmapped": rest}
    if extensions:
        data["extensions"] = extensions
    return data, issues


def _load_blob(text: str, issues: list[Issue]) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        issues.append(Issue("EXTENSION_INVALID", "crossdock.extensions is not a JSON object", ("extensions",)))
        return {}
    return value


def write_document(data: Mapping[str, Any], spec: XmlSpec, root: Draft) -> list[Issue]:
    """:func:`write`, then put back ``extensions[format]`` and carry the other formats' extensions.

    Args:
        data: the canonical document as JSON-mode data.
        spec: the document table.
        root: the document element being built.

    Returns:
        The issues.
    """
    issues = write(data, spec, root)
    extensions = dict(data.get("extensions") or {})
    own = extensions.pop(spec.format, None) or {}
    issues.extend(restore_unmapped(root, own.get("unmapped", []) if isinstance(own, dict) else [], spec.namespaces))
    if extensions:
        if spec.blob_path:
            steps = parse_path(f"{spec.context}/{spec.blob_path}", spec.namespaces)
            _set_text(root, steps, json.dumps(extensions, ensure_ascii=False, sort_keys=True), new_last=True)
        else:
            issues.append(Issue("NOT_REPRESENTABLE", "extensions of other formats are not carried", ("extensions",), "warning"))
    return issues


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What a document reader (UBL, OAGIS) found: the root element's local name, the canonical
    document (``None`` when unsupported or invalid) and the issues."""

    root: str
    document: Any
    issues: list[Issue]


def map_document(root: XmlNode, spec: XmlSpec, tracker: _Tracker, model: type) -> tuple[Any, list[Issue]]:
    """:func:`read_document`, then :func:`validate` into ``model``, then :func:`gtin_issues`.

    Returns:
        The canonical document (``None`` when the mapped data is not a valid ``model``) and every
        issue: the rules' first, then the model's, then ``GTIN_CHECK_DIGIT`` warnings.
    """
    data, issues = read_document(root, spec, tracker)
    canonical, validation = validate(data, model)
    issues = issues + validation
    if canonical is not None:
        issues.extend(gtin_issues(data))
    return canonical, issues


def gtin_issues(data: Mapping[str, Any]) -> list[Issue]:
    """``GTIN_CHECK_DIGIT`` warnings for every gtin id, wherever it sits in the mapped data."""
    issues: list[Issue] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, dict):
            if value.get("kind") == "gtin" and isinstance(value.get("value"), str) and not gtin_check_digit_ok(value["value"]):
                issues.append(Issue("GTIN_CHECK_DIGIT", "GTIN check digit is wrong", loc, "warning", value["value"]))
            stack.extend((child, (*loc, key)) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, (*loc, index)) for index, child in enumerate(value))
    return sorted(issues, key=lambda issue: str(issue.loc))


def validate(data: Mapping[str, Any], model: type, *, code: str = "CANONICAL_INVALID") -> tuple[Any, list[Issue]]:
    """Validate mapped data into ``model``; pydantic's errors become Issues (never raised).

    Returns:
        The instance (``None`` when invalid) and the issues.
    """
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [
            Issue(code, error["msg"], tuple(error["loc"]), input=_trim(error.get("input")))
            for error in exc.errors(include_url=False)
        ]


def _trim(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)[:80]


# --- unmapped data ------------------------------------------------------------------------------


def unmapped(root: XmlNode, tracker: _Tracker, prefixes: Mapping[str, str], *, top: bool = False) -> list[list[str]]:
    """Every leaf text and attribute no rule read, as ``[path, value]`` (paths from the root).

    Args:
        root: the document element (or a list item's node).
        tracker: what the rules read.
        prefixes: namespace → prefix for readable paths (others are written in Clark notation).
        top: the root's own text and attributes are part of the result (a list item's node);
            for a document the root is implied by the format.

    Returns:
        The pairs, sorted by path so the list does not depend on sibling order.
    """
    found: list[tuple[tuple[Any, ...], list[str]]] = []
    stack: list[tuple[XmlNode, str, tuple[Any, ...]]] = [(root, "", ())]
    while stack:
        node, path, key = stack.pop()
        if node is root and not top:
            stack.extend(_child_entries(node, path, key, prefixes))
            continue
        for name, value in node.attrib:
            if (id(node), name) not in tracker.used:
                found.append(((*key, "@" + name), [f"{path}/@{_short(name, prefixes)}".lstrip("/"), value]))
        if not node.children and (id(node), None) not in tracker.used:
            if node.text or not node.attrib:
                found.append((key, [path or ".", node.text]))
        stack.extend(_child_entries(node, path, key, prefixes))
    return [pair for _, pair in sorted(found, key=lambda item: item[0])]


def _child_entries(node: XmlNode, path: str, key: tuple[Any, ...], prefixes: Mapping[str, str]):
    counts: dict[str, int] = {}
    for child in node.children:
        counts[child.tag] = counts.get(child.tag, 0) + 1
        step = f"{_short(child.tag, prefixes)}[{counts[child.tag]}]"
        yield child, f"{path}/{step}".lstrip("/"), (*key, child.tag, counts[child.tag])


def _short(name: str, prefixes: Mapping[str, str]) -> str:
    ns = namespace_of(name)
    if not ns:
        return name
    if ns == XML_NS:
        return f"xml:{local_name(name)}"
    if ns in prefixes:
        prefix = prefixes[ns]
        return f"{prefix}:{local_name(name)}" if prefix else local_name(name)
    return name


# --- writing ------------------------------------------------------------------------------------


class Draft:
    """A mutable element used while writing; :meth:`freeze` gives the :class:`XmlNode`."""

    __slots__ = ("tag", "attrib", "text", "children")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.attrib: dict[str, str] = {}
        self.text = ""
        self.children: list[Draft] = []

    def add(self, tag: str) -> Draft:
        child = Draft(tag)
        self.children.append(child)
        return child

    def find_or_add(self, step: _Step) -> Draft:
        for child in self.children:
            if child.tag == step.name and all(_draft_has(child, n, v) for n, v in step.predicates):
                return child
        return self.add_step(step)

    def add_step(self, step: _Step) -> Draft:
        child = self.add(step.name)
        for name, value in step.predicates:
            if name.startswith("@"):
                child.attrib[name[1:]] = value
            else:
                child.add(name).text = value
        return child

    def freeze(self) -> XmlNode:
        children = tuple(child.freeze() for child in self.children)
        return XmlNode(self.tag, tuple(self.attrib.items()), self.text, children)


def _draft_has(draft: Draft, name: str, value: str) -> bool:
    if name.startswith("@"):
        return draft.attrib.get(name[1:]) == value
    return any(c.tag == name and c.text == value for c in draft.children)


def write(data: Mapping[str, Any], spec: XmlSpec, root: Draft) -> list[Issue]:
    """Render canonical JSON ``data`` into ``root`` following ``spec``.

    Args:
        data: the canonical document as JSON-mode data (``model_dump(mode="json")``).
        spec: the table.
        root: the document element being built (the envelope may already be in it).

    Returns:
        Issues: values that would not transform, and ``NOT_REPRESENTABLE`` for list items no
        ``Each`` rule accepts.
    """
    issues: list[Issue] = []
    context = _make(root, parse_path(spec.context, spec.namespaces))
    _write_rules(context, spec.rules, spec, data, issues, ())
    return issues


def _write_rules(node: Draft, rules, spec: XmlSpec, data, issues, loc) -> None:
    placed: dict[str, set[int]] = {}
    for rule in rules:
        if isinstance(rule, Field) and rule.direction != "in":
            _write_field(node, rule, spec, data, issues, loc)
        elif isinstance(rule, Group):
            value = _get(data, rule.target)
            if value:
                child = _make(node, parse_path(rule.path, spec.namespaces))
                _write_rules(child, rule.rules, spec, value, issues, (*loc, rule.target))
        elif isinstance(rule, Each):
            items = _get(data, rule.target) or []
            for index, item in enumerate(items):
                if index in placed.get(rule.target, set()):
                    continue
                if all(_get(item, key) == value for key, value in rule.when):
                    placed.setdefault(rule.target, set()).add(index)
                    child = _make(node, parse_path(rule.path, spec.namespaces), always_new=not rule.single)
                    _write_rules(child, rule.rules, spec, item, issues, (*loc, rule.target, index))
                    if rule.keep_unmapped:
                        rest = _get(item, f"extensions.{spec.format}.unmapped") or []
                        issues.extend(restore_unmapped(child, rest, spec.namespaces))
                        issues.extend(_foreign_extensions(item, spec.format, (*loc, rule.target, index)))
    for target in {r.target for r in rules if isinstance(r, Each)}:
        for index, item in enumerate(_get(data, target) or []):
            if index not in placed.get(target, set()):
                issues.append(Issue(
                    "NOT_REPRESENTABLE", "no rule of this format carries this item", (*loc, *target.split("."), index),
                    "warning",
                ))


def _foreign_extensions(item: Mapping[str, Any], fmt: str, loc: tuple[Any, ...]) -> list[Issue]:
    """Item-level extensions from another format have no place in this one: say so."""
    return [
        Issue("NOT_REPRESENTABLE", f"{key} extensions of this item are not carried in {fmt}", (*loc, "extensions", key), "warning")
        for key in (item.get("extensions") or {})
        if key != fmt
    ]


def _write_field(node: Draft, rule: Field, spec: XmlSpec, data, issues, loc) -> None:
    value = _get(data, rule.target)
    if value is None or value == [] or value == "":
        return
    transform = _transform(rule.transform, spec.code_lists)
    steps = parse_path(rule.path, spec.namespaces)
    for one in value if rule.many else [value]:
        try:
            text = transform.write(one)
        except (ValueError, TypeError) as exc:
            issues.append(Issue("VALUE_INVALID", str(exc), (*loc, *rule.target.split(".")), input=str(one)[:80]))
            continue
        _set_text(node, steps, text, new_last=rule.many)


def _set_text(node: Draft, steps: tuple[_Step, ...], text: str, *, new_last: bool) -> None:
    if steps and steps[-1].name.startswith("@"):
        _make(node, steps[:-1]).attrib[steps[-1].name[1:]] = text
    else:
        _make(node, steps, always_new=new_last).text = text


def _make(node: Draft, steps: tuple[_Step, ...], *, always_new: bool = False) -> Draft:
    """Walk ``steps`` from ``node``, creating what is missing (the last step anew if asked)."""
    for index, step in enumerate(steps):
        if step.name == ".":
            continue
        last = index == len(steps) - 1
        node = node.add_step(step) if (always_new and last) else node.find_or_add(step)
    return node


def restore_unmapped(root: Draft, pairs: list[Any], namespaces: Mapping[str, str]) -> list[Issue]:
    """Put ``[path, value]`` pairs from :func:`unmapped` back into a document being written."""
    issues: list[Issue] = []
    for index, pair in enumerate(pairs):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            issues.append(Issue("EXTENSION_INVALID", "unmapped entry is not [path, value]", ("extensions", index)))
            continue
        path, value = pair
        try:
            _restore_one(root, path, value, namespaces)
        except (SpecInvalid, ValueError) as exc:
            issues.append(Issue("EXTENSION_INVALID", str(exc), ("extensions", index), input=path[:80]))
    return issues


_INDEXED = re.compile(r"(.+)\[(\d+)\]")


def _restore_one(root: Draft, path: str, value: str, namespaces: Mapping[str, str]) -> None:
    node = root
    for raw in _split_path(path):
        if raw == ".":
            continue
        if raw.startswith("@"):
            node.attrib[_qualify(raw[1:], namespaces)] = value
            return
        match = _INDEXED.fullmatch(raw)
        if match is None:
            raise ValueError(f"unmapped path step {raw!r} has no index")
        tag, position = _default_ns(match.group(1), namespaces), int(match.group(2))
        same = [c for c in node.children if c.tag == tag]
        while len(same) < position:
            same.append(node.add(tag))
        node = same[position - 1]
    node.text = value


# --- checking -----------------------------------------------------------------------------------


def check_spec(spec: XmlSpec, model: type) -> None:
    """Verify a table: paths compile, transforms exist, targets exist on the model.

    Raises:
        SpecInvalid: naming the first broken rule.
    """
    parse_path(spec.context, spec.namespaces)
    _check_rules(spec.rules, spec, model, spec.name)


def _check_rules(rules, spec: XmlSpec, model: type, where: str) -> None:
    for rule in rules:
        if not isinstance(rule, Const):
            parse_path(rule.path, spec.namespaces)
        if isinstance(rule, Field):
            try:
                _transform(rule.transform, spec.code_lists)
            except KeyError as exc:
                raise SpecInvalid(f"{where}: unknown transform {rule.transform!r}", code="SPEC_INVALID") from exc
        target_model = _target_type(model, rule.target, f"{where}: {rule.target}")
        if isinstance(rule, (Each, Group)):
            _check_rules(rule.rules, spec, target_model, f"{where}/{rule.target}")


def _target_type(model: type, target: str, where: str) -> type:
    """The model class a dotted target lands in (list item class for list fields)."""
    current: Any = model
    for key in target.split("."):
        fields = getattr(current, "model_fields", None)
        if fields is None or key not in fields:
            raise SpecInvalid(f"{where}: no field {key!r} on {getattr(current, '__name__', current)}", code="SPEC_INVALID")
        current = _inner_model(fields[key].annotation)
    return current


def _inner_model(annotation: Any) -> Any:
    """Unwrap ``X | None`` and ``tuple[X, ...]`` down to a model class (or the plain type)."""
    pending: list[Any] = [annotation]
    while pending:
        candidate = pending.pop(0)
        if hasattr(candidate, "model_fields"):
            return candidate
        pending.extend(getattr(candidate, "__args__", ()))
    return annotation
