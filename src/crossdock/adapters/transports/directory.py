"""Delivery into a folder a partner (or its pickup job) reads: atomic, durable, idempotent.

Each payload is written to a hidden temp file in the target folder (``.crossdock-*.tmp``), flushed
and fsynced, renamed with ``os.replace`` to its final name, and then the folder itself is fsynced
so the rename survives a power cut. A reader therefore sees either no file or the whole file.

The final name is ``<delivery_id>.<ext>``: ours, never the partner's. ``filename_hint`` only
contributes its extension, and only one from the configured allow-list; path separators, ``..``,
NUL bytes and the like in a hint can never reach the file system. Sending the same delivery again
(even with another hint) finds the file and reports ``delivered`` without writing a second copy;
the same id with different bytes is a ``DELIVERY_ID_CONFLICT``. Two *concurrent* sends of one
delivery rename complete, identical files onto the same name, so a reader still sees one whole file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crossdock.schemas.errors import ConfigurationInvalid

from .base import DeliveryErrorCode, DeliveryResult, OutboundDelivery, Outcome

__all__ = [
    "DEFAULT_EXTENSIONS",
    "CONTENT_TYPE_EXTENSIONS",
    "DirectoryConfig",
    "DirectoryTransport",
    "final_name",
    "classify_os_error",
    "purge_stale_temp_files",
]

DEFAULT_EXTENSIONS = frozenset({"x12", "edi", "xml", "json", "txt", "csv", "dat"})
CONTENT_TYPE_EXTENSIONS: dict[str, str] = {
    "application/edi-x12": "x12",
    "application/edifact": "edi",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/json": "json",
    "text/plain": "txt",
    "text/csv": "csv",
}
TEMP_PREFIX = ".crossdock-"
TEMP_SUFFIX = ".tmp"

# Our ids become file names as they are: no leading dot (hidden or temp names), no separators.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_SAFE_EXTENSION = re.compile(r"[a-z0-9]{1,10}")
_HINT_SEPARATORS = re.compile(r"[/\\]")
_COMPARE_CHUNK = 1024 * 1024

_ERRNO_TABLE: dict[int, tuple[Outcome, DeliveryErrorCode]] = {
    errno.ENOSPC: ("retry", DeliveryErrorCode.DISK_FULL),
    errno.EDQUOT: ("retry", DeliveryErrorCode.DISK_FULL),
    errno.EACCES: ("failed", DeliveryErrorCode.PERMISSION_DENIED),
    errno.EPERM: ("failed", DeliveryErrorCode.PERMISSION_DENIED),
    errno.EROFS: ("failed", DeliveryErrorCode.READ_ONLY_FILESYSTEM),
    errno.ENOENT: ("failed", DeliveryErrorCode.DIRECTORY_MISSING),
    errno.ENOTDIR: ("failed", DeliveryErrorCode.DIRECTORY_MISSING),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectoryConfig:
    """Where and how to drop files.

    Attributes:
        directory: the target folder; it must exist (a missing folder fails the delivery).
        extensions: the extensions a ``filename_hint`` may choose (lower case).
        default_extension: used when neither the hint nor the content type gives one.
        file_mode: permission bits of delivered files.

    Raises:
        ConfigurationInvalid: for an extension that is not 1–10 lower-case letters or digits.
    """

    directory: Path
    extensions: frozenset[str] = DEFAULT_EXTENSIONS
    default_extension: str = "dat"
    file_mode: int = 0o640

    def __post_init__(self) -> None:
        object.__setattr__(self, "directory", Path(self.directory))
        for ext in (*self.extensions, self.default_extension):
            if not _SAFE_EXTENSION.fullmatch(ext):
                raise ConfigurationInvalid(f"file extension {ext!r} must be 1-10 lower-case letters or digits")


def _hint_extension(hint: str | None, allowed: frozenset[str]) -> str | None:
    if not hint:
        return None
    base = _HINT_SEPARATORS.split(hint)[-1]
    if "." not in base:
        return None
    ext = base.rpartition(".")[2].lower()
    return ext if ext in allowed else None


def final_name(delivery: OutboundDelivery, config: DirectoryConfig) -> str | None:
    """The file name a delivery gets, or None when its id cannot safely be a file name.

    Args:
        delivery: supplies the id, the untrusted hint and the content type.
        config: the allowed and default extensions.

    Returns:
        ``"<delivery_id>.<ext>"``; the extension comes from the hint when allowed, else from the
        content type, else the default.
    """
    if not _SAFE_ID.fullmatch(delivery.delivery_id) or ".." in delivery.delivery_id:
        return None
    media_type = delivery.content_type.split(";", 1)[0].strip().lower()
    ext = (_hint_extension(delivery.filename_hint, config.extensions)
           or CONTENT_TYPE_EXTENSIONS.get(media_type)
           or config.default_extension)
    return f"{delivery.delivery_id}.{ext}"


def classify_os_error(exc: OSError) -> tuple[Outcome, str]:
    """Translate a file-system error into ``(outcome, error_code)``.

    Full disks and unknown I/O errors are transient; permissions, read-only mounts and a
    missing folder need an operator, so they fail until the delivery is replayed.
    """
    outcome, code = _ERRNO_TABLE.get(exc.errno or 0, ("retry", DeliveryErrorCode.IO_ERROR))
    return outcome, str(code)


def purge_stale_temp_files(directory: Path, older_than_s: float, now: float) -> int:
    """Remove temp files a killed process left behind (a write never finished, nothing was renamed).

    Args:
        directory: the delivery folder.
        older_than_s: only temp files last modified this long ago go; a live write is younger.
        now: current unix time.

    Returns:
        How many files were removed.
    """
    removed = 0
    for temp in Path(directory).glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            if now - temp.stat().st_mtime >= older_than_s:
                temp.unlink()
                removed += 1
    return removed


def _same_content(path: Path, payload: bytes) -> bool:
    if path.stat().st_size != len(payload):
        return False
    view = memoryview(payload)
    with path.open("rb") as fh:
        for offset in range(0, len(payload), _COMPARE_CHUNK):
            if fh.read(_COMPARE_CHUNK) != view[offset:offset + _COMPARE_CHUNK]:
                return False
    return True


class DirectoryTransport:
    """Writes each delivery atomically into one folder.

    Args:
        config: the folder and naming rules.
        replace: the rename step, ``os.replace`` by default; tests inject a failing one.
        fsync: the flush-to-disk step, ``os.fsync`` by default; tests inject a failing one.
    """

    def __init__(
        self,
        config: DirectoryConfig,
        *,
        replace: Callable[[str, str], None] = os.replace,
        fsync: Callable[[int], None] = os.fsync,
    ) -> None:
        self._config = config
        self._replace = replace
        self._fsync = fsync
        # Every extension final_name() can produce: a resend with another hint is still a resend.
        self._all_extensions = sorted(
            {*config.extensions, *CONTENT_TYPE_EXTENSIONS.values(), config.default_extension})

    def send(self, delivery: OutboundDelivery) -> DeliveryResult:
        """Write the payload once; never raises for file-system problems."""
        started = time.perf_counter()
        name = final_name(delivery, self._config)
        if name is None:
            return _result(started, "failed", DeliveryErrorCode.DELIVERY_ID_INVALID,
                           "delivery id is not a safe file name")
        try:
            return self._deliver(self._config.directory / name, delivery.payload, started)
        except OSError as exc:
            outcome, code = classify_os_error(exc)
            return _result(started, outcome, code, f"{exc.strerror or type(exc).__name__} ({name})")

    def _deliver(self, target: Path, payload: bytes, started: float) -> DeliveryResult:
        earlier = self._earlier_copy(target)
        if earlier is not None:
            return self._already_there(earlier, payload, started)
        temp = self._write_temp(payload)
        try:
            self._replace(temp, str(target))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        self._sync_directory()
        return _result(started, "delivered", None, f"written {target.name}")

    def _earlier_copy(self, target: Path) -> Path | None:
        """A file of this delivery id from an earlier attempt, whatever extension it was given."""
        stem = target.name.rpartition(".")[0]
        for ext in self._all_extensions:
            candidate = target.with_name(f"{stem}.{ext}")
            if candidate.exists():
                return candidate
        return None

    def _already_there(self, target: Path, payload: bytes, started: float) -> DeliveryResult:
        if not _same_content(target, payload):
            return _result(started, "failed", DeliveryErrorCode.DELIVERY_ID_CONFLICT,
                           f"{target.name} exists with different content")
        # An earlier attempt may have crashed after the rename but before the folder fsync.
        self._sync_directory()
        return _result(started, "delivered", None, f"already delivered as {target.name}")

    def _write_temp(self, payload: bytes) -> str:
        fd, temp = tempfile.mkstemp(dir=self._config.directory, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), self._config.file_mode)
                fh.write(payload)
                fh.flush()
                self._fsync(fh.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        return temp

    def _sync_directory(self) -> None:
        fd = os.open(self._config.directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            self._fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Nothing is held open between deliveries."""


def _result(started: float, outcome: Outcome, code: str | None, detail: str) -> DeliveryResult:
    return DeliveryResult(outcome=outcome, detail=detail, error_code=None if code is None else str(code),
                          duration_ms=(time.perf_counter() - started) * 1000.0)
