"""Each kind of real corpus file through the embedded hub: a final status, documents, acks.

Senders are registered on the fly from each file's ISA (the corpus partners are not ours), and
each file's receiver as an identity of a host partner (a receiver that is not ours would be
refused with TA1 008, see ``test_receivers.py``). The
expectation is the gateway's, not the mapping's: every file ends in a final status (never
``dead``: nothing crashes; demo files that reuse a sender's ISA13 are rightly ``duplicate``), each accepted set yields a stored document or a recorded mapping
failure, and every accepted non-acknowledgement group gets its 997/999.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import pytest
from gwhelpers import add_partners, fast_settings, wait_final
from sqlalchemy import func, select

from crossdock.adapters.x12 import iter_interchanges
from crossdock.gateway.hub import open_hub
from crossdock.gateway.ingest import IngestRequest, ingest
from crossdock.gateway.partners import AgreementConfig, IdentitySpec, create_partner, isa_identity, partner_by_identity
from crossdock.gateway.store import schema as t

SETS = ("850", "855", "856", "810", "846", "852", "830", "860", "997")
PER_SET = 2


def _valid_files(corpus: Path) -> list[Path]:
    with open(corpus / "SOURCES.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    picked: list[Path] = []
    for set_id in SETS:
        valid = [corpus / r["local_path"] for r in rows
                 if r["local_path"].startswith(f"x12/{set_id}/") and r["valid_or_broken"].startswith("valid")
                 and "ebcdic" not in r["local_path"]]
        picked.extend(valid[:PER_SET])
    return picked


def test_corpus_files_reach_final_states(corpus_dir: Path, tmp_path: Path) -> None:
    hub = open_hub(fast_settings(tmp_path), workers=True)
    add_partners(hub, tmp_path / "outbox")
    engine = hub.runtime.engine
    hub.start()
    summary = []
    try:
        for path in _valid_files(corpus_dir):
            data = path.read_bytes()
            envelopes = [(isa_identity(*r.sender), isa_identity(*r.receiver)) for r in iter_interchanges(data)]
            with engine.begin() as conn:
                for sender, receiver in envelopes:
                    # the file's receiver plays our hub (a host identity; it may send in another file)
                    if partner_by_identity(conn, "isa", receiver) is None:
                        create_partner(conn, code=uuid.uuid4().hex[:10], name=receiver, kind="host",
                                       identities=[IdentitySpec(kind="isa", value=receiver)],
                                       agreements=[("*", "inbound", AgreementConfig())])
                    if partner_by_identity(conn, "isa", sender) is None:
                        create_partner(conn, code=uuid.uuid4().hex[:10], name=sender,
                                       identities=[IdentitySpec(kind="isa", value=sender)],
                                       agreements=[("*", "inbound", AgreementConfig())])
            result = ingest(engine, IngestRequest(data, "http"))
            hub.runtime.dispatch(result.work_id)
            status = wait_final(engine, result.message_id, timeout=60)
            summary.append((path.name, status, _facts(engine, result.message_id)))
    finally:
        hub.stop()
    print("\n".join(f"{name:70} {status:20} {facts}" for name, status, facts in summary))
    for name, status, facts in summary:
        # demo files of one origin reuse sender and ISA13: the later copy is rightly a duplicate
        assert status in ("accepted", "partially_accepted", "rejected", "duplicate"), (name, status)
        assert facts["documents"] == facts["accepted_sets"], name
        if facts["ackable_groups"]:
            assert facts["functional_acks"] >= 1, name


def _facts(engine, message_id: str) -> dict[str, int]:
    with engine.connect() as conn:
        def scalar(query) -> int:
            return conn.execute(query).scalar_one()

        return {
            "accepted_sets": scalar(select(func.count()).select_from(t.transaction_sets).where(
                t.transaction_sets.c.message_id == message_id, t.transaction_sets.c.status.in_(("A", "E")))),
            "documents": scalar(select(func.count()).select_from(t.documents).where(
                t.documents.c.message_id == message_id)),
            "ackable_groups": scalar(select(func.count()).select_from(t.groups).join(
                t.interchanges, (t.interchanges.c.message_id == t.groups.c.message_id)
                & (t.interchanges.c.position == t.groups.c.interchange_position)).where(
                t.groups.c.message_id == message_id, t.groups.c.functional_id != "FA",
                t.interchanges.c.status == "accepted")),
            "functional_acks": scalar(select(func.count()).select_from(t.acks).where(
                t.acks.c.message_id == message_id, t.acks.c.kind.in_(("997", "999")))),
        }
