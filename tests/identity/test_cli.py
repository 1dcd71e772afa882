"""``crossdock partners import/export``, ``keys create/revoke/list``, ``users create`` (in process;
the settings come from the environment exactly as in production, built by ``main``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from idhelpers import FAST_AUTH

from crossdock.gateway.cli import main
from crossdock.gateway.partners import parse_partner_file, partner_by_api_key
from crossdock.gateway.store.engine import build_engine

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "partners.yaml"


@pytest.fixture
def hub_env(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("CROSSDOCK_VAR_DIR", str(tmp_path / "var"))
    for name, value in FAST_AUTH.items():
        monkeypatch.setenv(f"CROSSDOCK_AUTH__{name.upper()}", str(value))
    return tmp_path / "var" / "crossdock.db"


def _run(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_onboarding_from_the_command_line(hub_env: Path, capsys, monkeypatch) -> None:
    assert _run(capsys, "partners", "import", str(EXAMPLE)) == (0, "created: northwind, contoso; updated: -\n", "")
    code, exported, _ = _run(capsys, "partners", "export", "--format", "json")
    by_code = {p.code: p for p in parse_partner_file(EXAMPLE.read_bytes()).partners}
    assert code == 0 and parse_partner_file(exported).partners == (by_code["contoso"], by_code["northwind"])
    assert [p["code"] for p in json.loads(exported)["partners"]] == ["contoso", "northwind"]  # sorted by code

    code, out, err = _run(capsys, "keys", "create", "northwind", "--label", "first")
    key_id = out.split("key id:")[1].split()[0]
    key = out.split("API key:")[1].split()[0]
    assert code == 0 and "not shown again" in err
    engine = build_engine(f"sqlite:///{hub_env}", pool_size=1)
    with engine.connect() as conn:
        assert partner_by_api_key(conn, key).code == "northwind"
    code, listed, _ = _run(capsys, "keys", "list", "northwind")
    assert code == 0 and key_id in listed and key not in listed
    assert _run(capsys, "keys", "revoke", key_id)[0] == 0
    with engine.connect() as conn:
        assert partner_by_api_key(conn, key) is None
    assert _run(capsys, "keys", "revoke", "key_nope")[:2] == (1, "")

    created = _run(capsys, "users", "create", "alice", "--role", "supplier", "--partner", "northwind",
                   "--password-stdin", stdin="alice-password-1\n", monkeypatch=monkeypatch)
    assert created == (0, "created supplier user alice for northwind\n", "")
    refused = _run(capsys, "users", "create", "bob", "--role", "supplier", "--password-stdin",
                   stdin="bob-password-12\n", monkeypatch=monkeypatch)
    assert refused[0] == 1 and refused[2].startswith("error: USER_PARTNER_INVALID")
    first_admin = _run(capsys, "users", "create", "root", "--role", "admin", "--password-stdin",
                       stdin="root-password-1\n", monkeypatch=monkeypatch)
    assert first_admin[0] == 0
    engine.dispose()


def test_bad_partner_file_is_refused_with_every_problem(hub_env: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("partners:\n  - code: ok\n    name: OK\n    agreements:\n      - {direction: sideways}\n"
                   "  - code: Nope\n    name: ''\n")
    code, out, err = _run(capsys, "partners", "import", str(bad))
    assert (code, out) == (1, "")
    assert err.splitlines()[1:] == [
        "  partners.0.agreements.0.direction: Input should be 'inbound' or 'outbound'",
        "  partners.1.code: String should match pattern '^[a-z0-9][a-z0-9_-]{0,63}$'",
        "  partners.1.name: String should have at least 1 character",
    ]
    assert not hub_env.exists()  # validation happens before the store is opened
