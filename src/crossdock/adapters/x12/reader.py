"""The X12 reader: bytes in, segments streamed, envelopes checked, verdicts out.

One pass over a binary stream, in chunks, with bounded memory:

1. :mod:`._decode` turns bytes into text (UTF-8, latin-1 fallback, UTF-16/EBCDIC rejected).
2. At each interchange start, :mod:`._isa` reads the ISA and its delimiters.
3. The text is split into segments with ``str.split`` on the terminator, a window at a time;
   segments inside a transaction set go straight to the set validator
   (:func:`crossdock.adapters.x12.validator.new_set_validator`), one at a time.
4. Envelope segments (ISA/IEA, GS/GE, ST/SE) drive a small state machine that checks counts and
   control numbers and collects every problem, with the standard's code, into
   :class:`~crossdock.schemas.x12.report.InterchangeReport` and
   :class:`~crossdock.schemas.x12.report.GroupReport`.

Public entry points (streaming first):

=========================  =========================================================  ==========
function                   yields / returns                                           trees kept
=========================  =========================================================  ==========
:func:`read`               per interchange: its :class:`SetUnit` s, then its report   one set
:func:`iter_sets`          :class:`SetUnit` only                                      one set
:func:`iter_interchanges`  :class:`InterchangeReport` only                            none
:func:`validate`           one :class:`FileReport`                                    none
:func:`parse`              every :class:`Interchange` tree plus the :class:`FileReport` all
=========================  =========================================================  ==========

A set's own verdict is final when its :class:`SetUnit` is yielded, but the envelope's verdict
comes with the :class:`InterchangeReport` that follows the interchange's last set: a gateway
acting on sets one at a time must wait for that report before committing (a rejected
interchange rejects all its sets; a group with status ``R`` rejects its sets).

Decisions worth knowing:

* Line breaks (CR, LF) that are not the terminator are layout, not data, wherever they are
  (after terminators, blank lines, wrapped long segments; X12 character sets have no line
  breaks); spaces and tabs at the start of a segment are indentation. The run of line breaks
  after the ISA is kept as :attr:`Delimiters.suffix` for writing back. Empty segments are
  skipped.
* Fast path: the text is split on terminator+suffix a window (at most 64 KB in the steady
  state) at a time, and one ``bytes.translate`` pass over the ASCII window proves both that
  every terminator is followed by the suffix with no other line break, and that every
  character is in the agreed set (other windows take separate tests). Inside a set the raw
  segment texts go to the validator's ``feed_texts``; composites and repetitions are only split
  when the segment text contains their separator.
* A segment whose id is ``ISA`` always starts an interchange, even when the previous one has
  no IEA yet (that one then ends with TA1 ``023``): sets are never attributed to the previous
  interchange's sender. ``ISA`` anywhere else (inside an element) is data.
* Segments after an IEA that are not an ISA are reported once per run on that interchange
  (TA1 ``024``); blank lines are ignored.
* When more than :attr:`ReadOptions.max_segment_length` characters are buffered without a
  terminator (a giant segment, or a wrong terminator), the segment is discarded up to the next
  terminator and reported as TA1 ``022`` at interchange level (the set it was in then also
  fails its SE01 count). Memory is bounded by about ``max_segment_length + chunk_size``.
* Control numbers are compared as numbers when both are digits (``GE02=5`` matches
  ``GS06=000005``). ST03 may refine GS08 but not name another version/release (AK5 ``I6``).
* The latin-1 fallback warning (code ``LATIN1_FALLBACK``) goes on the interchange being read
  when the chunk holding the first bad byte was decoded; its message gives the byte offset.
* A new ISA with a *different element separator* inside a set whose interchange has no IEA is
  not recognised (the set sees an unknown segment; the interchange then ends with ``023``);
  with the same element separator, or after an IEA, it always is.
* An ISA whose delimiters are unusable (TA1 ``026``/``004``, or no 16 elements) ends reading:
  the rest of the input cannot be tokenized.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import BinaryIO, Protocol, Union

from crossdock.adapters.x12 import envelope_codes as codes
from crossdock.adapters.x12._decode import FileProblem, TextChunks
from crossdock.adapters.x12._isa import ISA_MAX_LENIENT_LENGTH, IsaHeader, read_isa
from crossdock.adapters.x12._tokens import first_three
from crossdock.adapters.x12._tokens import split_values as _split_values
from crossdock.adapters.x12.validator_elements import (
    CHARSETS,
    DEFAULT_CHARSET,
    Charset,
    allowed_ascii,
    text_in_charset,
)
from crossdock.schemas.errors import ConfigurationInvalid, EncodingUnsupported, EnvelopeInvalid
from crossdock.schemas.x12.report import (
    FileReport,
    GroupReport,
    InterchangeReport,
    SetReport,
    X12Error,
)
from crossdock.schemas.x12.tree import (
    Delimiters,
    Group,
    Interchange,
    Segment,
    Transaction,
)

__all__ = [
    "ReadOptions",
    "SetUnit",
    "SetValidator",
    "ValidatorFactory",
    "Source",
    "read",
    "iter_sets",
    "iter_interchanges",
    "validate",
    "parse",
]

Source = Union[bytes, bytearray, memoryview, BinaryIO, str, os.PathLike]


class SetValidator(Protocol):
    """What the reader needs from a set validator (see ``adapters/x12/validator.py``).

    A validator may also offer the fast protocol ``feed_texts(pieces, start, stop, separators,
    keep) -> int`` (see :meth:`crossdock.adapters.x12.validator.SetValidator.feed_texts`): the
    reader then hands it runs of raw segment texts instead of one tree per segment.
    """

    def feed(self, segment: Segment) -> None: ...

    def finish(self, se: Segment | None) -> SetReport: ...


#: ``(st, functional_id, group_version, delimiters) -> SetValidator``
ValidatorFactory = Callable[[Segment, str, str, Delimiters], SetValidator]


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read X12 input. Built once by the caller and passed down.

    Attributes:
        chunk_size: bytes read from the stream at a time.
        max_segment_length: longest segment (in characters) buffered before it is reported as
            TA1 ``022`` and skipped.
        lenient_isa: accept a short (unpadded) ISA without an error (partner profile).
        latin1_fallback: decode bytes that are not valid UTF-8 as latin-1 (with a warning)
            instead of rejecting the file.
        functional_ids: GS01 values accepted; ``None`` accepts any two-character id. Others
            get AK9 code 1.
        max_errors: interchange-level problems listed per interchange; more are counted in a
            final warning (protects memory against junk input).
        validator: set validator factory; ``None`` uses
            :func:`crossdock.adapters.x12.validator.new_set_validator`.
        charset: the partner agreement's character set (Azure's X12CharacterSet): ``basic``,
            ``extended`` or ``utf8``; characters outside it are element errors (AK4/IK4 6).
            Used by the default validator; a custom ``validator`` checks what it likes.
    """

    chunk_size: int = 1 << 20
    max_segment_length: int = 1 << 20
    lenient_isa: bool = False
    latin1_fallback: bool = True
    functional_ids: frozenset[str] | None = None
    max_errors: int = 100
    validator: ValidatorFactory | None = None
    charset: Charset = DEFAULT_CHARSET

    def __post_init__(self) -> None:
        for name in ("chunk_size", "max_segment_length", "max_errors"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigurationInvalid(f"ReadOptions.{name} must be a positive integer")
        if self.charset not in CHARSETS:
            raise ConfigurationInvalid(f"ReadOptions.charset must be one of {', '.join(CHARSETS)}")


@dataclass(frozen=True, slots=True)
class SetUnit:
    """One transaction set with its tree, its verdict and its envelope context.

    Attributes:
        interchange_header: the ISA segment.
        delimiters: the interchange's delimiters.
        group_header: the GS segment.
        transaction: ST..SE (without SE when it was missing).
        report: the set's verdict, including envelope-level set errors (duplicate ST02).
        interchange_index: 0-based position of the interchange in the file.
        group_index: 0-based position of the group in its interchange.
    """

    interchange_header: Segment
    delimiters: Delimiters
    group_header: Segment
    transaction: Transaction
    report: SetReport
    interchange_index: int
    group_index: int


#: code of the warning recorded when decoding falls back to latin-1 (not a TA1 code)
LATIN1_FALLBACK = "LATIN1_FALLBACK"

# envelope state
_OUTSIDE, _INTERCHANGE, _GROUP, _SET, _SKIP_SET = range(5)
_ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
#: ids the hot loop hands to the envelope logic; "" is an empty segment
_DISPATCH_IDS = _ENVELOPE_IDS | {""}
#: interchange-level control segments allowed between ISA and the first GS
_INTERCHANGE_CONTROL_IDS = frozenset({"TA1", "ISB", "ISE", "ISX"})
_LINE_BREAKS = "\r\n"
#: characters between segments that are layout, not data
_LAYOUT = " \t\r\n"
#: window (characters) split right after an interchange starts; it doubles while no new ISA
#: interrupts it, so many small interchanges never re-split a whole chunk
_FIRST_WINDOW = 4096
#: largest window split at once in the steady state (a longer segment still grows it): the
#: window's segment strings, about three times its size in objects, then stay in the CPU's
#: second-level cache while the hot loop reads them (64 KB also runs fewer instructions than 4 MB)
_MAX_WINDOW = 1 << 16


def _make_segment(parts: list[str], raw: str, component: str, repetition: str) -> Segment:
    """A :class:`Segment` from its split text, trailing empty elements dropped."""
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    if component in raw or repetition in raw:
        return Segment(parts[0], _split_values(parts, component, repetition))
    return tuple.__new__(Segment, (parts[0], tuple(parts[1:])))  # Segment(...) without its Python __new__


def _starts_interchange(raw: str) -> bool:
    """The segment text is an ISA, whatever its element separator (a letter after "ISA" means
    a longer word, i.e. data)."""
    text = raw.lstrip()
    return text.startswith("ISA") and len(text) > 3 and not text[3].isalnum()


def _digits(value: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts superscripts and other scripts)."""
    return value.isascii() and value.isdigit()


def _same_number(a: str, b: str) -> bool:
    """Control numbers agree: equal text, or equal values when both are digits."""
    return a == b or (_digits(a) and _digits(b) and int(a) == int(b))


def _same_release(convention: str, group_version: str) -> bool:
    """ST03 may refine GS08 (``005010X230`` under ``005010``: it takes precedence, per the
    standard) but must not name another version/release (the first six characters)."""
    return convention[:6] == group_version[:6]


def _group_status(errors: list[X12Error], sets: list[SetReport]) -> str:
    if any(e.severity == "error" for e in errors):
        return "R"
    rejected = sum(1 for s in sets if s.status == "R")
    if sets and rejected == len(sets):
        return "R"
    if rejected:
        return "P"
    return "E" if any(s.status == "E" for s in sets) else "A"


class _OpenInterchange:
    __slots__ = ("isa", "offset", "index", "errors", "groups", "group_numbers", "controls",
                 "trailer", "suppressed", "junk_reported")

    def __init__(self, isa: IsaHeader, offset: int, index: int) -> None:
        self.isa = isa
        self.offset = offset
        self.index = index
        self.errors: list[X12Error] = list(isa.errors)
        self.groups: list[GroupReport] = []
        self.group_numbers: set[str] = set()
        self.controls: list[Segment] = []
        self.trailer: Segment | None = None
        self.suppressed = 0
        self.junk_reported = False

    def report(self) -> InterchangeReport:
        header = self.isa.segment
        errors = list(self.errors)
        if self.suppressed:
            errors.append(X12Error(level="interchange", code=codes.TA1_INVALID_CONTENT,
                                   message=f"{self.suppressed} further problems not listed",
                                   severity="warning"))
        failed = [e for e in errors if e.severity == "error"]
        return InterchangeReport(
            sender=(header.get(5), header.get(6).strip()),
            receiver=(header.get(7), header.get(8).strip()),
            control_number=header.get(13),
            version=header.get(12),
            status="rejected" if failed else "accepted",
            ta1_code=failed[0].code if failed else None,
            groups=tuple(self.groups),
            header=header,
            delimiters=self.isa.delimiters,
            ta1_requested=header.get(14) == "1",
            usage=header.get(15),
            errors=tuple(errors),
            offset=self.offset,
            trailer=self.trailer,
            control_segments=tuple(self.controls),
        )


class _OpenGroup:
    __slots__ = ("header", "index", "errors", "sets", "set_numbers", "functional_id", "version")

    def __init__(self, header: Segment, index: int, errors: list[X12Error]) -> None:
        self.header = header
        # read once: every set of the group needs them
        self.functional_id = header.get(1)
        self.version = header.get(8)
        self.index = index
        self.errors = errors
        self.sets: list[SetReport] = []
        self.set_numbers: set[str] = set()


class _Reader:
    """One pass over one input. Use :meth:`events` once."""

    def __init__(self, stream: BinaryIO, options: ReadOptions, keep_trees: bool) -> None:
        self._options = options
        self._keep_trees = keep_trees
        self._factory = options.validator or _default_validator_factory(options.charset)
        self._chunks = TextChunks(stream, options.chunk_size, options.latin1_fallback)
        self._text = ""
        self._pos = 0
        self._eof = False
        self._stop = False
        self._window = _FIRST_WINDOW
        self._mark_char = 0
        self._mark_byte: int | None = None
        self._out: list[SetUnit | InterchangeReport] = []
        self.problem: FileProblem | None = None
        # envelope state
        self._state = _OUTSIDE
        self._at_isa = True  # no delimiters yet: the next thing must be an ISA
        self._skipping = False
        self._seen_content = False
        self._ic: _OpenInterchange | None = None
        self._pending: _OpenInterchange | None = None
        self._group: _OpenGroup | None = None
        # the open set (plain attributes: one object fewer per set): its validator, the envelope's
        # own errors about it (duplicate ST02, ST03), and its segments when trees are kept
        self._validator: SetValidator | None = None
        self._st_errors: list[X12Error] = []
        self._set_segments: list[Segment] | None = None
        self._feed: Callable[[Segment], None] | None = None
        self._keep: Callable[[Segment], None] | None = None
        #: the open set validator's ``feed_texts``, when it offers the fast protocol
        self._batch: Callable[..., int] | None = None
        #: ids that end a fast run: envelope segments, empty text, and the giant-segment marker
        self._stop_ids = _DISPATCH_IDS
        self._interchange_count = 0
        self._isa_numbers: set[str] = set()
        self._fallback_noted = False
        # current delimiters (component/repetition are the terminator when absent: a split
        # segment never contains the terminator, so `in` tests stay correct without branches)
        self._delimiters: Delimiters | None = None
        self._t = self._s = self._e = self._c = self._r = ""
        # window scans for the current delimiters and character set (see _use_delimiters)
        self._data_bytes = self._layout_bytes = self._separator_bytes = b""

    # --- driving -----------------------------------------------------------------------
    def events(self) -> Iterator[SetUnit | InterchangeReport]:
        """Yields each completed set (when trees are kept) and each interchange's report."""
        chunks = iter(self._chunks)
        self._fill(chunks)
        while not self._stop:
            progressed = self._step()
            if self._out:
                yield from self._out
                self._out.clear()
            if not progressed:
                if self._eof:
                    break
                self._fill(chunks)
        self._end_of_input()
        yield from self._out
        self._out.clear()

    def _fill(self, chunks: Iterator[str]) -> None:
        chunk = next(chunks, None)
        if self._mark_byte is None:
            self._mark_byte = self._chunks.bom_length
        if chunk is None:
            self._eof = True
            if self._chunks.problem is not None:
                self.problem = self._chunks.problem
            return
        self._mark_byte += self._byte_length(self._text[self._mark_char:self._pos])
        self._mark_char = 0
        self._text = self._text[self._pos:] + chunk if self._pos < len(self._text) else chunk
        self._pos = 0
        self._note_fallback()

    def _byte_length(self, text: str) -> int:
        if text.isascii():
            return len(text)
        return len(text.encode(self._chunks.encoding, "replace"))

    def _byte_offset(self, pos: int) -> int:
        """Byte offset in the input of text position ``pos`` (moves the mark forward)."""
        assert self._mark_byte is not None
        offset = self._mark_byte + self._byte_length(self._text[self._mark_char:pos])
        self._mark_char, self._mark_byte = pos, offset
        return offset

    def _step(self) -> bool:
        """Consumes what the buffered text allows; False when more input is needed."""
        if self._skipping:
            return self._skip_segment()
        if self._at_isa:
            return self._open_interchange()
        return self._split_window()

    # --- tokenizing ----------------------------------------------------------------------
    def _split_window(self) -> bool:
        text, pos = self._text, self._pos
        while pos < len(text) and text[pos] in _LAYOUT and text[pos] != self._t:
            pos += 1
        self._pos = pos
        end = min(len(text), pos + self._window)
        window = text[pos:end]
        pieces, separator, checked = self._split(window)
        if len(pieces) == 1:
            if end < len(text):
                self._window *= 2
                return True
            if self._eof:
                return self._final_segment(window, pieces[0])
            if len(window) > self._options.max_segment_length:
                self._start_giant()
                return True
            return False
        complete = pieces[:-1]
        if len(window) > self._options.max_segment_length:
            self._mark_giants(complete)
        # the separators are those of the interchange open at the window's start; a new ISA in
        # the window ends the run (resync) before its segments are read (an absent component or
        # repetition separator is the terminator, which no piece holds)
        plain = (self._c == self._t or self._c not in window) and (self._r == self._t or self._r not in window)
        resync = self._run(complete, plain, checked)
        if resync is None:
            self._pos = pos + window.rfind(separator) + len(separator)
            self._window = min(self._window * 2, _MAX_WINDOW)
        else:
            rest = window.split(separator, resync)[-1]
            self._pos = end - len(rest.lstrip())
            self._window = _FIRST_WINDOW
            self._at_isa = True
        return True

    def _split(self, window: str) -> tuple[list[str], str, bool]:
        """Splits a window into cleaned segment texts and tests its characters.

        The common case costs one ``split`` and one ``bytes.translate`` in C: deleting every
        allowed character but the terminator and line breaks from an ASCII window must leave
        exactly one terminator+suffix per separator found, which proves both that the layout is
        regular and that every character is in the agreed set.

        Returns:
            The pieces (the last one incomplete), the separator that splits the *original*
            window into the same number of pieces (used to find positions), and whether every
            character is known to be in the agreed character set (see
            :func:`~crossdock.adapters.x12.validator_elements.text_in_charset`).
        """
        t, s = self._t, self._s
        separator = t + s
        pieces = window.split(separator)
        text = window
        n = len(pieces) - 1
        rest = window.encode("ascii").translate(None, self._data_bytes) if window.isascii() else None
        if rest is not None and rest == self._separator_bytes * n:
            regular = checked = True
        else:
            regular = self._layout_is_regular(window, n)
            if rest is not None:
                checked = not rest.translate(None, self._layout_bytes)
            else:
                checked = text_in_charset(window, self._options.charset, t + self._e + self._c + self._r)
        if not regular:
            # line breaks that are not the terminator are layout wherever they are (wrapped
            # lines, blank lines); removing them keeps the piece count, so positions still map
            for ch in _LINE_BREAKS:
                if ch != t:
                    text = text.replace(ch, "")
            pieces = text.split(t)
            separator = t
        # indentation: a tab is in no character set, so a checked window has none
        if (separator + " ") in text or (not checked and (separator + "\t") in text):
            pieces = [p.lstrip(" \t") for p in pieces]
        return pieces, separator, checked

    def _layout_is_regular(self, window: str, n: int) -> bool:
        """Every terminator is followed by the suffix and no other line break occurs, so the
        split on terminator+suffix (``n`` separators found) is exact."""
        t, s = self._t, self._s
        if s and window.count(t) != n:
            return False
        for ch in _LINE_BREAKS:
            if ch != t:
                expected = n * s.count(ch)
                # absent line breaks are the common case: `in` stops at the first one found
                if (window.count(ch) != expected) if expected else (ch in window):
                    return False
        return True

    def _run(self, pieces: list[str], plain: bool = False, checked: bool = False) -> int | None:
        """The hot loop: one pass over complete segments. Returns the index of a segment
        that starts a new interchange (the caller re-splits from there), else ``None``.

        ``plain`` says that no piece holds a component or repetition separator (most windows),
        so the validator need not look for them; ``checked`` that every character is in the
        agreed character set, so it need not test them one segment at a time.

        Inside a set whose validator offers ``feed_texts``, whole runs of segments go to it at
        once (no tree is built unless trees are kept); envelope segments come back here.
        """
        e, c, r = self._e, self._c, self._r
        new = tuple.__new__
        dispatch = self._stop_ids
        control = self._control
        feed, keep, batch = self._feed, self._keep, self._batch
        separators = (e, None, None) if plain else (e, c, r)
        index, end = 0, len(pieces)
        while index < end:
            if batch is not None:
                index = batch(pieces, index, dispatch, separators, keep, checked)
                if index >= end:
                    break
            raw = pieces[index]
            parts = raw.split(e)
            sid = parts[0]
            if feed is None or sid in dispatch:
                if control(sid, parts, raw):
                    return index
                feed, keep, batch = self._feed, self._keep, self._batch
                index += 1
                continue
            index += 1
            if not parts[-1]:
                while not parts[-1]:
                    parts.pop()
            if c in raw or r in raw:
                values = _split_values(parts, c, r)
            else:
                del parts[0]
                values = tuple(parts)
            segment = new(Segment, (sid, values))
            feed(segment)
            if keep is not None:
                keep(segment)
        return None

    def _mark_giants(self, pieces: list[str]) -> None:
        """Replaces every segment longer than ``max_segment_length`` by the giant marker (the
        terminator, which no piece can contain), so the hot loop reports it where it occurs."""
        limit = self._options.max_segment_length
        if max(map(len, pieces), default=0) <= limit:
            return
        for index, piece in enumerate(pieces):
            if len(piece) > limit:
                pieces[index] = self._t

    def _final_segment(self, window: str, piece: str) -> bool:
        """At end of input: the text after the last terminator (``piece`` is it cleaned)."""
        self._pos = len(self._text)
        segment_text = piece.strip()
        if not segment_text:
            return False
        if self._state != _OUTSIDE:
            self._interchange_error(codes.TA1_PREMATURE_END_OF_FILE,
                                    "the last segment has no segment terminator",
                                    severity="warning")
        if self._run([segment_text]) is not None:
            self._pos = len(self._text) - len(window.lstrip())
            self._at_isa = True
            return True
        return False

    def _start_giant(self) -> None:
        """A segment outgrew the buffer: report it and skip to the next terminator."""
        self._report_giant()
        self._skipping = True

    def _report_giant(self) -> None:
        self._interchange_error(
            codes.TA1_INVALID_CONTROL_STRUCTURE,
            f"a segment is longer than {self._options.max_segment_length} characters "
            "(missing segment terminator?); it was skipped")

    def _skip_segment(self) -> bool:
        """Discards text up to and including the next terminator."""
        found = self._text.find(self._t, self._pos)
        if found < 0:
            self._pos = len(self._text)
            return False
        self._pos = found + len(self._t)
        self._skipping = False
        return True

    # --- interchange start -----------------------------------------------------------------
    def _open_interchange(self) -> bool:
        text = self._text
        pos = self._pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        self._pos = pos
        if pos >= len(text):
            return False
        if not text.startswith("ISA", pos):
            if len(text) - pos < 3 and not self._eof:
                return False
            if self._delimiters is None:
                self._no_isa()
            else:
                # "ISA" broken by line breaks after an IEA: junk, skipped with the old delimiters
                self._after_trailer()
                self._at_isa = False
                self._skipping = True
            return True
        need = ISA_MAX_LENIENT_LENGTH + 2
        if len(text) - pos < need and not self._eof:
            return False
        self._release_pending()
        isa = read_isa(text[pos:pos + need], self._options.lenient_isa)
        self._begin(isa, self._byte_offset(pos))
        if isa.delimiters is None:
            self._interchange_error(codes.TA1_INVALID_CONTROL_STRUCTURE,
                                    "the delimiters cannot be read; the rest of the input was "
                                    "not read", severity="warning")
            self._end_interchange(None, premature=False)
            self._stop = True
            return True
        self._use_delimiters(isa, pos + isa.length)
        return True

    def _no_isa(self) -> None:
        self._stop = True
        self.problem = FileProblem(
            "ENVELOPE_INVALID", "NO_ISA",
            "the input does not start with an ISA segment (after an optional byte order mark "
            "and whitespace)")

    def _begin(self, isa: IsaHeader, offset: int) -> None:
        self._seen_content = True
        ic = _OpenInterchange(isa, offset, self._interchange_count)
        self._interchange_count += 1
        self._ic = ic
        self._state = _INTERCHANGE
        self._at_isa = False
        control_number = isa.segment.get(13)
        if control_number in self._isa_numbers:
            self._interchange_error(codes.TA1_DUPLICATE_CONTROL_NUMBER,
                                    "ISA13 repeats an earlier interchange in this file",
                                    segment_id="ISA", value=control_number)
        self._isa_numbers.add(control_number)
        self._note_fallback()

    def _use_delimiters(self, isa: IsaHeader, after: int) -> None:
        """Sets the tokenizer up for the interchange whose ISA ends at ``after``."""
        assert isa.delimiters is not None
        text = self._text
        t = isa.delimiters.segment
        suffix = ""
        if t == "\r" and text.startswith("\n", after):
            suffix = "\n"
        elif t not in _LINE_BREAKS:
            for candidate in ("\r\n", "\n", "\r"):
                if text.startswith(candidate, after):
                    suffix = candidate
                    break
        delimiters = replace(isa.delimiters, suffix=suffix)
        self._ic.isa = replace(isa, delimiters=delimiters)  # type: ignore[union-attr]
        self._delimiters = delimiters
        self._t, self._s, self._e = t, suffix, delimiters.element
        self._c = isa.component or t
        self._r = isa.repetition or t
        self._stop_ids = _DISPATCH_IDS | {t}
        # the window scan (see _split): what a regular window reduces to
        layout = t + "\r\n"
        data = allowed_ascii(self._options.charset) + (delimiters.element + self._c + self._r).encode("ascii", "ignore")
        self._layout_bytes = layout.encode("ascii", "ignore")
        self._data_bytes = bytes(sorted(set(data) - set(self._layout_bytes)))
        # a non-ASCII terminator makes every window holding one non-ASCII: never compared
        self._separator_bytes = (t + suffix).encode("ascii", "ignore")
        self._pos = after + len(suffix)
        self._window = _FIRST_WINDOW

    # --- envelope logic ----------------------------------------------------------------------
    def _control(self, sid: str, parts: list[str], raw: str) -> bool:
        """Envelope segments and anything outside a set. True: re-split from this segment."""
        state = self._state
        # the usual envelope segments first (none of the checks below can apply to them)
        if sid == "SE" and state == _SET:
            self._end_set(_make_segment(parts, raw, self._c, self._r))
            return False
        if sid == "ST" and state == _GROUP:
            self._begin_set(_make_segment(parts, raw, self._c, self._r))
            return False
        if raw == self._t:  # a segment over max_segment_length (see _mark_giants)
            self._report_giant()
            return False
        if sid == "ISA" or (sid not in _ENVELOPE_IDS and _starts_interchange(raw)):
            if self._state != _OUTSIDE:
                self._end_premature()
            return True
        if not raw.strip():
            return False
        if state == _OUTSIDE:
            self._after_trailer()
            return False
        segment = _make_segment(parts, raw, self._c, self._r)
        if state == _SET:
            self._in_set(segment)
        elif state == _GROUP:
            self._in_group(segment)
        elif state == _INTERCHANGE:
            self._in_interchange(segment)
        else:
            self._in_skipped_set(segment)
        return False

    def _in_set(self, segment: Segment) -> None:
        sid = segment.id
        if sid == "SE":
            self._end_set(segment)
        elif sid == "ST":
            self._end_set(None)
            self._begin_set(segment)
        elif sid == "GE":
            self._end_set(None)
            self._end_group(segment)
        elif sid == "GS":
            self._end_set(None)
            self._end_group(None)
            self._interchange_error(codes.TA1_INVALID_CONTENT,
                                    "GS inside a transaction set (SE and GE missing)", "GS")
            self._begin_group(segment)
        elif sid == "IEA":
            self._end_set(None)
            self._end_group(None)
            self._end_interchange(segment)
        else:
            assert self._feed is not None
            self._feed(segment)
            if self._keep is not None:
                self._keep(segment)

    def _in_group(self, segment: Segment) -> None:
        sid = segment.id
        if sid == "ST":
            self._begin_set(segment)
        elif sid == "GE":
            self._end_group(segment)
        elif sid == "GS":
            self._end_group(None)
            self._begin_group(segment)
        elif sid == "IEA":
            self._end_group(None)
            self._end_interchange(segment)
        else:
            self._interchange_error(codes.TA1_INVALID_CONTENT,
                                    "segment outside any transaction set", sid[:3])

    def _in_interchange(self, segment: Segment) -> None:
        sid = segment.id
        if sid == "GS":
            self._begin_group(segment)
        elif sid == "IEA":
            self._end_interchange(segment)
        elif sid == "ST":
            self._interchange_error(codes.TA1_INVALID_CONTENT,
                                    "ST outside a functional group; the set was skipped", "ST",
                                    value=segment.get(2)[:9])
            self._state = _SKIP_SET
        elif sid in _INTERCHANGE_CONTROL_IDS:
            assert self._ic is not None
            self._ic.controls.append(segment)
        else:
            self._interchange_error(codes.TA1_INVALID_CONTENT,
                                    "segment outside any functional group", sid[:3])

    def _in_skipped_set(self, segment: Segment) -> None:
        sid = segment.id
        if sid == "SE":
            self._state = _INTERCHANGE
        elif sid in ("GS", "IEA", "ST", "GE"):
            self._state = _INTERCHANGE
            self._in_interchange(segment)

    def _after_trailer(self) -> None:
        """Non-blank text after an IEA that is not an ISA: once per run, on that interchange."""
        target = self._pending
        if target is not None and not target.junk_reported:
            target.junk_reported = True
            self._add_error(target, X12Error(level="interchange", code=codes.TA1_INVALID_CONTENT,
                                             message="data after IEA that is not an ISA"))

    def _begin_group(self, gs: Segment) -> None:
        ic = self._ic
        assert ic is not None
        errors: list[X12Error] = []

        def problem(code: str, message: str, position: int, value: str) -> None:
            errors.append(X12Error(level="group", code=code, message=message, segment_id="GS",
                                   element_position=position, bad_value=value[:99]))

        functional_id = gs.get(1)
        allowed = self._options.functional_ids
        if not functional_id or (allowed is not None and functional_id not in allowed):
            problem(codes.AK9_GROUP_NOT_SUPPORTED, "GS01 functional id is not supported", 1,
                    functional_id)
        number = gs.get(6)
        if not (1 <= len(number) <= 9 and _digits(number)):
            problem(codes.AK9_CONTROL_NUMBER_SYNTAX, "GS06 is not a 1-9 digit control number", 6,
                    number)
        elif number in ic.group_numbers:
            problem(codes.AK9_DUPLICATE_CONTROL_NUMBER,
                    "GS06 repeats an earlier group in this interchange", 6, number)
        ic.group_numbers.add(number)
        version = gs.get(8)
        if len(version) < 6 or not _digits(version[:6]):
            problem(codes.AK9_VERSION_NOT_SUPPORTED,
                    "GS08 is not a version/release code (6 digits first)", 8, version)
        self._group = _OpenGroup(gs, len(ic.groups), errors)
        self._state = _GROUP

    def _end_group(self, ge: Segment | None) -> None:
        group, ic = self._group, self._ic
        assert group is not None and ic is not None
        errors = group.errors
        declared: int | None = None
        if ge is None:
            errors.append(X12Error(level="group", code=codes.AK9_TRAILER_MISSING,
                                   message="GE missing", segment_id="GE"))
        else:
            count = ge.get(1)
            declared = int(count) if _digits(count) else None
            if declared != len(group.sets):
                errors.append(X12Error(
                    level="group", code=codes.AK9_SET_COUNT_MISMATCH,
                    message=f"GE01 says {count[:9] or 'nothing'}, the group has "
                            f"{len(group.sets)} sets",
                    segment_id="GE", element_position=1, bad_value=count[:99]))
            if not _same_number(ge.get(2), group.header.get(6)):
                errors.append(X12Error(level="group", code=codes.AK9_CONTROL_NUMBER_MISMATCH,
                                       message="GE02 does not match GS06", segment_id="GE",
                                       element_position=2, bad_value=ge.get(2)[:99]))
        header = group.header
        failed = tuple(dict.fromkeys(e.code for e in errors if e.severity == "error"))
        ic.groups.append(GroupReport(
            functional_id=header.get(1), control_number=header.get(6), version=header.get(8),
            status=_group_status(errors, group.sets),  # type: ignore[arg-type]
            ak9_codes=failed, transactions=tuple(group.sets), header=header,
            declared_count=declared, errors=tuple(errors), trailer=ge,
        ))
        self._group = None
        self._state = _INTERCHANGE

    def _begin_set(self, st: Segment) -> None:
        group = self._group
        assert group is not None and self._delimiters is not None
        errors: list[X12Error] = []
        _, number, convention = first_three(st)  # ST02, ST03
        if number in group.set_numbers:
            errors.append(X12Error(level="set", code=codes.AK5_DUPLICATE_CONTROL_NUMBER,
                                   message="ST02 repeats an earlier set in this group",
                                   segment_id="ST", segment_position=1, element_position=2,
                                   bad_value=number[:99]))
        group.set_numbers.add(number)
        if convention and not _same_release(convention, group.version):
            errors.append(X12Error(level="set",
                                   code=codes.AK5_IMPLEMENTATION_CONVENTION_NOT_SUPPORTED,
                                   message="ST03 names another version/release than GS08",
                                   segment_id="ST", segment_position=1, element_position=3,
                                   bad_value=convention[:99]))
        validator = self._validator = self._factory(st, group.functional_id, group.version, self._delimiters)
        self._st_errors = errors
        self._feed = validator.feed
        self._batch = getattr(validator, "feed_texts", None)
        if self._keep_trees:
            segments = self._set_segments = [st]
            self._keep = segments.append
        self._state = _SET

    def _end_set(self, se: Segment | None) -> None:
        validator, group, ic = self._validator, self._group, self._ic
        assert validator is not None and group is not None and ic is not None
        report = validator.finish(se)
        if self._st_errors:
            report = replace(report, errors=report.errors + tuple(self._st_errors), status="R")
        group.sets.append(report)
        segments = self._set_segments
        if segments is not None:
            if se is not None:
                segments.append(se)
            assert ic.isa.delimiters is not None
            self._out.append(SetUnit(
                interchange_header=ic.isa.segment, delimiters=ic.isa.delimiters,
                group_header=group.header, transaction=Transaction(tuple(segments)),
                report=report, interchange_index=ic.index, group_index=group.index,
            ))
            self._set_segments = None
        self._validator = None
        self._feed = self._keep = self._batch = None
        self._state = _GROUP

    def _end_interchange(self, iea: Segment | None, premature: bool = True) -> None:
        ic = self._ic
        assert ic is not None
        if iea is not None:
            count = iea.get(1)
            if not (_digits(count) and int(count) == len(ic.groups)):
                self._interchange_error(codes.TA1_INVALID_GROUP_COUNT,
                                        f"IEA01 says {count[:9] or 'nothing'}, the interchange "
                                        f"has {len(ic.groups)} groups", "IEA", 1, count)
            if not _same_number(iea.get(2), ic.isa.segment.get(13)):
                self._interchange_error(codes.TA1_CONTROL_NUMBER_MISMATCH,
                                        "IEA02 does not match ISA13", "IEA", 2, iea.get(2))
            ic.trailer = iea
        elif premature:
            self._interchange_error(codes.TA1_PREMATURE_END_OF_FILE,
                                    "IEA missing: the input ended, or a new ISA began, inside "
                                    "the interchange", "IEA")
        self._pending = ic
        self._ic = None
        self._state = _OUTSIDE

    def _end_premature(self) -> None:
        """Closes whatever is open when the input ends or a new ISA begins."""
        if self._state == _SET:
            self._end_set(None)
        if self._state == _GROUP:
            self._end_group(None)
        if self._state in (_INTERCHANGE, _SKIP_SET):
            self._end_interchange(None)

    def _release_pending(self) -> None:
        if self._pending is not None:
            self._out.append(self._pending.report())
            self._pending = None

    def _end_of_input(self) -> None:
        if self._state != _OUTSIDE:
            self._end_premature()
        self._release_pending()
        if self.problem is None and not self._seen_content:
            self.problem = FileProblem("ENVELOPE_INVALID", "EMPTY",
                                       "the input is empty or holds only whitespace")

    # --- error bookkeeping -------------------------------------------------------------------
    def _add_error(self, ic: _OpenInterchange, error: X12Error) -> None:
        if len(ic.errors) < self._options.max_errors:
            ic.errors.append(error)
        else:
            ic.suppressed += 1

    def _interchange_error(self, code: str, message: str, segment_id: str | None = None,
                           position: int | None = None, value: str | None = None,
                           severity: str = "error") -> None:
        target = self._ic or self._pending
        if target is None:
            return
        self._add_error(target, X12Error(
            level="interchange", code=code, message=message, segment_id=segment_id,
            element_position=position, bad_value=None if value is None else value[:99],
            severity=severity,  # type: ignore[arg-type]
        ))

    def _note_fallback(self) -> None:
        """Records the latin-1 switch on the interchange being read when it was decoded."""
        offset = self._chunks.fallback_offset
        if offset is None or self._fallback_noted or (self._ic or self._pending) is None:
            return
        self._fallback_noted = True
        self._interchange_error(LATIN1_FALLBACK,
                                f"bytes from offset {offset} are not valid UTF-8; read as latin-1",
                                severity="warning")


def _default_validator_factory(charset: Charset) -> ValidatorFactory:
    """The definitions-based set validator for ``charset``, imported when first needed."""
    from crossdock.adapters.x12.validator import set_validator_factory

    return set_validator_factory(charset)


@contextmanager
def _open(source: Source) -> Iterator[BinaryIO]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            yield handle
    else:
        yield source


def _events(source: Source, options: ReadOptions | None, keep_trees: bool,
            ) -> Iterator[SetUnit | InterchangeReport | FileProblem]:
    """Reader events, then the file problem (if any) as the last item."""
    with _open(source) as stream:
        reader = _Reader(stream, options or ReadOptions(), keep_trees)
        yield from reader.events()
        if reader.problem is not None:
            yield reader.problem


def _raise(problem: FileProblem) -> None:
    error_type = EncodingUnsupported if problem.code == "ENCODING_UNSUPPORTED" else EnvelopeInvalid
    raise error_type(f"{problem.reason}: {problem.message}")


def read(source: Source, options: ReadOptions | None = None,
         ) -> Iterator[SetUnit | InterchangeReport]:
    """Streams a file in one pass: each interchange's sets, then the interchange's report.

    Args:
        source: bytes, a binary stream, or a file path (``str`` is a path, never content).
        options: reading options; defaults to :class:`ReadOptions()`.

    Yields:
        :class:`SetUnit` for every transaction set in a group, as it completes, then the
        :class:`InterchangeReport` of its interchange (after the IEA and whatever follows it
        up to the next ISA or the end of input).

    Raises:
        EncodingUnsupported: UTF-16/32, EBCDIC, or invalid UTF-8 with the fallback off.
        EnvelopeInvalid: the input is empty or does not start with an ISA.
        OSError: the path cannot be opened.
    """
    for event in _events(source, options, keep_trees=True):
        if isinstance(event, FileProblem):
            _raise(event)
        yield event  # type: ignore[misc]


def iter_sets(source: Source, options: ReadOptions | None = None) -> Iterator[SetUnit]:
    """Streams every transaction set with its tree and verdict (see :func:`read`)."""
    for event in read(source, options):
        if isinstance(event, SetUnit):
            yield event


def iter_interchanges(source: Source, options: ReadOptions | None = None,
                      ) -> Iterator[InterchangeReport]:
    """Streams one verdict per interchange; no tree is kept (see :func:`read` for errors)."""
    for event in _events(source, options, keep_trees=False):
        if isinstance(event, FileProblem):
            _raise(event)
        elif isinstance(event, InterchangeReport):
            yield event


def validate(source: Source, options: ReadOptions | None = None, *, path: str = "",
             ) -> FileReport:
    """Validates a whole file, streaming, and returns its verdict.

    Args:
        source: bytes, a binary stream, or a file path.
        options: reading options.
        path: the name to report; defaults to ``source`` when it is a path.

    Returns:
        The interchanges' reports; ``error`` is set (``code``, ``reason``, ``message``) when
        the file as a whole is rejected (no ISA, unsupported encoding).
    """
    if not path and isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)  # type: ignore[assignment]
    interchanges: list[InterchangeReport] = []
    problem: FileProblem | None = None
    for event in _events(source, options, keep_trees=False):
        if isinstance(event, FileProblem):
            problem = event
        elif isinstance(event, InterchangeReport):
            interchanges.append(event)
    return FileReport(path=str(path), interchanges=tuple(interchanges),
                      error=problem.as_dict() if problem else None)


def _tree(report: InterchangeReport, units: list[SetUnit]) -> Interchange:
    by_group: dict[int, list[Transaction]] = {}
    for unit in units:
        by_group.setdefault(unit.group_index, []).append(unit.transaction)
    groups = tuple(
        Group(header=g.header or Segment("GS"), transactions=tuple(by_group.get(i, ())),
              trailer=g.trailer)
        for i, g in enumerate(report.groups)
    )
    return Interchange(header=report.header or Segment("ISA"), groups=groups,
                       trailer=report.trailer,
                       delimiters=report.delimiters or Delimiters(),
                       control_segments=report.control_segments)


def parse(data: bytes, options: ReadOptions | None = None,
          ) -> tuple[tuple[Interchange, ...], FileReport]:
    """Reads a whole (small) file into trees, plus its verdict.

    Args:
        data: the file's bytes.
        options: reading options.

    Returns:
        One :class:`Interchange` per interchange read (sets outside a group are not in the
        tree) and the :class:`FileReport` :func:`validate` would give.
    """
    trees: list[Interchange] = []
    reports: list[InterchangeReport] = []
    units: list[SetUnit] = []
    problem: FileProblem | None = None
    for event in _events(data, options, keep_trees=True):
        if isinstance(event, SetUnit):
            units.append(event)
        elif isinstance(event, InterchangeReport):
            reports.append(event)
            trees.append(_tree(event, units))
            units = []
        else:
            problem = event
    report = FileReport(path="", interchanges=tuple(reports),
                        error=problem.as_dict() if problem else None)
    return tuple(trees), report
