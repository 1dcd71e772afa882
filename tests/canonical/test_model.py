"""The canonical model: JSON Schema for every document, strictness, GTIN rules, the schema CLI."""

from __future__ import annotations

import json
import typing
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from crossdock.gateway.cli import main
from crossdock.schemas import canonical as c
from crossdock.schemas.canonical.documents import SchemaVersion


def test_schema_version_literal_matches_constant() -> None:
    assert typing.get_args(SchemaVersion) == (c.SCHEMA_VERSION,)


@pytest.mark.parametrize("name", list(c.DOCUMENT_TYPES))
def test_every_document_has_a_json_schema_with_its_discriminator(name: str) -> None:
    schema = c.DOCUMENT_TYPES[name].model_json_schema()
    assert schema["properties"]["document_type"]["const"] == name
    assert schema["additionalProperties"] is False


def test_union_parses_by_discriminator_and_rejects_unknown_fields() -> None:
    doc = c.parse_document({"document_type": "invoice", "invoice_number": "I-1"})
    assert isinstance(doc, c.Invoice) and doc.business_keys == {"invoice_number": "I-1"}
    with pytest.raises(ValidationError):
        c.parse_document({"document_type": "invoice", "invoice_number": "I-1", "is_admin": True})


def test_documents_are_frozen() -> None:
    order = c.PurchaseOrder(po_number="P1")
    with pytest.raises(ValidationError):
        order.po_number = "P2"  # type: ignore[misc]


@pytest.mark.parametrize(("value", "format_ok", "check_ok"), [
    ("036000291452", True, True),     # UPC-A
    ("036000291453", True, False),    # wrong check digit
    ("4006381333931", True, True),    # EAN-13
    ("96385074", True, True),         # GTIN-8
    ("10614141000019", True, True),   # GTIN-14
    ("0360002914", False, False),     # 10 digits
    ("03600029145X", False, False),
])
def test_gtin_rules(value: str, format_ok: bool, check_ok: bool) -> None:
    assert c.gtin_format_ok(value) is format_ok
    assert c.gtin_check_digit_ok(value) is check_ok


@given(st.sampled_from([8, 12, 13, 14]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)))
def test_gtin_check_digit_matches_agrees_with_the_computed_check_digit(value: str) -> None:
    assert c.gtin_check_digit_matches(value) is (c.gtin_check_digit(value[:-1]) == int(value[-1]))


def test_model_checks_gtin_format_but_not_check_digit() -> None:
    assert c.ItemId(kind="gtin", value="036000291453").value == "036000291453"
    with pytest.raises(ValidationError):
        c.ItemId(kind="gtin", value="12345")


def test_units_normalise_and_keep_original() -> None:
    assert c.normalise_x12_unit("PC") == "EA" and c.x12_unit_for("EA") == "EA"
    assert c.normalise_x12_unit("MR") == "M" and c.x12_unit_for("M") == "MR"
    assert c.normalise_x12_unit("??") is None


def test_business_keys_of_a_ship_notice() -> None:
    notice = c.ShipNotice(asn_number="A1", shipment=c.Shipment(
        references=(c.Reference(kind="bill_of_lading", qualifier="BM", value="B9"),),
        orders=(c.ShipOrder(po_number="P1"), c.ShipOrder(po_number="P2"))))
    assert notice.business_keys == {"asn_number": "A1", "po_numbers": ("P1", "P2"), "bill_of_lading": ("B9",)}


def test_money_currency_is_iso() -> None:
    assert c.Money(amount=Decimal("1.5"), currency="EUR").currency == "EUR"
    with pytest.raises(ValidationError):
        c.Money(amount=Decimal("1"), currency="euro")


def test_schema_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "PurchaseOrder", "--compact"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "PurchaseOrder"
    assert main(["schema", "ship_notice"]) == 0
    assert "ShipNotice" in json.loads(capsys.readouterr().out)["title"]
    assert main(["schema", "Nope"]) == 2
    assert "purchase_order (PurchaseOrder)" in capsys.readouterr().err
