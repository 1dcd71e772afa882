"""The partner registry as data: validation with every problem located, files that round-trip,
identities owned once, status driving the test lane, deletion only of unused partners."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from crossdock.gateway.partners import (
    AgreementConfig,
    IdentityTaken,
    PartnerConfigInvalid,
    PartnerInUse,
    PartnerProfile,
    delete_partner,
    dump_partner_file,
    export_partners,
    find_agreement,
    get_profile,
    import_partners,
    parse_partner_file,
    partner_by_identity,
    save_profile,
    validate_profile,
)
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import build_engine
from crossdock.gateway.store.migrate import upgrade

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "partners.yaml"


@pytest.fixture
def engine(tmp_path: Path):
    engine = build_engine(f"sqlite:///{tmp_path / 'registry.db'}", pool_size=2)
    upgrade(engine)
    yield engine
    engine.dispose()


def _locations(exc: PartnerConfigInvalid) -> set[tuple]:
    return {issue.loc for issue in exc.issues}


def test_invalid_profile_lists_every_problem_with_its_location() -> None:
    bad = {
        "code": "Bad Code!", "name": "x", "status": "paused",
        "identities": [{"kind": "isa", "qualifier": "Z", "id": "ABC"}, {"kind": "fax", "number": "1"}],
        "agreements": [
            {"direction": "inbound", "ack": "998", "document_type": "purchase_orders"},
            {"direction": "outbound", "channel": {"kind": "webhook"},
             "envelope": {"delimiters": {"element": "*", "segment": "*"}}},
        ],
    }
    with pytest.raises(PartnerConfigInvalid) as caught:
        validate_profile(bad)
    assert caught.value.code == "PARTNER_CONFIG_INVALID"
    assert _locations(caught.value) == {
        ("code",), ("status",), ("identities", 0, "isa", "qualifier"), ("identities", 1),
        ("agreements", 0, "ack"), ("agreements", 0, "document_type"),
        ("agreements", 1, "channel"), ("agreements", 1, "envelope", "delimiters"),
    }
    assert "8 problem(s)" in caught.value.message


def test_duplicate_agreements_and_bad_mapping_override_are_refused() -> None:
    twice = {"code": "dup", "name": "Dup", "agreements": [{"direction": "inbound"}, {"direction": "inbound"}]}
    with pytest.raises(PartnerConfigInvalid) as caught:
        validate_profile(twice)
    assert [i.msg for i in caught.value.issues] == [
        "Value error, two agreements for the same document type and direction"]
    override = {"code": "ov", "name": "Ov", "agreements": [
        {"direction": "inbound", "mapping_overrides": [{"name": "ov.850", "rules": [{"source": "REF02"}]}]}]}
    with pytest.raises(PartnerConfigInvalid) as caught:
        validate_profile(override)
    assert _locations(caught.value) == {("agreements", 0, "mapping_overrides")}


def test_unreadable_yaml_names_the_line() -> None:
    with pytest.raises(PartnerConfigInvalid) as caught:
        parse_partner_file(b"partners:\n  - code: a\n    name: [unclosed\n")
    assert caught.value.message.startswith("not valid YAML/JSON at line 4")


def test_example_file_imports_and_exports_round_trip(engine) -> None:
    original = parse_partner_file(EXAMPLE.read_bytes())
    with engine.begin() as conn:
        report = import_partners(conn, original, actor="test")
    assert (report.created, report.updated) == (("northwind", "contoso"), ())
    with engine.connect() as conn:
        exported = export_partners(conn, ["northwind", "contoso"])
    assert tuple(exported) == original.partners
    for fmt in ("yaml", "json"):
        text = dump_partner_file(exported, fmt)
        assert parse_partner_file(text).partners == original.partners
    with engine.begin() as conn:
        again = import_partners(conn, parse_partner_file(dump_partner_file(exported)), actor="test")
        kinds = list(conn.execute(select(t.audit_log.c.kind).order_by(t.audit_log.c.id)).scalars())
    assert (again.created, again.updated) == ((), ("northwind", "contoso"))
    assert kinds == ["partner_created"] * 2 + ["partner_updated"] * 2


def test_identity_belongs_to_one_partner(engine) -> None:
    first = PartnerProfile.model_validate({"code": "one", "name": "One",
                                           "identities": [{"kind": "isa", "qualifier": "ZZ", "id": "SHARED"}]})
    second = first.model_copy(update={"code": "two", "name": "Two"})
    with engine.begin() as conn:
        save_profile(conn, first, actor="test")
    with pytest.raises(IdentityTaken) as caught, engine.begin() as conn:
        save_profile(conn, second, actor="test")
    assert caught.value.message == "isa identity ZZ:SHARED already belongs to partner one"
    with engine.connect() as conn:
        assert partner_by_identity(conn, "isa", "ZZ:SHARED").code == "one"
        assert get_profile(conn, "one") == first


def test_status_puts_agreements_in_the_test_lane(engine) -> None:
    live = PartnerProfile.model_validate({"code": "p", "name": "P", "status": "live",
                                          "agreements": [{"direction": "inbound", "ack": "999"}]})
    with engine.begin() as conn:
        partner, _ = save_profile(conn, live, actor="test")
    with engine.connect() as conn:
        assert find_agreement(conn, partner.id, "invoice", "inbound") == AgreementConfig(ack="999")
    for status in ("onboarding", "test"):
        with engine.begin() as conn:
            save_profile(conn, live.model_copy(update={"status": status}), actor="test")
        with engine.connect() as conn:
            assert find_agreement(conn, partner.id, "invoice", "inbound") == AgreementConfig(ack="999", mode="test")


def test_only_unused_partners_can_be_deleted(engine) -> None:
    with engine.begin() as conn:
        partner, _ = save_profile(conn, PartnerProfile(code="gone", name="Gone"), actor="test")
        save_profile(conn, PartnerProfile(code="busy", name="Busy"), actor="test")
        busy = conn.execute(select(t.partners.c.id).where(t.partners.c.code == "busy")).scalar_one()
        conn.execute(t.users.insert().values(username="b", password_hash="x", role="supplier", partner_id=busy,
                                             created_at=datetime.now(UTC)))
    with engine.begin() as conn:
        delete_partner(conn, "gone", actor="test")
    with pytest.raises(PartnerInUse), engine.begin() as conn:
        delete_partner(conn, "busy", actor="test")
    with engine.connect() as conn:
        assert sorted(conn.execute(select(t.partners.c.code)).scalars()) == ["busy"]
