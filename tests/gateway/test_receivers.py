"""BAD_INPUT 21: an interchange addressed to someone else is refused with TA1 R/008.

It is recorded as a ``receiver_unknown`` security event, its sets are not processed, and it is
filed under no partner: the interchange row has no partner, no document or order exists. The
message row stays the authenticated poster's (it is their upload), as ``rejected``.
"""

from __future__ import annotations

from gwhelpers import KEYS, count, interchange, po_set, post, wait_final, wait_outbound
from sqlalchemy import select

from crossdock.gateway.partners import IdentitySpec, create_partner
from crossdock.gateway.store import schema as t


def _payloads(engine, parent_id: str) -> list[bytes]:
    with engine.connect() as conn:
        return list(conn.execute(select(t.payloads.c.data).join(t.messages, t.messages.c.sha256 == t.payloads.c.sha256)
                                 .where(t.messages.c.parent_id == parent_id)).scalars())


def test_unknown_receiver_gets_ta1_008_and_a_security_event(client) -> None:
    engine = client.hub.runtime.engine
    body = interchange("ACMEBUYER", "000000901", [po_set("0001", "PO-ELSEWHERE")], receiver="SOMEONEELSE")
    message_id = post(client, body).json()["id"]
    assert wait_final(engine, message_id) == "rejected"
    with engine.connect() as conn:
        message = conn.execute(select(t.messages.c.error_code, t.messages.c.partner_id)
                               .where(t.messages.c.id == message_id)).one()
        envelope = conn.execute(select(t.interchanges.c.status, t.interchanges.c.ta1_code, t.interchanges.c.partner_id)
                                .where(t.interchanges.c.message_id == message_id)).one()
        events = conn.execute(select(t.audit_log.c.kind, t.audit_log.c.message_id, t.audit_log.c.detail)).all()
        acme = conn.execute(select(t.partners.c.id).where(t.partners.c.code == "acme")).scalar_one()
    assert tuple(message) == ("RECEIVER_UNKNOWN", acme)
    assert tuple(envelope) == ("receiver_unknown", "008", None)
    assert [(k, m, d["receiver"]) for k, m, d in events if k == "receiver_unknown"] == [
        ("receiver_unknown", message_id, "ZZ:SOMEONEELSE")]
    assert count(engine, t.documents) == 0 and count(engine, t.orders) == 0
    (ta1,) = wait_outbound(engine, message_id)
    assert (ta1.document_kind, ta1.recipient_id) == ("TA1", acme)
    assert b"TA1*000000901*" in _payloads(engine, message_id)[0] and b"*R*008~" in _payloads(engine, message_id)[0]


def test_each_interchange_is_judged_by_its_own_receiver(client) -> None:
    engine = client.hub.runtime.engine
    ours = interchange("ACMEBUYER", "000000902", [po_set("0001", "PO-OURS")])
    theirs = interchange("ACMEBUYER", "000000903", [po_set("0001", "PO-THEIRS")], receiver="SOMEONEELSE")
    message_id = post(client, ours + theirs).json()["id"]
    assert wait_final(engine, message_id) == "partially_accepted"
    with engine.connect() as conn:
        orders = list(conn.execute(select(t.orders.c.po_number)).scalars())
        statuses = conn.execute(select(t.interchanges.c.position, t.interchanges.c.status)
                                .order_by(t.interchanges.c.position)).all()
    assert orders == ["PO-OURS"]
    assert [tuple(s) for s in statuses] == [(0, "accepted"), (1, "receiver_unknown")]


def test_a_host_partners_isa_identity_is_ours_too(client) -> None:
    engine = client.hub.runtime.engine
    with engine.begin() as conn:
        create_partner(conn, code="ourdc", name="Our DC", kind="host",
                       identities=[IdentitySpec(kind="isa", value="ZZ:OURDC")])
    message_id = post(client, interchange("ACMEBUYER", "000000904", [po_set("0001", "PO-DC")], receiver="OURDC"),
                      key=KEYS["acme"]).json()["id"]
    assert wait_final(engine, message_id) == "accepted"
