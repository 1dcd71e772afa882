"""The explicit spec registry, its startup check, and routing to the most specific spec.

Specs are listed here by hand (no discovery, STYLE item 31). :func:`check_specs` verifies every
spec: each source path parses, each target names a field of the model it builds, each transform
and code list exists, each loop table builds a model that can hold ``extensions``. Routing
(STYLE item 29) picks, for (sender, receiver, document type, version), the route that matches
with the most non-wildcard fields.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from crossdock.mappings.overrides import SpecOverride, apply_override
from crossdock.mappings.spec import Collect, Const, DocumentSpec, Each, Field, One, Rules
from crossdock.mappings.transforms import get_transform
from crossdock.mappings.x12.paths import parse_path
from crossdock.mappings.x12.specs.acks import FA_997, FA_999, TA1_SPEC
from crossdock.mappings.x12.specs.inventory import IB_846, PD_852
from crossdock.mappings.x12.specs.invoicing import IN_810
from crossdock.mappings.x12.specs.orders import PC_860, PO_850, PR_855
from crossdock.mappings.x12.specs.planning import PS_830
from crossdock.mappings.x12.specs.shipping import SH_856
from crossdock.schemas.errors import PartnerUnknown, SpecInvalid

__all__ = ["X12_SPECS", "Route", "MappingRegistry", "check_spec", "check_specs", "default_registry",
           "select_spec", "WILDCARD"]

#: every X12 spec, registered explicitly
X12_SPECS: tuple[DocumentSpec, ...] = (PO_850, PC_860, PR_855, SH_856, IN_810, IB_846, PD_852, PS_830,
                                       FA_997, FA_999, TA1_SPEC)
WILDCARD = "*"
#: entries kept per registry memo (routing answers, partner variants); beyond it, answers are recomputed
_MEMO_SIZE = 1024
_PATH_PARSERS = {"x12": parse_path}


@dataclass(frozen=True, slots=True)
class Route:
    """(sender, receiver, document type, version) -> spec name; ``*`` matches anything.

    ``document_type`` matches the canonical type (``purchase_order``) or the X12 set id (``850``);
    ``version`` matches exactly or by prefix (``004010`` matches ``004010VICS``).
    """

    sender: str
    receiver: str
    document_type: str
    version: str
    spec: str

    def score(self, sender: str, receiver: str, doc_types: tuple[str, ...], version: str) -> int | None:
        """How specific the match is (number of non-wildcard fields), or ``None`` if it does not match."""
        checks = (
            (self.sender, self.sender == sender),
            (self.receiver, self.receiver == receiver),
            (self.document_type, self.document_type in doc_types),
            (self.version, bool(version) and version.startswith(self.version)),
        )
        if any(value != WILDCARD and not ok for value, ok in checks):
            return None
        return sum(1 for value, _ in checks if value != WILDCARD)


def _model_fields(model: type[BaseModel]) -> dict[str, Any]:
    return {name: info.annotation for name, info in model.model_fields.items()}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return origin in (tuple, list)


def _target_model(model: type[BaseModel], target: str, problems: list[str], where: str) -> Any:
    current: Any = model
    annotation: Any = None
    for name in target.split("."):
        models = _models_in(current) if annotation is not None else [current]
        owner = next((m for m in models if name in m.model_fields), None)
        if owner is None:
            problems.append(f"{where}: {target!r} is not a field of {model.__name__}")
            return None
        annotation = owner.model_fields[name].annotation
        current = annotation
    return annotation


def _check_rules(spec: DocumentSpec, rules: Rules, model: type[BaseModel], problems: list[str],
                 where: str, seen: set[tuple[str, str]]) -> None:
    parse = _PATH_PARSERS.get(spec.format)
    for rule in rules:
        if isinstance(rule, Const):
            _target_model(model, rule.target, problems, where)
            continue
        sources = rule.sources if isinstance(rule, Field) else (rule.source,)
        for source in sources:
            try:
                if parse is not None:
                    parse(source)
            except SpecInvalid as exc:
                problems.append(f"{where}: {exc.message}")
        names = rule.transforms if isinstance(rule, Field) else ((rule.transform,) if isinstance(rule, Collect) else ())
        for name in names:
            try:
                get_transform(name)
            except SpecInvalid as exc:
                problems.append(f"{where}: {exc.message}")
        targets = rule.targets if isinstance(rule, Field) else (rule.target,)
        annotations = [_target_model(model, t, problems, where) for t in targets]
        if isinstance(rule, (Each, One)):
            _check_nested(spec, rule, annotations[0], problems, where, seen)


def _check_nested(spec: DocumentSpec, rule: Each | One, annotation: Any, problems: list[str], where: str,
                  seen: set[tuple[str, str]]) -> None:
    if annotation is None:
        return
    if isinstance(rule.rules, str) and rule.rules not in spec.tables:
        problems.append(f"{where}: unknown table {rule.rules!r}")
        return
    if isinstance(rule, Each) and not _is_list(annotation):
        problems.append(f"{where}: Each target {rule.target!r} is not a list field")
    models = _models_in(annotation)
    if not models:
        problems.append(f"{where}: {rule.target!r} does not hold a model")
        return
    child_model = models[0]
    loop = spec.structure is not None and _declares_loop(spec.structure, parse_path(rule.source).step.segment)
    if loop and "extensions" not in child_model.model_fields:
        problems.append(f"{where}: loop {rule.source} maps to {child_model.__name__}, which has no extensions")
    key = (str(rule.rules) if isinstance(rule.rules, str) else str(id(rule.rules)), child_model.__name__)
    if key in seen:
        return
    seen.add(key)
    _check_rules(spec, spec.table(rule.rules), child_model, problems, f"{where}/{rule.target}", seen)


def _declares_loop(shape: Any, segment_id: str) -> bool:
    return any(c.trigger == segment_id or _declares_loop(c, segment_id) for c in shape.children)


def check_spec(spec: DocumentSpec) -> list[str]:
    """Every problem of one spec, as sentences (empty when the spec is sound)."""
    problems: list[str] = []
    _check_rules(spec, spec.rules, spec.model, problems, spec.name, set())
    return problems


def check_specs(specs: Iterable[DocumentSpec] | None = None) -> None:
    """Check every registered spec (or the given ones); call at startup.

    Raises:
        SpecInvalid: (``SPEC_INVALID``) listing every problem found.
    """
    problems = [p for spec in (X12_SPECS if specs is None else specs) for p in check_spec(spec)]
    if problems:
        raise SpecInvalid("mapping specs are invalid:\n" + "\n".join(problems))


class MappingRegistry:
    """Specs by name plus the routing table; immutable (``with_override`` returns a new one)."""

    def __init__(self, specs: Iterable[DocumentSpec], routes: Iterable[Route] = ()) -> None:
        self._specs = {s.name: s for s in specs}
        base = [Route(WILDCARD, WILDCARD, s.document_type if not s.set_id else s.set_id, WILDCARD, s.name)
                for s in self._specs.values()]
        self._routes = tuple(routes) + tuple(base)
        # memos of pure answers (the registry never changes): routing runs once per set, and a
        # partner variant is merged, checked and compiled once, not once per document
        self._selected: dict[tuple[str, str, str, str], DocumentSpec] = {}
        self._variants: dict[int, tuple[SpecOverride, MappingRegistry]] = {}

    @property
    def specs(self) -> tuple[DocumentSpec, ...]:
        return tuple(self._specs.values())

    def spec(self, name: str) -> DocumentSpec:
        """The spec registered as ``name``.

        Raises:
            SpecInvalid: (``SPEC_UNKNOWN``) no such spec.
        """
        if name not in self._specs:
            raise SpecInvalid(f"no mapping spec named {name!r}", code="SPEC_UNKNOWN")
        return self._specs[name]

    def with_override(self, override: SpecOverride) -> MappingRegistry:
        """A registry that also holds ``override``'s variant, routed as its ``route`` says."""
        known = self._variants.get(id(override))
        if known is not None and known[0] is override:
            return known[1]
        registry = self._with_override(override)
        if len(self._variants) < _MEMO_SIZE:
            self._variants[id(override)] = (override, registry)  # keeps the override, so its id stays its own
        return registry

    def _with_override(self, override: SpecOverride) -> MappingRegistry:
        variant = apply_override(self.spec(override.base), override)
        problems = check_spec(variant)
        if problems:
            raise SpecInvalid("partner spec is invalid:\n" + "\n".join(problems), code="SPEC_OVERRIDE_INVALID")
        base = self.spec(override.base)
        route = Route(override.route.get("sender", WILDCARD), override.route.get("receiver", WILDCARD),
                      override.route.get("document_type", base.set_id or base.document_type),
                      override.route.get("version", WILDCARD), variant.name)
        return MappingRegistry((*self._specs.values(), variant), (route, *self._routes[: -len(self._specs)]))

    def select_spec(self, sender: str, receiver: str, doc_type: str, version: str) -> DocumentSpec:
        """The most specific spec for (sender, receiver, document type or set id, version).

        Raises:
            PartnerUnknown: (``SPEC_NOT_ROUTED``) no route matches.
        """
        key = (sender, receiver, doc_type, version)
        chosen_spec = self._selected.get(key)
        if chosen_spec is None:
            chosen_spec = self._select(sender, receiver, doc_type, version)
            if len(self._selected) < _MEMO_SIZE:
                self._selected[key] = chosen_spec
        return chosen_spec

    def _select(self, sender: str, receiver: str, doc_type: str, version: str) -> DocumentSpec:
        doc_types = (doc_type,) + tuple(s.set_id for s in self._specs.values() if s.document_type == doc_type)
        best: tuple[int, int] | None = None
        chosen: Route | None = None
        for order, route in enumerate(self._routes):
            score = route.score(sender, receiver, doc_types, version)
            if score is not None and (best is None or (score, -order) > best):
                best, chosen = (score, -order), route
        if chosen is None:
            raise PartnerUnknown(f"no mapping for {doc_type} {version} from {sender} to {receiver}",
                                 code="SPEC_NOT_ROUTED")
        return self._specs[chosen.spec]


@lru_cache(maxsize=1)
def default_registry() -> MappingRegistry:
    """The registry of built-in specs, checked once on first use."""
    check_specs()
    return MappingRegistry(X12_SPECS)


def select_spec(sender: str, receiver: str, doc_type: str, version: str) -> DocumentSpec:
    """:meth:`MappingRegistry.select_spec` on the built-in registry."""
    return default_registry().select_spec(sender, receiver, doc_type, version)
