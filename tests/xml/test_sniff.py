"""Format detection from content (``adapters/sniff.py``), table-driven plus the whole corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossdock.adapters.sniff import Sniffed, sniff
from crossdock.schemas.errors import EncodingUnsupported, FormatUnknown


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbf\r\n ISA*00*", Sniffed("x12")),
        (b'<?xml version="1.0"?>\n<!DOCTYPE cXML SYSTEM "x.dtd">\n<!-- c --><cXML payloadID="1">', Sniffed("cxml", "cXML")),
        (
            b'<Invoice xmlns:cbc="urn:b" xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">',
            Sniffed("ubl", "Invoice", "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"),
        ),
        (
            b'<ubl:Order xmlns:ubl="urn:oasis:names:specification:ubl:schema:xsd:Order-2">',
            Sniffed("ubl", "Order", "urn:oasis:names:specification:ubl:schema:xsd:Order-2"),
        ),
        (
            b'<ProcessPurchaseOrder xmlns="http://www.openapplications.org/oagis/10">',
            Sniffed("oagis", "ProcessPurchaseOrder", "http://www.openapplications.org/oagis/10"),
        ),
        (b'<order:orderMessage xmlns:order="urn:gs1:ecom:order:xsd:3">', Sniffed("gs1", "orderMessage", "urn:gs1:ecom:order:xsd:3")),
        (b"<message><sender>X</sender>", Sniffed("xml", "message")),
        (b'{"document_type": "purchase_order", "po_number": "1"}\n{"document_type"', Sniffed("canonical-json")),
        (b'{"format": "crossdock.x12-json", "version": 1}', Sniffed("x12-json")),
        (b'{"data": "ISA*00*"}', Sniffed("stedi-x12-json")),
        (b'{"payload": {"heading": {"transaction_set_header_ST": {}}}}', Sniffed("stedi-guide-json")),
        (b'[{"sku": "A1"}]', Sniffed("json")),
    ],
)
def test_formats_are_detected_from_content(data: bytes, expected: Sniffed) -> None:
    assert sniff(data) == expected


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (b"\xff\xfeI\x00S\x00A\x00", EncodingUnsupported, "ENCODING_UNSUPPORTED"),
        (b"\xc9\xe2\xc1\\\xf0\xf0", EncodingUnsupported, "ENCODING_UNSUPPORTED"),
        (b"", FormatUnknown, "FORMAT_EMPTY"),
        (b"UNA:+.? 'UNB+UNOC:3", FormatUnknown, "FORMAT_UNKNOWN"),
    ],
)
def test_unreadable_inputs_raise_with_a_code(data: bytes, error: type, code: str) -> None:
    with pytest.raises(error) as caught:
        sniff(data)
    assert caught.value.code == code


def test_every_corpus_file_gets_the_format_of_its_folder(corpus_dir: Path) -> None:
    expected_prefix = {"x12": ("x12",), "xml": ("cxml", "ubl", "oagis", "gs1", "xml"), "json": ("stedi", "json")}
    for path in sorted(corpus_dir.glob("*/*/*")):
        kind = path.relative_to(corpus_dir).parts[0]
        if path.name == "bots__ebcdic.x12":
            with pytest.raises(EncodingUnsupported):
                sniff(path.read_bytes())
            continue
        try:
            found = sniff(path.read_bytes()).format
        except (EncodingUnsupported, FormatUnknown) as exc:
            # deliberately broken X12 files (UTF-16, junk, empty) are the reader's to reject
            assert kind == "x12", (path.name, exc.code)
            continue
        assert found.startswith(expected_prefix[kind]) or found.endswith("json") and kind == "json", (path.name, found)
