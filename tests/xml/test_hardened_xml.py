"""BAD_INPUT.md 3.7 (items 49–55): every hostile XML input is refused with its own code."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from crossdock.adapters.xml import XmlLimits, parse_xml, render_xml
from crossdock.schemas.errors import XmlRejected
from crossdock.schemas.xmltree import XmlDocument, XmlNode

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""


def _code(data: bytes, limits: XmlLimits | None = None) -> str:
    with pytest.raises(XmlRejected) as caught:
        parse_xml(data, limits) if limits else parse_xml(data)
    return caught.value.code


@pytest.mark.parametrize(
    ("case", "data", "code"),
    [
        ("49 XXE file read", b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', "XML_ENTITY_FORBIDDEN"),
        ("50 billion laughs", BILLION_LAUGHS, "XML_ENTITY_FORBIDDEN"),
        (
            "51 quadratic blowup",
            b'<!DOCTYPE r [<!ENTITY a "' + b"x" * 100_000 + b'">]><r>' + b"&a;" * 100_000 + b"</r>",
            "XML_ENTITY_FORBIDDEN",
        ),
        (
            "52 parameter entity",
            b'<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]><r/>',
            "XML_ENTITY_FORBIDDEN",
        ),
        (
            "52 XInclude",
            b'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd" parse="text"/></r>',
            "XML_XINCLUDE_FORBIDDEN",
        ),
        ("internal subset without entities", b"<!DOCTYPE r [<!ELEMENT r ANY>]><r/>", "XML_DTD_FORBIDDEN"),
        ("entity declared in lower case markup", b'<!DOCTYPE r [<!entity x "y">]><r/>', "XML_ENTITY_FORBIDDEN"),
        ("undeclared entity reference", b"<r>&nbsp;</r>", "XML_ENTITY_FORBIDDEN"),
        ("too deep for libxml2", b"<a>" * 300 + b"</a>" * 300, "XML_TOO_DEEP"),
        ("not well-formed", b"<r><unclosed></r>", "XML_NOT_WELL_FORMED"),
        ("empty", b"  \n", "XML_EMPTY"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 60 else None,
)
def test_hostile_xml_is_refused_with_its_code(case: str, data: bytes, code: str) -> None:
    assert _code(data) == code


def test_entity_in_utf16_document_is_caught_by_the_post_check() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'.encode("utf-16")
    assert _code(data) in {"XML_ENTITY_FORBIDDEN", "XML_DTD_FORBIDDEN"}


def test_our_depth_cap_applies_below_libxml2s() -> None:
    assert _code(b"<a>" * 30 + b"</a>" * 30, XmlLimits(max_depth=20)) == "XML_TOO_DEEP"
    assert parse_xml(b"<a>" * 20 + b"</a>" * 20, XmlLimits(max_depth=20)).root.name == "a"


def test_53_huge_text_node_is_refused() -> None:
    data = b"<r>" + b"a" * 10_500_000 + b"</r>"
    assert _code(data) == "XML_TEXT_TOO_LARGE"


def test_text_cap_is_ours_when_lower() -> None:
    assert _code(b"<r>" + b"a" * 2000 + b"</r>", XmlLimits(max_text=1000)) == "XML_TEXT_TOO_LARGE"
    assert _code(b'<r a="' + b"a" * 2000 + b'"/>', XmlLimits(max_text=1000)) == "XML_TEXT_TOO_LARGE"


def test_size_cap_is_checked_before_parsing() -> None:
    assert _code(b"<r>" + b" " * 2000 + b"</r>", XmlLimits(max_bytes=1000)) == "XML_TOO_LARGE"


class _CountingServer:
    """A TCP listener on 127.0.0.1 that counts connection attempts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def counting_server():
    server = _CountingServer()
    yield server
    server.close()


def test_55_remote_schema_and_external_dtd_are_never_fetched(counting_server: _CountingServer) -> None:
    url = f"http://127.0.0.1:{counting_server.port}"
    data = (
        f'<?xml version="1.0"?><!DOCTYPE cXML SYSTEM "{url}/cXML.dtd">'
        f'<cXML xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="urn:x {url}/x.xsd" payloadID="1"><Header/></cXML>'
    ).encode()
    document = parse_xml(data)
    assert document.doctype_system == f"{url}/cXML.dtd"
    assert document.root.get("payloadID") == "1"
    # prove the listener works, then that parsing did not use it
    with socket.create_connection(("127.0.0.1", counting_server.port)):
        pass
    deadline = threading.Event()
    deadline.wait(0.5)
    assert counting_server.connections == 1


def test_cxml_external_doctype_is_allowed_and_reproduced(corpus_dir: Path) -> None:
    data = (corpus_dir / "xml/850/cxmlphp__cxml_OrderRequest.xml").read_bytes()
    document = parse_xml(data)
    assert document.doctype_system == "http://xml.cXML.org/schemas/cXML/1.2.050/cXML.dtd"
    rendered = render_xml(document)
    assert b'<!DOCTYPE cXML SYSTEM "http://xml.cXML.org/schemas/cXML/1.2.050/cXML.dtd">' in rendered
    assert parse_xml(rendered) == document


def test_every_corpus_xml_file_parses(corpus_dir: Path) -> None:
    files = sorted((corpus_dir / "xml").glob("*/*.xml"))
    assert files
    for path in files:
        document = parse_xml(path.read_bytes())
        assert parse_xml(render_xml(document)) == document, path.name


def test_render_keeps_namespaces_and_prefixes() -> None:
    ns = "urn:oasis:names:specification:ubl:schema:xsd:Order-2"
    cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    document = XmlDocument(
        root=XmlNode(f"{{{ns}}}Order", children=(XmlNode(f"{{{cbc}}}ID", (("schemeID", "x"),), "34"),)),
        nsmap=((None, ns), ("cbc", cbc)),
    )
    rendered = render_xml(document, pretty=False)
    assert b'<cbc:ID schemeID="x">34</cbc:ID>' in rendered
    assert parse_xml(rendered) == document


def test_comments_and_processing_instructions_are_dropped() -> None:
    document = parse_xml(b"<?xml version='1.0'?><r><!-- c --><?pi x?><a>1</a></r>")
    assert document.root == XmlNode("r", children=(XmlNode("a", text="1"),))
