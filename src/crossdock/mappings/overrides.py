"""Partner variants as data: a base spec plus a small override, merged (STYLE item 30).

An override file (YAML or JSON)::

    name: acme.850                 # the variant's spec name
    base: x12.850                  # the spec it changes
    route: {sender: "ACME", receiver: "*", version: "*"}   # optional: where it applies
    rules:                         # add, or replace the rule with the same target in that table
      - {target: contract_number, source: "REF[CT]02"}
      - {table: lines, target: notes, source: "MSG", each: [{target: text, source: MSG01}]}
      - {table: lines, target: price_basis, source: PO105, default: "PE"}
    remove:                        # drop rules by target
      - {table: "", target: fob}

``table`` addresses a rule table by the targets of the Each/One rules leading to it
(``""`` the root, ``lines``, ``lines.parties``) or a named table (``@pack``).
An added rule goes first in its table, so it takes its data before the base rules inbound.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from crossdock.mappings.spec import Collect, DocumentSpec, Each, Field, One, Rule, Rules, targets_of
from crossdock.schemas.errors import SpecInvalid

__all__ = ["SpecOverride", "RuleChange", "load_override", "apply_override", "override_from_dict"]


@dataclass(frozen=True, slots=True)
class RuleChange:
    """Add/replace (``rule`` set) or remove (``rule`` None) the rule for ``target`` in ``table``."""

    table: str
    target: str
    rule: Rule | None


@dataclass(frozen=True, slots=True)
class SpecOverride:
    """A partner variant: which spec it changes, the changes, and where it applies."""

    name: str
    base: str
    changes: tuple[RuleChange, ...] = ()
    route: dict[str, str] = field(default_factory=dict)


def _rule_from_dict(data: dict[str, Any]) -> Rule:
    try:
        if "each" in data or "one" in data:
            nested = tuple(_rule_from_dict(r) for r in data.get("each", data.get("one")) or ())
            cls = Each if "each" in data else One
            return cls(data["target"], data["source"], nested, bool(data.get("required", False)))
        if "collect" in data:
            return Collect(data["target"], data["source"], data["collect"])
        target = data["target"]
        source = data["source"]
        return Field(
            tuple(target) if isinstance(target, list) else target,
            tuple(source) if isinstance(source, list) else source,
            tuple(data.get("transforms") or ()),
            data.get("default"),
            bool(data.get("required", False)),
        )
    except (KeyError, TypeError) as exc:
        raise SpecInvalid(f"override rule {data!r} is incomplete: {exc}", code="SPEC_OVERRIDE_INVALID") from exc


def override_from_dict(data: dict[str, Any]) -> SpecOverride:
    """Build an override from decoded YAML/JSON.

    Raises:
        SpecInvalid: (``SPEC_OVERRIDE_INVALID``) missing keys or wrong shapes.
    """
    if not isinstance(data, dict) or "name" not in data or "base" not in data:
        raise SpecInvalid("an override needs 'name' and 'base'", code="SPEC_OVERRIDE_INVALID")
    changes = [RuleChange(str(r.get("table", "")), _target(r), _rule_from_dict(r)) for r in data.get("rules") or ()]
    changes += [RuleChange(str(r.get("table", "")), str(r["target"]), None) for r in data.get("remove") or ()]
    route = {k: str(v) for k, v in (data.get("route") or {}).items()}
    return SpecOverride(str(data["name"]), str(data["base"]), tuple(changes), route)


def _target(data: dict[str, Any]) -> str:
    target = data.get("target")
    return ",".join(target) if isinstance(target, list) else str(target)


def load_override(path: str | Path) -> SpecOverride:
    """Read an override from a ``.yaml``/``.yml`` or ``.json`` file.

    Raises:
        SpecInvalid: unreadable file, bad syntax or shape.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml  # only needed for YAML partner specs
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise SpecInvalid(f"cannot read partner spec {path.name}: {exc}", code="SPEC_OVERRIDE_INVALID") from exc
    return override_from_dict(data)


def _key(rule: Rule) -> str:
    return ",".join(targets_of(rule))


def _change_table(rules: Rules, change: RuleChange) -> Rules:
    kept = tuple(r for r in rules if _key(r) != change.target)
    return kept if change.rule is None else (change.rule, *kept)


def _apply(spec: DocumentSpec, rules: Rules, path: list[str], change: RuleChange) -> Rules:
    if not path:
        return _change_table(rules, change)
    head, rest = path[0], path[1:]
    out: list[Rule] = []
    found = False
    for rule in rules:
        if isinstance(rule, (Each, One)) and rule.target == head and not found:
            found = True
            rule = replace(rule, rules=_apply(spec, spec.table(rule.rules), rest, change))
        out.append(rule)
    if not found:
        raise SpecInvalid(f"override table {change.table!r} does not exist in {spec.name}",
                          code="SPEC_OVERRIDE_INVALID")
    return tuple(out)


def apply_override(spec: DocumentSpec, override: SpecOverride) -> DocumentSpec:
    """The variant: ``spec`` with ``override``'s changes merged in (``spec`` is not modified).

    Raises:
        SpecInvalid: the override names a table the spec does not have.
    """
    rules, tables = spec.rules, dict(spec.tables)
    for change in override.changes:
        if change.table.startswith("@"):
            name = change.table[1:]
            if name not in tables:
                raise SpecInvalid(f"no table {name!r} in {spec.name}", code="SPEC_OVERRIDE_INVALID")
            tables[name] = _change_table(tables[name], change)
        else:
            rules = _apply(spec, rules, [p for p in change.table.split(".") if p], change)
    return replace(spec, name=override.name, rules=rules, tables=tables)
