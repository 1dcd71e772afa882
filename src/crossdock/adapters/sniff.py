"""Format detection from content, never from a file name or a Content-Type header.

Looks only at the head of the input (:data:`SNIFF_BYTES`), with plain byte patterns, so it is
cheap on a 100 MB file and never parses anything untrusted. The answer is a hint for choosing
the codec; the codec still refuses what it cannot read.

=====================  ==========================================================================
format                 recognised by
=====================  ==========================================================================
``x12``                ``ISA`` first (after an optional UTF-8 BOM and whitespace)
``cxml``               XML whose root element is ``cXML``
``ubl``                XML whose root namespace is ``urn:oasis:names:specification:ubl:schema:xsd:*``
``oagis``              XML whose root namespace is ``http://www.openapplications.org/oagis/*``
``gs1``                XML whose root namespace starts ``urn:gs1:``
``xml``                any other XML
``canonical-json``     JSON (or JSON Lines) whose first object has ``"document_type"``
``x12-json``           JSON with ``"format": "crossdock.x12-json"`` (our lossless X12 form)
``stedi-x12-json``     JSON ``{"data": "ISA…"}`` (Stedi's raw-interchange fixture shape)
``stedi-guide-json``   JSON with ``"payload"``/``"heading"`` and ``_ST``-suffixed keys (Stedi Guide JSON)
``json``               any other JSON
=====================  ==========================================================================

UTF-16/UTF-32 byte-order marks and EBCDIC (``ISA`` as ``C9 E2 C1``) raise
:class:`EncodingUnsupported`; anything else unrecognised raises :class:`FormatUnknown`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crossdock.schemas.errors import EncodingUnsupported, FormatUnknown

__all__ = ["Sniffed", "sniff", "SNIFF_BYTES", "X12_JSON_FORMAT"]

SNIFF_BYTES = 64 * 1024
X12_JSON_FORMAT = "crossdock.x12-json"

_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_EBCDIC_ISA = b"\xc9\xe2\xc1"
_XML_ROOT = re.compile(rb"\s*<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)([^>]*)>", re.DOTALL)
_XML_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.DOTALL)
_UBL_NS = b"urn:oasis:names:specification:ubl:schema:xsd:"
_OAGIS_NS = b"http://www.openapplications.org/oagis/"
_GS1_NS = b"urn:gs1:"


@dataclass(frozen=True, slots=True)
class Sniffed:
    """What the input looks like.

    Attributes:
        format: one of the names in the module docstring.
        root: for XML, the root element's local name (``"OrderRequest"`` is inside ``cXML``;
            UBL gives ``"Order"``, ``"DespatchAdvice"``…); ``""`` otherwise.
        namespace: for XML, the root element's namespace (``""`` when none).
    """

    format: str
    root: str = ""
    namespace: str = ""


def sniff(data: bytes) -> Sniffed:
    """Detect the format of ``data`` from its first bytes.

    Args:
        data: the input, or at least its first :data:`SNIFF_BYTES` bytes.

    Returns:
        The detected format.

    Raises:
        EncodingUnsupported: UTF-16/32 or EBCDIC input.
        FormatUnknown: empty input or none of the formats above.
    """
    head = data[:SNIFF_BYTES]
    if head.startswith(_WIDE_BOMS):
        raise EncodingUnsupported("input is UTF-16 or UTF-32; only UTF-8/ASCII is accepted", code="ENCODING_UNSUPPORTED")
    head = head.removeprefix(_UTF8_BOM).lstrip()
    if head.startswith(_EBCDIC_ISA):
        raise EncodingUnsupported("input looks like EBCDIC X12; only ASCII/UTF-8 is accepted", code="ENCODING_UNSUPPORTED")
    if head.startswith(b"ISA"):
        return Sniffed("x12")
    if head.startswith(b"<"):
        return _sniff_xml(head)
    if head.startswith((b"{", b"[")):
        return _sniff_json(head)
    if not head:
        raise FormatUnknown("input is empty", code="FORMAT_EMPTY")
    raise FormatUnknown("input is neither X12 (ISA), XML nor JSON", code="FORMAT_UNKNOWN")


def _sniff_xml(head: bytes) -> Sniffed:
    position = 0
    while skipped := _XML_SKIP.match(head, position):
        if skipped.end() == position:
            break
        position = skipped.end()
    root = _XML_ROOT.match(head, position)
    if root is None:
        return Sniffed("xml")
    prefix = (root.group(1) or b":")[:-1]
    name = root.group(2).decode("ascii", errors="replace")
    namespace = _declared_namespace(root.group(3), prefix)
    fmt = "xml"
    if name == "cXML":
        fmt = "cxml"
    elif namespace.startswith(_UBL_NS):
        fmt = "ubl"
    elif namespace.startswith(_OAGIS_NS):
        fmt = "oagis"
    elif namespace.startswith(_GS1_NS):
        fmt = "gs1"
    return Sniffed(fmt, root=name, namespace=namespace.decode("utf-8", errors="replace"))


def _declared_namespace(attributes: bytes, prefix: bytes) -> bytes:
    attribute = b"xmlns:" + prefix if prefix else b"xmlns"
    found = re.search(rb"(?:^|\s)" + re.escape(attribute) + rb"\s*=\s*[\"']([^\"']*)[\"']", attributes)
    return found.group(1) if found else b""


def _sniff_json(head: bytes) -> Sniffed:
    if re.search(rb'"format"\s*:\s*"' + re.escape(X12_JSON_FORMAT.encode()) + rb'"', head):
        return Sniffed("x12-json")
    if re.search(rb'"document_type"\s*:', head):
        return Sniffed("canonical-json")
    if re.match(rb'\{\s*"data"\s*:\s*"\s*ISA', head):
        return Sniffed("stedi-x12-json")
    if re.search(rb'"(?:payload|heading)"\s*:', head) and re.search(rb'_ST"\s*:', head):
        return Sniffed("stedi-guide-json")
    return Sniffed("json")
