"""A parsed XML document as plain immutable values, so mappings never touch lxml.

``adapters/xml`` turns bytes into an :class:`XmlNode` tree (and back); ``mappings/cxml`` and
``mappings/ubl`` read and build these nodes. Tags use Clark notation (``{namespace}local``),
like ElementTree, so a document means the same whatever prefixes its sender chose.

Mixed content (text between child elements) is not kept: the business documents we read
(cXML, UBL, OAGIS) put text only in leaf elements. Comments and processing instructions are
dropped by the parser on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["XmlNode", "XmlDocument", "local_name", "namespace_of"]


def local_name(tag: str) -> str:
    """``"{urn:x}Order"`` → ``"Order"``."""
    return tag.rpartition("}")[2]


def namespace_of(tag: str) -> str:
    """``"{urn:x}Order"`` → ``"urn:x"``; ``""`` when the tag has no namespace."""
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


@dataclass(frozen=True, slots=True)
class XmlNode:
    """One element: tag, attributes in document order, stripped text, child elements.

    Attributes:
        tag: Clark-notation tag, e.g. ``"{urn:oasis:...:Order-2}Order"`` or ``"OrderRequest"``.
        attrib: ``(name, value)`` pairs in document order; names in Clark notation too
            (``"{http://www.w3.org/XML/1998/namespace}lang"``).
        text: the element's own text with surrounding whitespace stripped (``""`` when none).
        children: child elements in document order.
    """

    tag: str
    attrib: tuple[tuple[str, str], ...] = ()
    text: str = ""
    children: tuple[XmlNode, ...] = ()

    @property
    def name(self) -> str:
        """Local name of the tag (no namespace)."""
        return local_name(self.tag)

    def get(self, attribute: str, default: str = "") -> str:
        """Value of ``attribute`` (exact Clark name), or ``default``."""
        for key, value in self.attrib:
            if key == attribute:
                return value
        return default

    def iter(self) -> Iterator[XmlNode]:
        """This node and every descendant, document order, without recursion."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


@dataclass(frozen=True, slots=True)
class XmlDocument:
    """A whole document: the root plus what the prolog said.

    Attributes:
        root: the document element.
        doctype_system: the SYSTEM identifier of an allowed external-only DOCTYPE (cXML), kept
            so the writer can reproduce it; never loaded.
        nsmap: prefix → namespace declared on the root (``None`` key for the default), kept so
            a rendered document uses familiar prefixes.
    """

    root: XmlNode
    doctype_system: str | None = None
    nsmap: tuple[tuple[str | None, str], ...] = field(default=())
