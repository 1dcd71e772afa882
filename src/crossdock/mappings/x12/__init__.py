"""X12 side of the mapping engine: path grammar, loop grouping, scope/builder, element types, specs."""

from crossdock.mappings.x12.loops import LoopShape, Node, flatten, group, shape
from crossdock.mappings.x12.paths import X12Path, parse_path
from crossdock.mappings.x12.scope import X12Builder, X12Scope

__all__ = ["LoopShape", "Node", "X12Builder", "X12Path", "X12Scope", "flatten", "group", "parse_path", "shape"]
