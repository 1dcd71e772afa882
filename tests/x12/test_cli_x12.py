"""``crossdock validate`` and ``crossdock ack``: exit codes, the JSON contract, acks on stdout/--out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crossdock.gateway.cli import main

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "x12"
VALID_850 = GOLDEN / "850" / "004010-valid" / "input.x12"
VALID_999_INPUT = GOLDEN / "850" / "005010-valid" / "input.x12"
BROKEN_850 = GOLDEN / "850" / "004010-beg01-invalid-code" / "input.x12"
BAD_ISA13 = GOLDEN / "bad" / "3.2-16-non-numeric-isa13" / "input.x12"
TA1_REQUESTED = GOLDEN / "bad" / "3.2-20-ta1-requested" / "input.x12"

INTERCHANGE_KEYS = {"sender", "receiver", "control_number", "version", "status", "ta1_code", "groups"}
GROUP_KEYS = {"functional_id", "control_number", "status", "ak9_codes", "transactions"}
SET_KEYS = {"set_id", "control_number", "status", "errors"}
ERROR_KEYS = {"level", "code", "segment_id", "segment_position", "element_position", "component_position",
              "loop_id", "message"}


def test_validate_accepted_file_exits_0_with_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(VALID_850)]) == 0
    out = capsys.readouterr().out
    assert "000000101" in out and "BUYERCO" in out and "SUPPLIERCO" in out and "850 0001" in out


def test_validate_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.x12"
    junk.write_bytes(b"hello, this is not X12\n")
    assert main(["validate", "--json", str(VALID_850), str(BROKEN_850), str(junk)]) == 1
    document = json.loads(capsys.readouterr().out)  # exactly one JSON object
    assert list(document) == ["files"]
    valid, broken, no_isa = document["files"]
    assert valid["path"] == str(VALID_850)
    (interchange,) = valid["interchanges"]
    assert set(interchange) == INTERCHANGE_KEYS
    assert (interchange["sender"], interchange["receiver"], interchange["status"]) == ("BUYERCO", "SUPPLIERCO", "accepted")
    (group,) = interchange["groups"]
    assert set(group) == GROUP_KEYS and group["status"] == "A"
    assert set(group["transactions"][0]) == SET_KEYS
    rejected_set = broken["interchanges"][0]["groups"][0]["transactions"][0]
    assert rejected_set["status"] == "R"
    assert rejected_set["errors"] and all(set(e) == ERROR_KEYS for e in rejected_set["errors"])
    assert set(no_isa) == {"path", "error"} and {"code", "message"} <= set(no_isa["error"])
    assert no_isa["error"]["code"] == "ENVELOPE_INVALID"


def test_validate_envelope_rejection_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--json", str(BAD_ISA13)]) == 1
    (interchange,) = json.loads(capsys.readouterr().out)["files"][0]["interchanges"]
    assert (interchange["status"], interchange["ta1_code"]) == ("rejected", "018")


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--json", str(VALID_850), str(tmp_path / "absent.x12")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing partial on stdout
    assert "absent.x12" in captured.err
    assert main(["ack", str(tmp_path)]) == 2  # a directory is not a readable file


def test_argparse_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["validate"])
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        main(["ack", str(VALID_850), "--type", "998"])
    assert caught.value.code == 2


def test_ack_prints_a_997(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["ack", str(VALID_850)]) == 0
    out = capsysbinary.readouterr().out.decode()
    assert out.startswith("ISA*00*          *00*          *ZZ*SUPPLIERCO     *ZZ*BUYERCO        *")
    assert "*U*00401*000000001*0*P*>~" in out
    assert "ST*997*0001~" in out and "AK1*PO*101~" in out and "AK9*A*1*1*1~" in out


def test_ack_options_and_out_file(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    target = tmp_path / "reply.x12"
    assert main(["ack", str(VALID_850), "--out", str(target), "--type", "999", "--ta1", "always"]) == 0
    assert capsysbinary.readouterr().out == b""
    reply = target.read_bytes().decode()
    assert reply.count("ISA*") == 2  # a TA1 interchange, then the 999's
    assert "TA1*000000101*240115*0930*A*000~" in reply
    assert "ST*999*0001*005010X231A1~" in reply and "GS*FA*SUPPLIERCO*BUYERCO*" in reply


def test_ack_for_rejected_interchange_is_a_ta1_and_exit_1(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["ack", str(BAD_ISA13)]) == 1
    out = capsysbinary.readouterr().out.decode()
    assert "TA1*00000010A*240115*0930*R*018~" in out and "ST*997" not in out


def test_ack_without_isa_exits_1_and_explains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.x12"
    empty.write_bytes(b"")
    assert main(["ack", str(empty)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "no interchange to acknowledge" in captured.err


def test_cli_streams_from_the_path(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The reader gets the path (and streams it), never the file's bytes."""
    import crossdock.adapters.x12 as x12

    seen: list[object] = []
    real = x12.validate

    def spy(source: object, *args: object, **kwargs: object) -> object:
        seen.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(x12, "validate", spy)
    assert main(["validate", str(VALID_850)]) == 0
    assert seen == [str(VALID_850)]


def test_console_script_entry_point() -> None:
    proc = subprocess.run([sys.executable, "-m", "crossdock.gateway.cli", "validate", "--json", str(VALID_999_INPUT)],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"][0]["interchanges"][0]["version"] == "00501"


def test_ack_that_cannot_be_written_is_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A 17-character ISA06 (the ISA is not fixed-width) cannot be echoed into the reply's 15-character ISA08.
    source = VALID_850.read_bytes().replace(b"*ZZ*BUYERCO        *", b"*ZZ*BUYERCOMPANY12345*", 1)
    path = tmp_path / "long-id.x12"
    path.write_bytes(source)
    assert main(["ack", str(path), "--ta1", "always"]) == 1
    assert "ISA_FIELD_TOO_LONG: ISA08 is 17 characters" in capsys.readouterr().err
