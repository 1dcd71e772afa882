"""Bytes to text, chunk by chunk: encoding sniffing, BOM, and the latin-1 fallback.

Policy:

* ASCII and UTF-8 are decoded as UTF-8; a leading UTF-8 byte order mark is dropped.
* The first byte sequence that is not valid UTF-8 switches the rest of the stream to latin-1
  (every byte is one character, so nothing is lost and delimiters stay single characters); the
  switch is recorded as a warning with its byte offset. With ``latin1_fallback=False`` it is a
  file-level ``ENCODING_UNSUPPORTED`` error instead.
* UTF-16/UTF-32 (by byte order mark, or ``I\\0S\\0A\\0`` style NUL interleaving) and EBCDIC
  (``ISA`` is ``C9 E2 C1``) are rejected with ``ENCODING_UNSUPPORTED`` naming the encoding: the
  standards leave encoding to the trading partners, and we agree on ASCII/UTF-8 only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["FileProblem", "TextChunks", "sniff_encoding"]

UTF8_BOM = b"\xef\xbb\xbf"
#: how many bytes to look at before deciding the encoding
SNIFF_BYTES = 16
_ASCII_BLANKS = b" \t\r\n\x0b\x0c"
_EBCDIC_BLANKS = b"\x40\x05\x0d\x15\x25"
_EBCDIC_ISA = b"\xc9\xe2\xc1"
_WIDE_MARKS = (
    (b"\xff\xfe\x00\x00", "UTF-32LE"),
    (b"\x00\x00\xfe\xff", "UTF-32BE"),
    (b"\xff\xfe", "UTF-16LE"),
    (b"\xfe\xff", "UTF-16BE"),
    (b"I\x00S\x00A\x00", "UTF-16LE"),
    (b"\x00I\x00S\x00A", "UTF-16BE"),
)


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A problem with the file as a whole: no interchange can be reported for it.

    Attributes:
        code: ``"ENCODING_UNSUPPORTED"`` or ``"ENVELOPE_INVALID"`` (the error class's code).
        reason: stable detail, e.g. ``"UTF-16LE"``, ``"EBCDIC"``, ``"EMPTY"``, ``"NO_ISA"``.
        message: a human sentence.
    """

    code: str
    reason: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason, "message": self.message}


def sniff_encoding(head: bytes) -> FileProblem | None:
    """A rejection for the encodings we do not read, judged from the first bytes.

    Args:
        head: the first :data:`SNIFF_BYTES` (or fewer, when the file is shorter) bytes.

    Returns:
        ``None`` when the bytes may be ASCII/UTF-8 (or latin-1), else the problem.
    """
    for mark, name in _WIDE_MARKS:
        if head.startswith(mark) or head.lstrip(_ASCII_BLANKS).startswith(mark):
            return FileProblem("ENCODING_UNSUPPORTED", name,
                               f"the file is encoded in {name}; only ASCII/UTF-8 X12 is read")
    if head.lstrip(_EBCDIC_BLANKS).startswith(_EBCDIC_ISA):
        return FileProblem("ENCODING_UNSUPPORTED", "EBCDIC",
                           "the file is encoded in EBCDIC; only ASCII/UTF-8 X12 is read")
    return None


class TextChunks:
    """Iterates over the text of a binary stream, one decoded chunk at a time.

    After iteration (or when it stops early), :attr:`problem` holds a file-level rejection and
    :attr:`fallback_offset` the byte offset where latin-1 decoding began, if it did.
    """

    def __init__(self, stream: BinaryIO, chunk_size: int, latin1_fallback: bool) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self._latin1_fallback = latin1_fallback
        self._latin1 = False
        self._pending = b""
        self.bytes_read = 0
        self.bom_length = 0
        self.problem: FileProblem | None = None
        self.fallback_offset: int | None = None

    @property
    def encoding(self) -> str:
        """The codec currently used (``"utf-8"`` or, after a fallback, ``"latin-1"``)."""
        return "latin-1" if self._latin1 else "utf-8"

    def _read(self) -> bytes:
        data = self._stream.read(self._chunk_size)
        self.bytes_read += len(data)
        return data

    def _first(self) -> bytes | None:
        head = self._read()
        while head and len(head) < SNIFF_BYTES:
            more = self._read()
            if not more:
                break
            head += more
        self.problem = sniff_encoding(head[:SNIFF_BYTES])
        if self.problem is not None:
            return None
        if head.startswith(UTF8_BOM):
            self.bom_length = len(UTF8_BOM)
            head = head[len(UTF8_BOM):]
        return head

    def _decode(self, data: bytes, final: bool) -> str | None:
        data = self._pending + data
        self._pending = b""
        if self._latin1:
            return data.decode("latin-1")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if not final and exc.end == len(data) and exc.reason == "unexpected end of data":
                # a multi-byte character cut by the chunk boundary: finish it with the next read
                self._pending = data[exc.start:]
                return data[:exc.start].decode("utf-8")
            offset = self.bytes_read - len(data) + exc.start
            if not self._latin1_fallback:
                self.problem = FileProblem(
                    "ENCODING_UNSUPPORTED", "INVALID_UTF8",
                    f"byte {offset} is not valid UTF-8 and the latin-1 fallback is off")
                return None
            self._latin1 = True
            self.fallback_offset = offset
            return data[:exc.start].decode("utf-8") + data[exc.start:].decode("latin-1")

    def __iter__(self) -> Iterator[str]:
        data = self._first()
        while data:
            text = self._decode(data, final=False)
            if text is None:
                return
            if text:
                yield text
            data = self._read()
        if self._pending:
            text = self._decode(b"", final=True)
            if text:
                yield text
