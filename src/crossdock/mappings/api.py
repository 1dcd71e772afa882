"""X12 <-> canonical entry points: :func:`to_canonical` and :func:`from_canonical`.

Both are pure: they take a tree (or a canonical document) and return a result plus issues.
The envelope (ISA/GS) is the caller's: pass the returned :class:`Transaction` to the writer's
``build_interchange``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from crossdock.mappings.engine import build_model, write_document
from crossdock.mappings.overrides import SpecOverride
from crossdock.mappings.registry import WILDCARD, MappingRegistry, default_registry
from crossdock.mappings.spec import DocumentSpec
from crossdock.mappings.x12.codegen import generate_inbound
from crossdock.mappings.x12.jsonout import canonical_json
from crossdock.mappings.x12.loops import flatten
from crossdock.mappings.x12.scope import X12Builder
from crossdock.schemas.errors import Issue, PartnerUnknown, SpecInvalid
from crossdock.schemas.x12.tree import Segment, Transaction

__all__ = ["to_canonical", "to_canonical_json", "from_canonical", "X12_FORMAT"]

X12_FORMAT = "x12"
_GS_VERSION = 8
_ISA_SENDER, _ISA_RECEIVER = 6, 8
_DEFAULT_VERSION = "004010"


def _registry(registry: MappingRegistry | None, overrides: SpecOverride | tuple[SpecOverride, ...] | None) -> MappingRegistry:
    result = registry or default_registry()
    for override in (overrides,) if isinstance(overrides, SpecOverride) else (overrides or ()):
        result = result.with_override(override)
    return result


def _unpack(source: Any) -> tuple[Transaction | Segment, str, str, str]:
    """(transaction or TA1 segment, version from GS08, sender, receiver) from what the caller has."""
    if isinstance(source, (Transaction, Segment)):
        return source, "", WILDCARD, WILDCARD
    transaction = getattr(source, "transaction", None)
    if not isinstance(transaction, Transaction):
        raise TypeError(f"expected a Transaction, a TA1 Segment or a SetUnit, got {type(source).__name__}")
    group_header = getattr(source, "group_header", None)
    isa = getattr(source, "interchange_header", None)
    version = group_header.get(_GS_VERSION) if group_header is not None else ""
    sender = isa.get(_ISA_SENDER).strip() if isa is not None else WILDCARD
    receiver = isa.get(_ISA_RECEIVER).strip() if isa is not None else WILDCARD
    return transaction, version, sender or WILDCARD, receiver or WILDCARD


def _spec_for(registry: MappingRegistry, doc_type: str, version: str, sender: str, receiver: str,
              spec: DocumentSpec | None) -> DocumentSpec | None:
    if spec is not None:
        return spec
    try:
        return registry.select_spec(sender, receiver, doc_type, version)
    except PartnerUnknown:
        return None


def to_canonical(
    unit_or_transaction: Any,
    *,
    version: str | None = None,
    overrides: SpecOverride | tuple[SpecOverride, ...] | None = None,
    registry: MappingRegistry | None = None,
    spec: DocumentSpec | None = None,
    sender: str | None = None,
    receiver: str | None = None,
) -> tuple[BaseModel | None, list[Issue]]:
    """Map one X12 transaction set (or a TA1 segment) to its canonical document.

    Args:
        unit_or_transaction: a ``SetUnit`` from ``adapters.x12.iter_sets`` (sender, receiver and
            GS08 are taken from it), a :class:`Transaction`, or a ``TA1`` :class:`Segment`.
        version: GS08 version; defaults to the unit's GS08, else ``004010``.
        overrides: partner variant(s) to merge and route (see :mod:`.overrides`).
        registry: specs and routes (default: the built-in registry).
        spec: use this spec instead of routing.
        sender, receiver: partner ids for routing when the source is a bare transaction
            (ISA06/ISA08 of a ``SetUnit`` otherwise).

    Returns:
        ``(document, issues)``; ``document`` is ``None`` when the set is not supported or its
        mandatory data is missing (issues say why). Never raises for a bad document.
    """
    chosen, data, issues = _map(unit_or_transaction, version, overrides, registry, spec, sender, receiver)
    if chosen is None:
        return None, issues
    return build_model(chosen.model, data, issues), issues


def to_canonical_json(
    unit_or_transaction: Any,
    *,
    version: str | None = None,
    overrides: SpecOverride | tuple[SpecOverride, ...] | None = None,
    registry: MappingRegistry | None = None,
    spec: DocumentSpec | None = None,
    sender: str | None = None,
    receiver: str | None = None,
    strict: bool = False,
) -> tuple[bytes | None, list[Issue]]:
    """As :func:`to_canonical`, but the document as its canonical JSON line.

    The line is ``document.model_dump_json(exclude_none=True)`` as UTF-8 bytes, byte for byte.
    By default it is written straight from the mapped data (:func:`~.x12.jsonout.canonical_json`)
    whenever that can vouch for the data; otherwise, and always with ``strict``, the document is
    validated through its pydantic model first (which also reports ``MODEL_INVALID`` issues).

    Returns:
        ``(line or None, issues)``, with the same issues and the same ``None`` cases as
        :func:`to_canonical`.
    """
    chosen, data, issues = _map(unit_or_transaction, version, overrides, registry, spec, sender, receiver)
    if chosen is None:
        return None, issues
    if not strict:
        line = canonical_json(chosen.model, data)
        if line is not None:
            return line, issues
    document = build_model(chosen.model, data, issues)
    return (None if document is None else document.model_dump_json(exclude_none=True).encode("utf-8")), issues


def _map(
    unit_or_transaction: Any,
    version: str | None,
    overrides: SpecOverride | tuple[SpecOverride, ...] | None,
    registry: MappingRegistry | None,
    spec: DocumentSpec | None,
    sender: str | None,
    receiver: str | None,
) -> tuple[DocumentSpec | None, dict[str, Any], list[Issue]]:
    """Route and map one set: ``(spec or None when unsupported, mapped data, issues)``."""
    tree, unit_version, unit_sender, unit_receiver = _unpack(unit_or_transaction)
    sender, receiver = sender or unit_sender, receiver or unit_receiver
    version = version or unit_version or _DEFAULT_VERSION
    chosen_registry = _registry(registry, overrides)
    if isinstance(tree, Segment):
        set_id, body = tree.id, (tree,)
    else:
        set_id, body = tree.set_id, tree.body
    chosen = _spec_for(chosen_registry, set_id, version, sender, receiver, spec)
    if chosen is None:
        return None, {}, [Issue("SET_UNSUPPORTED", f"no mapping for transaction set {set_id or '?'}", (set_id,),
                                "error", set_id[:10])]
    data, issues = generate_inbound(chosen, version).read(body)
    return chosen, data, issues


def from_canonical(
    document: BaseModel,
    *,
    version: str = _DEFAULT_VERSION,
    overrides: SpecOverride | tuple[SpecOverride, ...] | None = None,
    registry: MappingRegistry | None = None,
    spec: DocumentSpec | None = None,
    control_number: str = "0001",
    sender: str = WILDCARD,
    receiver: str = WILDCARD,
) -> tuple[Transaction, list[Issue]]:
    """Render a canonical document as one X12 transaction set (ST..SE, no envelope).

    Args:
        document: any canonical document.
        version: ``004010`` or ``005010`` (element types and the set's layout follow it).
        overrides / registry / spec: as for :func:`to_canonical`.
        control_number: ST02/SE02 (the caller's allocator usually renumbers when enveloping).
        sender, receiver: partner ids for routing to a partner variant.

    Returns:
        ``(transaction, issues)``. An :class:`~crossdock.schemas.canonical.InterchangeAck`
        renders as a one-segment "transaction" holding the TA1 segment (it belongs between ISA
        and GS; put it in ``Interchange.control_segments``).

    Raises:
        SpecInvalid: (``SPEC_NOT_ROUTED``) no X12 spec exists for the document type.
    """
    # a functional ack says which set it is (997 or 999); other documents route by their type
    doc_type = getattr(document, "ack_set", None) or getattr(document, "document_type", "")
    chosen = _spec_for(_registry(registry, overrides), doc_type, version, sender, receiver, spec)
    if chosen is None or not chosen.set_id:
        raise SpecInvalid(f"no X12 mapping for {doc_type or type(document).__name__}", code="SPEC_NOT_ROUTED")
    builder = X12Builder(chosen.structure, version)
    issues = write_document(chosen, document, builder, X12_FORMAT)
    body = tuple(flatten(builder.node()))
    if chosen.set_id == "TA1":
        return Transaction(body), issues
    st_elements: tuple[str, ...] = (chosen.set_id, control_number)
    if version.startswith("005") and chosen.set_id == "999":
        st_elements += ("005010X231A1",)
    st = Segment("ST", st_elements)
    se = Segment("SE", (str(len(body) + 2), control_number))
    return Transaction((st, *body, se)), issues
