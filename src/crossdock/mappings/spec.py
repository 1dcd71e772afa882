"""Rules and specs: a mapping is a table of rules, not a function (STYLE items 27-32).

A :class:`Field` binds target field(s) of a canonical model to source path(s) through named
transforms; :class:`Each` maps every matching loop or segment to one element of a list field;
:class:`One` maps the first matching loop to a sub-object; :class:`Collect` hands all matching
segments to one transform (for data spread over repeated segments, like SDQ pairs).

Paths are strings in the grammar of the format's resolver (X12: :mod:`crossdock.mappings.x12.paths`),
so the same rule classes serve every format whose resolver implements the engine's protocols.
Targets are field names of the model being built, dotted for sub-objects (``quantity.value``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from crossdock.schemas.canonical import CanonicalModel

__all__ = ["Field", "Const", "Each", "One", "Collect", "Rule", "Rules", "DocumentSpec", "targets_of"]


@dataclass(frozen=True, slots=True)
class Field:
    """target(s) <- source path(s) through transforms.

    Attributes:
        target: a field name (dotted for sub-objects), or several for a transform that yields a
            tuple (e.g. ``("role", "role_code")`` from ``coded(party_role)``).
        source: one path, or several whose raw values are passed to the first transform as a tuple.
        transforms: transform names with arguments, applied left to right inbound and right to
            left outbound (``("decimal",)``, ``("truncate(35)",)``, ``("coded(purpose)",)``).
        default: inbound value when the source is absent.
        required: absent inbound (and no default) is a ``MISSING_REQUIRED`` error.
    """

    target: str | tuple[str, ...]
    source: str | tuple[str, ...]
    transforms: tuple[str, ...] = ()
    default: Any = None
    required: bool = False

    @property
    def targets(self) -> tuple[str, ...]:
        return self.target if isinstance(self.target, tuple) else (self.target,)

    @property
    def sources(self) -> tuple[str, ...]:
        return self.source if isinstance(self.source, tuple) else (self.source,)


@dataclass(frozen=True, slots=True)
class Const:
    """A fixed value of the spec itself (e.g. ``ack_set="997"``): set inbound, never written."""

    target: str
    value: Any


@dataclass(frozen=True, slots=True)
class Each:
    """Every matching loop (or segment) becomes one element of the list field ``target``.

    ``rules`` is a rule tuple, or the name of a table in :attr:`DocumentSpec.tables` (so tables can
    recurse, like packs within packs).
    """

    target: str
    source: str
    rules: Rules | str
    required: bool = False


@dataclass(frozen=True, slots=True)
class One:
    """The first matching loop becomes the sub-object ``target``."""

    target: str
    source: str
    rules: Rules | str
    required: bool = False


@dataclass(frozen=True, slots=True)
class Collect:
    """All matching segments, as element tuples, go through one transform into ``target``."""

    target: str
    source: str
    transform: str


Rule = Union[Field, Each, One, Collect, Const]
Rules = tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """One mapping between a wire format's document and a canonical model.

    Attributes:
        name: unique id, e.g. ``"x12.850"``; partner variants get their own name.
        format: the resolver family, e.g. ``"x12"``.
        document_type: ``PurchaseOrder.document_type`` etc.
        model: the canonical class built inbound and read outbound.
        rules: the root rule table.
        tables: named rule tables referenced by :class:`Each`/:class:`One` (recursion, reuse).
        set_id: X12 transaction set id (``"850"``); ``""`` for other formats.
        versions: versions this spec is written for (``("004010", "005010")``).
        structure: format-specific structure (X12: the root :class:`~crossdock.mappings.x12.loops.LoopShape`).
    """

    name: str
    format: str
    document_type: str
    model: type[CanonicalModel]
    rules: Rules
    tables: dict[str, Rules] = field(default_factory=dict)
    set_id: str = ""
    versions: tuple[str, ...] = ()
    structure: Any = None

    def table(self, rules: Rules | str) -> Rules:
        """Resolve an :class:`Each`/:class:`One` rules reference."""
        return self.tables[rules] if isinstance(rules, str) else rules


def targets_of(rule: Rule) -> tuple[str, ...]:
    """Target field names a rule writes."""
    return rule.targets if isinstance(rule, Field) else (rule.target,)
