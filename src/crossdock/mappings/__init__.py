"""Declarative rules between each format and the canonical model. Imports ``crossdock.schemas`` only.

* :mod:`.spec` — rule classes (:class:`Field`, :class:`Each`, :class:`One`, :class:`Collect`,
  :class:`Const`) and :class:`DocumentSpec`;
* :mod:`.transforms` / :mod:`.codelists` — the named transforms and code lists (data);
* :mod:`.engine` — applies a spec through a format's scope (inbound) or builder (outbound);
* :mod:`.x12` — the X12 path grammar, loop grouping, scope/builder and the set specs;
* :mod:`.overrides` — partner variants as data; :mod:`.registry` — explicit specs, checks, routing;
* :mod:`.api` — :func:`to_canonical` / :func:`from_canonical` for X12.
"""

from crossdock.mappings.api import from_canonical, to_canonical
from crossdock.mappings.engine import EXTENSION_KEY, SourceScope, TargetBuilder, read_document, write_document
from crossdock.mappings.overrides import SpecOverride, apply_override, load_override, override_from_dict
from crossdock.mappings.registry import (
    X12_SPECS,
    MappingRegistry,
    Route,
    check_spec,
    check_specs,
    default_registry,
    select_spec,
)
from crossdock.mappings.spec import Collect, Const, DocumentSpec, Each, Field, One, Rule, Rules
from crossdock.mappings.transforms import TRANSFORM_NAMES, Transform, TransformContext, TransformFailed, get_transform

__all__ = [
    "EXTENSION_KEY",
    "TRANSFORM_NAMES",
    "X12_SPECS",
    "Collect",
    "Const",
    "DocumentSpec",
    "Each",
    "Field",
    "MappingRegistry",
    "One",
    "Route",
    "Rule",
    "Rules",
    "SourceScope",
    "SpecOverride",
    "TargetBuilder",
    "Transform",
    "TransformContext",
    "TransformFailed",
    "apply_override",
    "check_spec",
    "check_specs",
    "default_registry",
    "from_canonical",
    "get_transform",
    "load_override",
    "override_from_dict",
    "read_document",
    "select_spec",
    "to_canonical",
    "write_document",
]
