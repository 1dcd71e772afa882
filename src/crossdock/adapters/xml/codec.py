"""Hardened XML in and out: the only module that touches lxml.

Reading policy (BAD_INPUT.md 3.7), each refusal an :class:`XmlRejected` with its own code:

==========================  =================================================================
code                        when
==========================  =================================================================
``XML_TOO_LARGE``           input over ``XmlLimits.max_bytes`` (checked before parsing)
``XML_ENTITY_FORBIDDEN``    any ``<!ENTITY`` (general or parameter): XXE, billion laughs,
                            quadratic blowup, ``%remote;``
``XML_DTD_FORBIDDEN``       a DOCTYPE with an internal subset (``[...]``), or one we cannot
                            read as "name plus external id"
``XML_XINCLUDE_FORBIDDEN``  an element in the XInclude namespace (we never process XInclude;
                            refusing says so instead of leaving a silent hole in the data)
``XML_TOO_DEEP``            element nesting over ``XmlLimits.max_depth``
``XML_TEXT_TOO_LARGE``      one text node over ``XmlLimits.max_text`` (libxml2's own 10 MB
                            ``huge_tree=False`` limit maps here too)
``XML_EMPTY``               no bytes, or only whitespace
``XML_NOT_WELL_FORMED``     anything else libxml2 refuses
==========================  =================================================================

DOCTYPE decision: cXML documents carry ``<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/...dtd">``.
A DOCTYPE made only of a name and an external id (SYSTEM or PUBLIC) is allowed and kept on
:class:`XmlDocument` so the writer can reproduce it; the DTD is never loaded
(``load_dtd=False``, ``no_network=True``), so it cannot fetch anything or add defaults. Anything
inside ``[...]`` is refused, entity or not: we have no use for internal subsets and they are
where every entity attack lives. ``xsi:schemaLocation`` is an ordinary attribute to us: nothing
validates against it, so nothing fetches it. XSLT is not used anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from crossdock.schemas.errors import XmlRejected
from crossdock.schemas.xmltree import XmlDocument, XmlNode

__all__ = ["XmlLimits", "DEFAULT_LIMITS", "parse_xml", "render_xml", "XINCLUDE_NS"]

XINCLUDE_NS = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")
_FEED_CHUNK = 64 * 1024
_PROLOG_SCAN = 64 * 1024
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

_QUOTED = rb"(?:\"[^\"]*\"|'[^']*')"
_EXTERNAL_ONLY_DOCTYPE = re.compile(
    rb"<!DOCTYPE\s+[A-Za-z_:][\w.:-]*"
    rb"(?:\s+(?:SYSTEM\s+" + _QUOTED + rb"|PUBLIC\s+" + _QUOTED + rb"\s+" + _QUOTED + rb"))?\s*>"
)
_SYSTEM_ID = re.compile(rb"(?:SYSTEM|PUBLIC\s+" + _QUOTED + rb")\s+[\"']([^\"']*)[\"']")
_ROOT_START = re.compile(rb"<[A-Za-z_:]")

# libxml2 refusals that have a more specific meaning than "not well-formed".
_LIBXML_MESSAGES: tuple[tuple[str, str], ...] = (
    ("huge text node", "XML_TEXT_TOO_LARGE"),
    ("text node too long", "XML_TEXT_TOO_LARGE"),
    ("excessive depth", "XML_TOO_DEEP"),
    ("entity reference loop", "XML_ENTITY_FORBIDDEN"),
    ("amplification", "XML_ENTITY_FORBIDDEN"),
    ("entity '", "XML_ENTITY_FORBIDDEN"),
)


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Caps applied to every XML input.

    Attributes:
        max_bytes: whole input; XML is parsed in memory, so this bounds its footprint.
        max_depth: element nesting (business documents stay under ~20).
        max_text: characters in one text node or attribute value.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 100
    max_text: int = 10_000_000


DEFAULT_LIMITS = XmlLimits()


def parse_xml(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> XmlDocument:
    """Parse untrusted XML bytes into an :class:`XmlDocument`, or refuse them.

    Args:
        data: the raw document.
        limits: size, depth and text caps.

    Returns:
        The document: root node, allowed external DOCTYPE system id, root namespace map.

    Raises:
        XmlRejected: with one of the codes in the module docstring.
    """
    if len(data) > limits.max_bytes:
        raise XmlRejected(f"XML input is {len(data)} bytes, over the {limits.max_bytes} cap", code="XML_TOO_LARGE")
    if not data.strip():
        raise XmlRejected("XML input is empty", code="XML_EMPTY")
    doctype_system = _check_prolog(_prolog_bytes(data))
    parser = _new_parser()
    builder = _Builder(limits)
    try:
        for start in range(0, len(data), _FEED_CHUNK):
            parser.feed(data[start : start + _FEED_CHUNK])
            builder.consume(parser.read_events())
        lxml_root = parser.close()
        builder.consume(parser.read_events())
    except etree.XMLSyntaxError as exc:
        raise _translate_syntax_error(_precise_error(data, exc)) from exc
    _check_no_internal_dtd(lxml_root)
    nsmap = tuple((prefix, uri) for prefix, uri in lxml_root.nsmap.items())
    return XmlDocument(root=builder.result(), doctype_system=doctype_system, nsmap=nsmap)


def render_xml(document: XmlDocument, *, pretty: bool = True) -> bytes:
    """Serialize an :class:`XmlDocument` to UTF-8 bytes with an XML declaration.

    Args:
        document: root node, optional DOCTYPE system id (written as ``<!DOCTYPE root SYSTEM>``)
            and the prefixes to declare on the root.
        pretty: indent the output.

    Returns:
        The encoded document.
    """
    nsmap = {prefix: uri for prefix, uri in document.nsmap}
    root = etree.Element(document.root.tag, nsmap=nsmap or None)
    _fill(root, document.root)
    doctype = None
    if document.doctype_system:
        doctype = f'<!DOCTYPE {document.root.name} SYSTEM "{document.doctype_system}">'
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=pretty, doctype=doctype)


def _new_parser() -> etree.XMLPullParser:
    return etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        strip_cdata=True,
        recover=False,
    )


def _prolog_bytes(data: bytes) -> bytes:
    """The bytes before the root element, as ASCII-compatible bytes for the DOCTYPE check."""
    head = data[:_PROLOG_SCAN]
    if head.startswith(_UTF16_BOMS):
        head = head.decode("utf-16", errors="replace").encode("utf-8")
    found = _ROOT_START.search(head)
    return head[: found.start()] if found else head


def _check_prolog(prolog: bytes) -> str | None:
    """Refuse entities and internal subsets; return the SYSTEM id of an allowed DOCTYPE."""
    if b"<!ENTITY" in prolog.upper():
        raise XmlRejected("XML entity declarations are not accepted", code="XML_ENTITY_FORBIDDEN")
    position = prolog.upper().find(b"<!DOCTYPE")
    if position < 0:
        return None
    allowed = _EXTERNAL_ONLY_DOCTYPE.match(prolog, position)
    if allowed is None:
        raise XmlRejected(
            "only a DOCTYPE with an external id and no internal subset is accepted", code="XML_DTD_FORBIDDEN"
        )
    system = _SYSTEM_ID.search(allowed.group(0))
    return system.group(1).decode("ascii", errors="replace") if system else None


def _check_no_internal_dtd(lxml_root: etree._Element) -> None:
    """Second line: whatever the prolog scan missed (exotic encodings), libxml2 saw."""
    docinfo = lxml_root.getroottree().docinfo
    internal = docinfo.internalDTD
    if internal is not None and (list(internal.iterentities()) or list(internal.iterelements())):
        raise XmlRejected("XML internal DTD subsets are not accepted", code="XML_DTD_FORBIDDEN")


def _precise_error(data: bytes, exc: etree.XMLSyntaxError) -> etree.XMLSyntaxError:
    """The pull parser sometimes reports only "no element found"; one-shot parsing says why."""
    one_shot = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        etree.fromstring(data, one_shot)
    except etree.XMLSyntaxError as precise:
        return precise
    return exc


def _translate_syntax_error(exc: etree.XMLSyntaxError) -> XmlRejected:
    message = str(exc)
    lowered = message.lower()
    for needle, code in _LIBXML_MESSAGES:
        if needle in lowered:
            return XmlRejected(f"XML refused: {message}", code=code)
    return XmlRejected(f"XML is not well-formed: {message}", code="XML_NOT_WELL_FORMED")


class _Builder:
    """Turns pull-parser events into :class:`XmlNode` values bottom-up, checking caps."""

    def __init__(self, limits: XmlLimits) -> None:
        self._limits = limits
        self._stack: list[list[XmlNode]] = [[]]

    def consume(self, events) -> None:
        for event, element in events:
            if event == "start":
                self._start(element)
            else:
                self._end(element)

    def result(self) -> XmlNode:
        return self._stack[0][0]

    def _start(self, element: etree._Element) -> None:
        if len(self._stack) > self._limits.max_depth:
            raise XmlRejected(f"XML nesting is deeper than {self._limits.max_depth}", code="XML_TOO_DEEP")
        if element.tag in (f"{{{ns}}}include" for ns in XINCLUDE_NS):
            raise XmlRejected("XInclude is not processed and not accepted", code="XML_XINCLUDE_FORBIDDEN")
        self._stack.append([])

    def _end(self, element: etree._Element) -> None:
        children = self._stack.pop()
        text = element.text or ""
        attrib = tuple(element.attrib.items())
        longest = max([len(text), *(len(v) for _, v in attrib)])
        if longest > self._limits.max_text:
            raise XmlRejected(f"XML text node over {self._limits.max_text} characters", code="XML_TEXT_TOO_LARGE")
        self._stack[-1].append(XmlNode(element.tag, attrib, text.strip(), tuple(children)))
        # the lxml element is no longer needed: free its text now, keep memory near one copy
        element.clear(keep_tail=False)


def _fill(target: etree._Element, node: XmlNode) -> None:
    """Copy ``node`` (attributes, text, children) into ``target``, without recursion."""
    pending = [(target, node)]
    while pending:
        element, source = pending.pop()
        for key, value in source.attrib:
            element.set(key, value)
        if source.text:
            element.text = source.text
        for child in source.children:
            pending.append((etree.SubElement(element, child.tag), child))
