"""cXML, UBL, OAGIS and canonical JSON through the embedded hub: in from the corpus, out per agreement.

Inbound, the documents are read by the XML engineer's codecs and mappings (``parse_xml`` →
``read_cxml`` / ``read_ubl``) and canonical JSON by ``read_canonical``; the cXML Sender
credential must not name another partner than the API key's. Outbound, the host addresses a
canonical document to partners whose agreements ask for cXML or UBL; the delivered bytes read
back to the same purchase order.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gwhelpers import KEYS, add_partners, fast_settings, post, wait_final, wait_outbound
from litestar.testing import TestClient
from sqlalchemy import select

from crossdock.adapters.xml import parse_xml
from crossdock.gateway.hub import open_hub
from crossdock.gateway.partners import AgreementConfig, ChannelConfig, IdentitySpec, create_partner
from crossdock.gateway.store import schema as t
from crossdock.mappings.cxml import read_cxml
from crossdock.mappings.ubl import read_ubl

CXML_ORDER = "xml/850/cxmlphp__cxml_OrderRequest.xml"
CXML_SENDER = "NetworkId:inbound@prominate-platform.com"
UBL_ORDER = "xml/850/ubl__ubl_UBL-Order-2.1-Example.xml"
XML_KEYS = {"procurer": "procurer-key", "cxmlshop": "cxmlshop-key", "ublshop": "ublshop-key"}


@pytest.fixture
def xml_client(tmp_path: Path):
    """The embedded API with the usual partners plus an XML sender and two XML receivers."""
    hub = open_hub(fast_settings(tmp_path), workers=True)
    add_partners(hub, tmp_path / "outbox")
    with hub.runtime.engine.begin() as conn:
        create_partner(conn, code="procurer", name="Procurer (cXML)",
                       identities=[IdentitySpec(kind="cxml", value=CXML_SENDER),
                                   IdentitySpec(kind="api_key", value=XML_KEYS["procurer"])],
                       agreements=[("*", "inbound", AgreementConfig())])
        for code, fmt, identity in (("cxmlshop", "cxml", "NetworkId:AN0100000042"), ("ublshop", "ubl", None)):
            (tmp_path / "outbox" / code).mkdir(parents=True)
            channel = ChannelConfig(kind="directory", directory=tmp_path / "outbox" / code)
            create_partner(conn, code=code, name=code,
                           identities=[IdentitySpec(kind="api_key", value=XML_KEYS[code]),
                                       *([IdentitySpec(kind="cxml", value=identity)] if identity else [])],
                           agreements=[("*", "outbound", AgreementConfig(format=fmt, channel=channel))])
    with TestClient(app=hub.app()) as client:
        client.hub = hub  # type: ignore[attr-defined]
        yield client


def _documents(engine, message_id: str) -> list:
    with engine.connect() as conn:
        return conn.execute(select(t.documents.c.document_type, t.documents.c.status, t.documents.c.body,
                                   t.documents.c.partner_id)
                            .where(t.documents.c.message_id == message_id)).all()


def _payload(engine, sha: str) -> bytes:
    with engine.connect() as conn:
        return conn.execute(select(t.payloads.c.data).where(t.payloads.c.sha256 == sha)).scalar_one()


def test_cxml_ubl_and_canonical_json_are_stored(xml_client, corpus_dir: Path) -> None:
    engine = xml_client.hub.runtime.engine
    cxml = post(xml_client, (corpus_dir / CXML_ORDER).read_bytes(), key=XML_KEYS["procurer"],
                **{"Content-Type": "text/xml"})
    ubl = post(xml_client, (corpus_dir / UBL_ORDER).read_bytes(), key=XML_KEYS["procurer"])
    assert (cxml.status_code, ubl.status_code) == (202, 202)
    assert wait_final(engine, cxml.json()["id"]) == "accepted"
    assert wait_final(engine, ubl.json()["id"]) == "accepted"
    ((cxml_type, cxml_status, cxml_body, owner),) = _documents(engine, cxml.json()["id"])
    ((ubl_type, ubl_status, ubl_body, _),) = _documents(engine, ubl.json()["id"])
    assert (cxml_type, cxml_status, json.loads(cxml_body)["po_number"]) == ("purchase_order", "applied", "DO1234")
    assert (ubl_type, ubl_status, json.loads(ubl_body)["po_number"]) == ("purchase_order", "applied", "34")
    # the canonical document of the cXML order, posted back as canonical JSON, is the same document
    again = json.loads(cxml_body) | {"po_number": "DO1234-JSON"}
    posted = post(xml_client, json.dumps(again).encode(), key=XML_KEYS["procurer"],
                  **{"Content-Type": "application/json"})
    assert wait_final(engine, posted.json()["id"]) == "accepted"
    ((json_type, _, json_body, json_owner),) = _documents(engine, posted.json()["id"])
    assert (json_type, json_owner) == ("purchase_order", owner)
    assert json.loads(json_body) == again
    with engine.connect() as conn:
        orders = set(conn.execute(select(t.orders.c.po_number)).scalars())
    assert {"DO1234", "34", "DO1234-JSON"} <= orders


def test_cxml_sender_of_another_partner_is_refused(xml_client, corpus_dir: Path) -> None:
    engine = xml_client.hub.runtime.engine
    response = post(xml_client, (corpus_dir / CXML_ORDER).read_bytes(), key=KEYS["acme"])
    assert response.status_code == 202
    message_id = response.json()["id"]
    assert wait_final(engine, message_id) == "failed"
    with engine.connect() as conn:
        code = conn.execute(select(t.messages.c.error_code).where(t.messages.c.id == message_id)).scalar_one()
    assert code == "SENDER_MISMATCH"
    assert _documents(engine, message_id) == []


def test_broken_canonical_json_is_rejected_with_its_issues(xml_client) -> None:
    engine = xml_client.hub.runtime.engine
    lines = b'{"document_type": "purchase_order", "po_number": "PO-J1"}\n{"document_type": "purchase_order"}\n'
    message_id = post(xml_client, lines, key=XML_KEYS["procurer"]).json()["id"]
    assert wait_final(engine, message_id) == "partially_accepted"
    statuses = sorted((d.status, d.document_type) for d in _documents(engine, message_id))
    assert statuses == [("applied", "purchase_order"), ("mapping_failed", "unknown")]


@pytest.mark.parametrize(("recipient", "reader"), [("cxmlshop", "cxml"), ("ublshop", "ubl")])
def test_outbound_rendered_in_the_agreed_xml_format(xml_client, recipient: str, reader: str) -> None:
    engine = xml_client.hub.runtime.engine
    document = {"document_type": "purchase_order", "po_number": f"PO-{reader.upper()}-1",
                "lines": [{"line_number": "1", "quantity": {"value": "5", "unit": "EA"}}]}
    response = post(xml_client, json.dumps(document).encode(), key=KEYS["host"],
                    **{"Content-Type": "application/json", "X-Crossdock-Recipient": recipient})
    assert response.status_code == 202
    message_id = response.json()["id"]
    assert wait_final(engine, message_id) == "accepted"
    (rendered,) = wait_outbound(engine, message_id)
    assert (rendered.format, rendered.document_kind, rendered.status) == ("xml", reader, "delivered")
    tree = parse_xml(_payload(engine, rendered.sha256))
    result = read_cxml(tree) if reader == "cxml" else read_ubl(tree)
    assert result.document.po_number == document["po_number"]
    if reader == "cxml":
        assert [c.identity for c in result.envelope.to] == ["AN0100000042"]
    delivered = list((Path(engine.url.database).parent.parent / "outbox" / recipient).glob("*.xml"))
    assert len(delivered) == 1


OAGIS_ORDER = "xml/850/oagis__oagis10.1_ProcessPurchaseOrder.xml"


def test_oagis_orders_are_applied_and_a_bad_one_fails_with_its_issue(xml_client, corpus_dir: Path) -> None:
    engine = xml_client.hub.runtime.engine
    placeholder = (corpus_dir / OAGIS_ORDER).read_bytes()
    good = placeholder.replace(b"<DocumentDateTime>token</DocumentDateTime>",
                               b"<DocumentDateTime>2026-03-02T09:00:00Z</DocumentDateTime>")
    ok = post(xml_client, good, key=XML_KEYS["procurer"], **{"Content-Type": "application/xml"})
    bad = post(xml_client, placeholder, key=XML_KEYS["procurer"])
    assert (ok.status_code, bad.status_code) == (202, 202)
    assert wait_final(engine, ok.json()["id"]) == "accepted"
    ((doc_type, status, body, _),) = _documents(engine, ok.json()["id"])
    assert (doc_type, status, json.loads(body)["order_date"]["date"]) == ("purchase_order", "applied", "2026-03-02")
    # the schema sample's "token" date: the document fails mapping with its code, the raw bytes stay
    assert wait_final(engine, bad.json()["id"]) != "accepted"
    ((_, status, _, _),) = _documents(engine, bad.json()["id"])
    assert status == "mapping_failed"
    detail = xml_client.get(f"/api/v1/messages/{bad.json()['id']}", headers={"X-Api-Key": XML_KEYS["procurer"]})
    assert detail.status_code == 200 and "VALUE_INVALID" in detail.text
    raw = xml_client.get(f"/api/v1/messages/{bad.json()['id']}/raw", headers={"X-Api-Key": XML_KEYS["procurer"]})
    assert raw.content == placeholder
