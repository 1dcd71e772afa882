"""DirectoryTransport on a real temp folder: atomic rename, fsync order, naming, idempotency, errors."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from crossdock.adapters.transports import (
    DirectoryConfig,
    DirectoryTransport,
    OutboundDelivery,
    Transport,
    purge_stale_temp_files,
)
from crossdock.schemas.errors import ConfigurationInvalid

PAYLOAD = b"ISA*00*          *00*          *ZZ*HUB            *ZZ*ACME           ~" * 2000


def _delivery(delivery_id: str = "out-000123", payload: bytes = PAYLOAD, hint: str | None = "PO4500.x12",
              content_type: str = "application/edi-x12") -> OutboundDelivery:
    return OutboundDelivery(delivery_id=delivery_id, partner_id="acme", payload=payload,
                            content_type=content_type, filename_hint=hint, idempotency_key=f"k-{delivery_id}")


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    folder = tmp_path / "outbox"
    folder.mkdir()
    return folder


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_writes_the_whole_payload_under_a_generated_name(outbox: Path) -> None:
    transport = DirectoryTransport(DirectoryConfig(directory=outbox))
    result = transport.send(_delivery())

    assert (result.outcome, result.error_code, result.status_code) == ("delivered", None, None)
    assert _listing(outbox) == ["out-000123.x12"]
    assert (outbox / "out-000123.x12").read_bytes() == PAYLOAD
    assert stat.S_IMODE((outbox / "out-000123.x12").stat().st_mode) == 0o640
    assert isinstance(transport, Transport)


def test_payload_is_complete_and_synced_before_the_rename_and_folder_synced_after(outbox: Path) -> None:
    events: list[str] = []

    def fsync(fd: int) -> None:
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        os.fsync(fd)
        events.append(f"fsync-{kind}")

    def replace(src: str, dst: str) -> None:
        # At the moment of the rename the final name is not yet visible and the temp file is whole.
        assert not os.path.exists(dst)
        assert Path(src).read_bytes() == PAYLOAD
        assert Path(src).name.startswith(".crossdock-") and Path(src).parent == outbox
        events.append("replace")
        os.replace(src, dst)

    result = DirectoryTransport(DirectoryConfig(directory=outbox), replace=replace, fsync=fsync).send(_delivery())

    assert result.outcome == "delivered"
    assert events == ["fsync-file", "replace", "fsync-dir"]


@pytest.mark.parametrize(
    ("error", "outcome", "code"),
    [
        (errno.ENOSPC, "retry", "DISK_FULL"),
        (errno.EDQUOT, "retry", "DISK_FULL"),
        (errno.EIO, "retry", "IO_ERROR"),
        (errno.EACCES, "failed", "PERMISSION_DENIED"),
        (errno.EPERM, "failed", "PERMISSION_DENIED"),
        (errno.EROFS, "failed", "READ_ONLY_FILESYSTEM"),
    ],
)
def test_rename_failure_leaves_nothing_behind_and_is_classified(outbox: Path, error: int, outcome: str, code: str) -> None:
    def replace(src: str, dst: str) -> None:
        raise OSError(error, os.strerror(error), dst)

    result = DirectoryTransport(DirectoryConfig(directory=outbox), replace=replace).send(_delivery())

    assert (result.outcome, result.error_code) == (outcome, code)
    assert result.detail == f"{os.strerror(error)} (out-000123.x12)"
    assert _listing(outbox) == []


def test_disk_full_at_fsync_leaves_nothing_behind_and_retry_succeeds(outbox: Path) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    failed = DirectoryTransport(DirectoryConfig(directory=outbox), fsync=full).send(_delivery())
    assert (failed.outcome, failed.error_code) == ("retry", "DISK_FULL")
    assert _listing(outbox) == []

    again = DirectoryTransport(DirectoryConfig(directory=outbox)).send(_delivery())
    assert again.outcome == "delivered"
    assert _listing(outbox) == ["out-000123.x12"]


def test_same_delivery_twice_makes_one_file(outbox: Path) -> None:
    transport = DirectoryTransport(DirectoryConfig(directory=outbox))
    first = transport.send(_delivery())
    second = transport.send(_delivery(hint="renamed-by-partner.txt"))

    assert (first.outcome, second.outcome) == ("delivered", "delivered")
    assert second.detail == "already delivered as out-000123.x12"
    assert _listing(outbox) == ["out-000123.x12"]


def test_crash_after_rename_then_resend_is_delivered_once(outbox: Path) -> None:
    def lost_power(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        os.fsync(fd)

    crashed = DirectoryTransport(DirectoryConfig(directory=outbox), fsync=lost_power).send(_delivery())
    assert (crashed.outcome, crashed.error_code) == ("retry", "IO_ERROR")

    resent = DirectoryTransport(DirectoryConfig(directory=outbox)).send(_delivery())
    assert resent.outcome == "delivered"
    assert _listing(outbox) == ["out-000123.x12"]


def test_same_id_with_different_content_is_a_conflict(outbox: Path) -> None:
    transport = DirectoryTransport(DirectoryConfig(directory=outbox))
    transport.send(_delivery())
    for other in (PAYLOAD[:-1] + b"!", PAYLOAD + b"\n"):
        result = transport.send(_delivery(payload=other))
        assert (result.outcome, result.error_code) == ("failed", "DELIVERY_ID_CONFLICT")
    assert (outbox / "out-000123.x12").read_bytes() == PAYLOAD


@pytest.mark.parametrize(
    ("hint", "content_type", "name"),
    [
        ("../../etc/passwd", "application/edi-x12", "out-7.x12"),
        ("../../../tmp/evil.json", "application/edi-x12", "out-7.json"),
        ("..\\..\\windows\\system32\\evil.XML", "application/json", "out-7.xml"),
        ("/etc/cron.d/job.sh", "application/xml; charset=utf-8", "out-7.xml"),
        ("inbox/../../escape.edi/", "text/plain", "out-7.txt"),
        ("PO\x00.exe", "application/json", "out-7.json"),
        ("report.exe", "text/csv", "out-7.csv"),
        ("C:\\Users\\partner\\po.x12", "application/octet-stream", "out-7.x12"),
        ("..", "application/octet-stream", "out-7.dat"),
        (".x12", "application/octet-stream", "out-7.x12"),
        ("a" * 5000 + ".x12", "application/edi-x12", "out-7.x12"),
        (None, "application/octet-stream", "out-7.dat"),
    ],
)
def test_filename_hint_never_escapes_or_names_the_file(tmp_path: Path, hint: str | None,
                                                         content_type: str, name: str) -> None:
    outbox = tmp_path / "deep" / "outbox"
    outbox.mkdir(parents=True)
    result = DirectoryTransport(DirectoryConfig(directory=outbox)).send(
        _delivery(delivery_id="out-7", hint=hint, content_type=content_type))

    assert result.outcome == "delivered"
    assert _listing(outbox) == [name]
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "deep", "deep/outbox", f"deep/outbox/{name}"]


@pytest.mark.parametrize("delivery_id", ["../escape", ".hidden", "a/b", "a\\b", "x..y", "sp ace", "a" * 129])
def test_unsafe_delivery_id_fails_without_writing(outbox: Path, delivery_id: str) -> None:
    result = DirectoryTransport(DirectoryConfig(directory=outbox)).send(_delivery(delivery_id=delivery_id))
    assert (result.outcome, result.error_code) == ("failed", "DELIVERY_ID_INVALID")
    assert _listing(outbox) == []


def test_missing_folder_fails_with_a_code(tmp_path: Path) -> None:
    result = DirectoryTransport(DirectoryConfig(directory=tmp_path / "gone")).send(_delivery())
    assert (result.outcome, result.error_code) == ("failed", "DIRECTORY_MISSING")


def test_folder_that_is_a_file_fails_with_a_code(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    result = DirectoryTransport(DirectoryConfig(directory=tmp_path / "file")).send(_delivery())
    assert (result.outcome, result.error_code) == ("failed", "DIRECTORY_MISSING")


def test_config_extensions_and_mode(outbox: Path) -> None:
    config = DirectoryConfig(directory=str(outbox), extensions=frozenset({"edi"}), default_extension="in",  # type: ignore[arg-type]
                             file_mode=0o600)
    DirectoryTransport(config).send(_delivery(hint="po.x12", content_type="application/octet-stream"))
    assert _listing(outbox) == ["out-000123.in"]
    assert stat.S_IMODE((outbox / "out-000123.in").stat().st_mode) == 0o600


@pytest.mark.parametrize("ext", ["", "../x", "X12", "a.b", "toolongextension"])
def test_unsafe_configured_extension_is_refused(outbox: Path, ext: str) -> None:
    with pytest.raises(ConfigurationInvalid):
        DirectoryConfig(directory=outbox, default_extension=ext)


def test_purge_removes_only_stale_temp_files(outbox: Path) -> None:
    DirectoryTransport(DirectoryConfig(directory=outbox)).send(_delivery())
    stale, fresh = outbox / ".crossdock-dead.tmp", outbox / ".crossdock-live.tmp"
    stale.write_bytes(b"half a fi")
    fresh.write_bytes(b"being writ")
    os.utime(stale, (1_000, 1_000))
    os.utime(fresh, (1_990, 1_990))

    assert purge_stale_temp_files(outbox, older_than_s=600, now=2_000) == 1
    assert _listing(outbox) == [".crossdock-live.tmp", "out-000123.x12"]
