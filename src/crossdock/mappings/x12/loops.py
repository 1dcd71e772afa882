"""Group a transaction set's flat segments into loop instances, and flatten them back.

A spec declares the loops it maps as :class:`LoopShape` data (trigger segment, member segments,
child loops). Grouping is tolerant: a segment no open loop declares stays in the innermost open
loop, so unknown partner segments keep their context and come back in the same place.

The 856 ``HL`` loop is ``hierarchical``: instances are nested by HL02 (parent id); when HL02 is
empty or points nowhere, the parent is the latest open level that ranks above (S > O > T > P > I).
Outbound, HL01/HL02/HL04 are recomputed from the nesting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from crossdock.schemas.x12.tree import Segment

__all__ = ["LoopShape", "Node", "shape", "group", "flatten", "HL_RANK"]

#: HL03 levels from the top of an 856 hierarchy down; unknown levels rank below items
HL_RANK = {"S": 0, "O": 1, "T": 2, "P": 3, "I": 4}
_HL_ID, _HL_PARENT, _HL_LEVEL, _HL_CHILDREN = 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class LoopShape:
    """A loop: its first segment, the other segment ids in it, and its child loops.

    ``order`` lists member ids (and child loop triggers) in the standard's sequence; outbound,
    segments a rule table wrote are put in this order.
    """

    trigger: str
    members: frozenset[str] = frozenset()
    children: tuple[LoopShape, ...] = ()
    hierarchical: bool = False
    order: tuple[str, ...] = ()
    #: child shapes by trigger id (derived from ``children``; the first declared wins)
    by_trigger: dict[str, LoopShape] = field(init=False, repr=False, compare=False, hash=False)
    #: whether hierarchical loops can appear among this loop's descendants (derived)
    holds_hierarchy: bool = field(init=False, repr=False, compare=False, hash=False)
    #: members that are not also child triggers: such a segment stays in this loop (derived)
    plain_members: frozenset[str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_trigger: dict[str, LoopShape] = {}
        for child in self.children:
            by_trigger.setdefault(child.trigger, child)
        object.__setattr__(self, "by_trigger", by_trigger)
        object.__setattr__(self, "plain_members", self.members.difference(by_trigger))
        object.__setattr__(self, "holds_hierarchy",
                           any(c.hierarchical or c.holds_hierarchy for c in self.children))

    def rank(self, segment_id: str) -> int:
        """Sort key of a segment id (or child loop trigger) in this loop."""
        if segment_id == self.trigger:
            return -1
        return self.order.index(segment_id) if segment_id in self.order else len(self.order)

    def child(self, segment_id: str) -> LoopShape | None:
        if self.hierarchical and segment_id == self.trigger:
            return self  # HL levels nest inside HL levels
        return self.by_trigger.get(segment_id)


def shape(trigger: str, members: str = "", *children: LoopShape, hierarchical: bool = False) -> LoopShape:
    """Compact constructor: ``shape("N1", "N2 N3 N4 REF PER")``.

    ``members`` is in the standard's order and may name child loop triggers to place them
    (``"... N9 MSG N1 PO1 CTT AMT"``); triggers not named come after the members.
    """
    order = tuple(members.split())
    triggers = {c.trigger for c in children}
    return LoopShape(trigger, frozenset(order) - triggers, tuple(children), hierarchical, order)


@dataclass(slots=True, eq=False)
class Node:
    """One loop instance: its shape and its items (segments and child loop instances) in order."""

    shape: LoopShape
    items: list[Union[Segment, Node]] = field(default_factory=list)

    @property
    def head(self) -> Segment | None:
        first = self.items[0] if self.items else None
        return first if isinstance(first, Segment) else None


def _place(stack: list[Node], segment: Segment) -> None:
    segment_id = segment[0]
    for depth in range(len(stack) - 1, -1, -1):
        level = stack[depth]
        # declared child loops only: HL levels are nested afterwards by their parent ids
        child_shape = level.shape.by_trigger.get(segment_id)
        if child_shape is not None:
            del stack[depth + 1:]
            child = Node(child_shape, [segment])
            level.items.append(child)
            stack.append(child)
            return
        if segment_id in level.shape.members:
            del stack[depth + 1:]
            level.items.append(segment)
            return
    stack[-1].items.append(segment)


def group(segments: tuple[Segment, ...] | list[Segment], root: LoopShape) -> Node:
    """Group body segments (ST/SE excluded) into a tree of :class:`Node`.

    Args:
        segments: the transaction body in order.
        root: the set's root shape (its ``members`` are header/summary segment ids).

    Returns:
        The root node; hierarchical loops are nested by their HL parent ids.
    """
    top = Node(root)
    stack = [top]
    items, plain = top.items, root.plain_members
    for segment in segments:
        # most segments are plain members of the innermost open loop: appended there, no search
        if segment[0] in plain:
            items.append(segment)
            continue
        _place(stack, segment)
        innermost = stack[-1]
        items, plain = innermost.items, innermost.shape.plain_members
    _nest_hierarchy(top)
    return top


def _nest_hierarchy(node: Node) -> None:
    if not node.shape.holds_hierarchy:
        return  # grouping only creates declared child loops: none of them is hierarchical
    for item in node.items:
        if isinstance(item, Node):
            _nest_hierarchy(item)
    if not any(isinstance(i, Node) and i.shape.hierarchical for i in node.items):
        return
    kept: list[Union[Segment, Node]] = []
    by_id: dict[str, Node] = {}
    open_levels: list[tuple[int, Node]] = []
    unknown = len(HL_RANK)
    for item in node.items:
        if not (isinstance(item, Node) and item.shape.hierarchical and item.head is not None):
            kept.append(item)
            continue
        head = item.items[0]
        hl_id, parent_id, level = _hl_elements(head)
        rank = HL_RANK.get(level, unknown)
        parent = by_id.get(parent_id) if parent_id else None
        if parent is None:
            # HL02 empty or dangling (seen in real files): hang it under the latest higher level
            parent = next((n for r, n in reversed(open_levels) if r < rank), None)
        (parent.items if parent is not None else kept).append(item)
        by_id.setdefault(hl_id, item)
        # the open levels rank strictly downwards: drop those at or below this one, then push it
        while open_levels and open_levels[-1][0] >= rank:
            open_levels.pop()
        open_levels.append((rank, item))
    node.items = kept


def _hl_elements(head: Segment) -> tuple[str, str, str]:
    """HL01, HL02, HL03 as ``Segment.get`` reads them (plain strings without a call each)."""
    elements = head[1]
    if len(elements) >= _HL_LEVEL and elements[0].__class__ is str and elements[1].__class__ is str \
            and elements[2].__class__ is str:
        return elements[0], elements[1], elements[2]
    return head.get(_HL_ID), head.get(_HL_PARENT), head.get(_HL_LEVEL)


def flatten(node: Node) -> list[Segment]:
    """All segments of a node tree in order, with HL01/HL02/HL04 renumbered from the nesting."""
    out: list[Segment] = []
    _flatten(node, out, [0], "")
    return out


def _flatten(node: Node, out: list[Segment], counter: list[int], parent_hl: str) -> None:
    own_hl = parent_hl
    for item in node.items:
        if isinstance(item, Node):
            _flatten(item, out, counter, own_hl)
            continue
        if node.shape.hierarchical and item.id == "HL" and item is node.items[0]:
            counter[0] += 1
            own_hl = str(counter[0])
            item = _number_hl(item, own_hl, parent_hl, node)
        out.append(item)


def _number_hl(segment: Segment, own: str, parent: str, node: Node) -> Segment:
    has_children = any(isinstance(i, Node) and i.shape.hierarchical for i in node.items)
    elements = list(segment.elements) + [""] * max(0, _HL_CHILDREN - len(segment.elements))
    elements[_HL_ID - 1], elements[_HL_PARENT - 1] = own, parent
    elements[_HL_CHILDREN - 1] = "1" if has_children else "0"
    return Segment("HL", tuple(elements))
