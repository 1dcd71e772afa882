"""``crossdock translate PATH --to FORMAT``: any supported input to any supported output.

The input format is detected from content (:mod:`crossdock.adapters.sniff`). Inputs: X12,
cXML, UBL 2.x, canonical JSON (Lines), our X12-as-JSON, Stedi's raw ``{"data": "ISA…"}`` and
Guide JSON. Outputs:

=============  ==============================================================================
``canonical``  JSON Lines, one canonical document per line
``x12``        one interchange per document (ISA/GS from ``--sender``/``--receiver``, control
               numbers from 1, clock = now); ``--version`` picks 004010 or 005010
``x12-json``   our lossless X12-as-JSON (X12 input: the interchanges as read; other input: the
               X12 that ``--to x12`` would write); X12-as-JSON ``--to x12`` gives the X12 back
               byte for byte (no canonical detour)
``cxml``       one cXML document per canonical document
``ubl``        one UBL 2.1 document per canonical document
=============  ==============================================================================

XML outputs hold one document per file: with ``-o out.xml``, the first document goes to
``out.xml`` and the n-th to ``out.n.xml``; on stdout they follow one another.

Streaming: X12 input is read one transaction set at a time (``adapters.x12.read``), so a 100 MB
file never sits in memory whole, except for ``--to x12-json``, which needs whole interchanges
and reads files up to :data:`WHOLE_FILE_CAP`. XML and JSON inputs are parsed in memory and
bounded by their codecs' size caps (64 MB).

``--to canonical`` from X12 writes each line straight from the mapped data (generated mapper,
``mappings.x12.jsonout``) when that data is exactly typed and valid, which is the common case; any
set it cannot vouch for goes through the pydantic model, which also reports ``MODEL_INVALID``.
Both give the same bytes (tests compare them); ``--strict`` always takes the pydantic path.

Exit codes: 0 everything translated; 1 some document was rejected or had error issues (what did
translate is still written; issues go to stderr as ``code loc message``, never payload); 2 usage
(bad arguments, unreadable input or partner spec).
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["register", "TARGETS", "WHOLE_FILE_CAP"]

TARGETS = ("canonical", "x12", "cxml", "ubl", "x12-json")
WHOLE_FILE_CAP = 64 * 1024 * 1024
PROGRESS_THRESHOLD = 4 * 1024 * 1024
_FUNCTIONAL_IDS = {
    "850": "PO", "855": "PR", "856": "SH", "810": "IN", "846": "IB", "852": "PD", "830": "PS",
    "860": "PC", "997": "FA", "999": "FA",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``translate`` to the CLI."""
    parser = subparsers.add_parser("translate", help="translate a document between formats (format detected from content)")
    parser.add_argument("path", metavar="PATH", help="input file")
    parser.add_argument("--to", required=True, choices=TARGETS, dest="target", help="output format")
    parser.add_argument("--version", choices=("004010", "005010"), default="004010", help="X12 version to write")
    parser.add_argument("--partner-spec", metavar="FILE", help="partner override spec (YAML or JSON) for X12 mappings")
    parser.add_argument("--sender", default="ZZ:CROSSDOCK", help="X12 sender QUALIFIER:ID for --to x12")
    parser.add_argument("--receiver", default="ZZ:PARTNER", help="X12 receiver QUALIFIER:ID for --to x12")
    parser.add_argument("-o", "--out", metavar="OUT", help="output file (default: stdout)")
    parser.add_argument("--strict", action="store_true",
                        help="--to canonical: validate every document through its pydantic model (same bytes, slower)")
    parser.set_defaults(handler=_handle)


@dataclass
class _Run:
    """Counters and the issue sink for one translation."""

    documents: int = 0
    failed: int = 0
    issues: list[tuple[str, Any]] = field(default_factory=list)

    def report(self, where: str, issues: list[Any]) -> None:
        for issue in issues:
            self.issues.append((where, issue))
            loc = "/".join(str(part) for part in issue.loc)
            print(f"{issue.severity}: {where} {issue.code} {loc} {issue.msg}", file=sys.stderr)

    @property
    def has_errors(self) -> bool:
        return self.failed > 0 or any(issue.severity == "error" for _, issue in self.issues)


def _handle(args: argparse.Namespace) -> int:
    from crossdock.adapters.sniff import SNIFF_BYTES, sniff
    from crossdock.schemas.errors import CrossdockError

    path = Path(args.path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        overrides = _load_overrides(args.partner_spec)
    except (OSError, CrossdockError) as exc:
        print(f"error: {getattr(exc, 'code', 'INPUT_UNREADABLE')} {exc}", file=sys.stderr)
        return 2
    run = _Run()
    try:
        sniffed = sniff(head)
    except CrossdockError as exc:
        run.failed += 1
        print(f"error: {path.name} {exc.code} {exc.message}", file=sys.stderr)
        return 1
    with _Output(args.out, args.target) as output:
        try:
            _translate(path, size, sniffed.format, args, overrides, run, output)
        except CrossdockError as exc:
            run.failed += 1
            print(f"error: {path.name} {exc.code} {exc.message}", file=sys.stderr)
    print(f"translated {run.documents} document(s), {run.failed} rejected, {len(run.issues)} issue(s)", file=sys.stderr)
    return 1 if run.has_errors else 0


def _load_overrides(spec_path: str | None) -> Any:
    if not spec_path:
        return None
    from crossdock.mappings.overrides import load_override

    return load_override(spec_path)


def _translate(path: Path, size: int, fmt: str, args, overrides, run: _Run, output: _Output) -> None:
    if fmt == "x12" and args.target == "x12-json":
        _x12_to_x12_json(path, size, run, output)
        return
    if fmt == "x12-json" and args.target == "x12":
        _x12_json_to_x12(path, run, output)
        return
    for where, document, issues in _documents(path, size, fmt, args, overrides):
        run.report(where, issues)
        if document is None:
            run.failed += 1
            continue
        run.documents += 1
        _emit(document, where, args, overrides, run, output)
        if run.documents == 1 and size >= PROGRESS_THRESHOLD:
            # specs, generated mappers and model plans now exist and live as long as the run:
            # keep the collector from re-scanning them on every full collection of a big input
            gc.freeze()


# --- inputs -------------------------------------------------------------------------------------


def _documents(path: Path, size: int, fmt: str, args, overrides) -> Iterator[tuple[str, Any, list[Any]]]:
    """``(where, canonical document or None, issues)`` for every document in the input."""
    if fmt == "x12":
        with path.open("rb") as handle:
            lines = args.target == "canonical"
            yield from _x12_documents(_progress(handle, size), overrides, lines=lines, strict=args.strict)
        return
    data = path.read_bytes()
    if fmt in ("cxml", "ubl", "oagis", "gs1", "xml"):
        yield _xml_document(data, fmt, path.name)
    elif fmt == "canonical-json":
        from crossdock.adapters.json import read_canonical

        for index, (document, issues) in enumerate(read_canonical(data), start=1):
            yield f"document {index}", document, issues
    else:
        yield from _json_documents(data, fmt, overrides)


@dataclass(frozen=True, slots=True)
class _Line:
    """A document already written as its canonical JSON line (``--to canonical`` from X12)."""

    data: bytes


def _x12_documents(stream: BinaryIO | bytes, overrides, *, lines: bool = False,
                   strict: bool = False) -> Iterator[tuple[str, Any, list[Any]]]:
    """Documents of an X12 stream; with ``lines``, as :class:`_Line` (no pydantic document unless
    ``strict`` or the fast JSON path cannot vouch for the mapped data)."""
    from crossdock.adapters.x12 import SetUnit, read
    from crossdock.mappings.api import to_canonical, to_canonical_json
    from crossdock.schemas.errors import Issue

    for event in read(stream):
        if not isinstance(event, SetUnit):
            if event.status == "rejected":
                code = event.ta1_code or "rejected"
                yield f"ISA13 {event.control_number}", None, [Issue("INTERCHANGE_REJECTED", f"TA1 note {code}")]
            continue
        where = f"ST {event.transaction.set_id} {event.transaction.control_number}"
        if event.report.status == "R":
            codes = ",".join(error.code for error in event.report.errors if error.severity == "error")
            yield where, None, [Issue("SET_REJECTED", f"set rejected by validation ({codes})")]
            continue
        if lines:
            line, issues = to_canonical_json(event, overrides=overrides, strict=strict)
            yield where, None if line is None else _Line(line), issues
        else:
            document, issues = to_canonical(event, overrides=overrides)
            yield where, document, issues


def _xml_document(data: bytes, fmt: str, name: str) -> tuple[str, Any, list[Any]]:
    from crossdock.adapters.xml import parse_xml
    from crossdock.schemas.errors import Issue

    document = parse_xml(data)
    if fmt == "cxml":
        from crossdock.mappings.cxml import read_cxml

        result = read_cxml(document)
        return f"cXML {result.message}", result.document, result.issues
    if fmt == "ubl":
        from crossdock.mappings.ubl import read_ubl

        result = read_ubl(document)
        return f"UBL {result.root}", result.document, result.issues
    if fmt == "oagis":
        from crossdock.mappings.oagis import read_oagis

        result = read_oagis(document)
        return f"OAGIS {result.root}", result.document, result.issues
    return name, None, [Issue("DOCUMENT_UNSUPPORTED", f"{fmt} document {document.root.name} is not mapped")]


def _json_documents(data: bytes, fmt: str, overrides) -> Iterator[tuple[str, Any, list[Any]]]:
    from crossdock.adapters.json import load_json
    from crossdock.mappings.api import to_canonical
    from crossdock.mappings.x12json import guide_json_to_transaction, json_to_tree
    from crossdock.schemas.errors import Issue

    value = load_json(data)
    if fmt == "stedi-x12-json":
        yield from _x12_documents(str(value["data"]).encode("utf-8"), overrides)
    elif fmt == "x12-json":
        trees, issues = json_to_tree(value)
        if issues:
            yield "x12-json", None, issues
        for interchange in trees:
            for group in interchange.groups:
                for transaction in group.transactions:
                    document, found = to_canonical(transaction, version=group.version, overrides=overrides)
                    yield f"ST {transaction.set_id} {transaction.control_number}", document, found
    elif fmt == "stedi-guide-json":
        transaction, issues = guide_json_to_transaction(value)
        if transaction is None:
            yield "guide-json", None, issues
            return
        # Stedi Guide JSON carries no GS08; the guides in the wild are 005010
        document, found = to_canonical(transaction, version="005010", overrides=overrides)
        yield f"ST {transaction.set_id}", document, issues + found
    else:
        yield "json", None, [Issue("JSON_SHAPE_UNKNOWN", "JSON is neither canonical, X12-as-JSON nor a known X12 JSON shape")]


# --- outputs ------------------------------------------------------------------------------------


def _emit(document: Any, where: str, args, overrides, run: _Run, output: _Output) -> None:
    target = args.target
    if target == "canonical":
        from crossdock.adapters.json import canonical_line

        output.line(document.data if isinstance(document, _Line) else canonical_line(document))
    elif target == "cxml":
        from crossdock.adapters.xml import render_xml
        from crossdock.mappings.cxml import write_cxml

        rendered, issues = write_cxml(document, _cxml_envelope(document, output.count))
        run.report(where, issues)
        output.document(render_xml(rendered))
    elif target == "ubl":
        from crossdock.adapters.xml import render_xml
        from crossdock.mappings.ubl import write_ubl

        rendered, issues = write_ubl(document)
        run.report(where, issues)
        if rendered is not None:
            output.document(render_xml(rendered))
    else:
        interchange, issues = _to_interchange(document, args, overrides, output)
        run.report(where, issues)
        if interchange is None:
            return
        if target == "x12":
            from crossdock.adapters.x12 import serialize

            output.document(serialize(interchange))
        else:
            from crossdock.adapters.json import dump_json
            from crossdock.mappings.x12json import tree_to_json

            output.line(dump_json(tree_to_json([interchange])))


def _to_interchange(document: Any, args, overrides, output: _Output) -> tuple[Any, list[Any]]:
    from datetime import datetime

    from crossdock.adapters.x12 import build_group, build_interchange, build_transaction
    from crossdock.mappings.api import from_canonical
    from crossdock.schemas.errors import CrossdockError, Issue

    try:
        transaction, issues = from_canonical(document, version=args.version, overrides=overrides)
    except CrossdockError as exc:
        return None, [Issue(exc.code, exc.message)]
    except Exception as exc:  # noqa: BLE001 - the CLI edge: one bad document must not stop the rest
        return None, [Issue("MAPPING_RULE_FAILED", f"X12 rendering failed ({type(exc).__name__})")]
    sender, receiver = _party_arg(args.sender), _party_arg(args.receiver)
    allocator, clock = output.allocator, datetime.now
    body = transaction.body
    transaction = build_transaction(transaction.set_id, body, allocator=allocator)
    group = build_group(
        _FUNCTIONAL_IDS.get(transaction.set_id, "ZZ"),
        [transaction],
        application_sender=sender[1],
        application_receiver=receiver[1],
        version=args.version,
        allocator=allocator,
        clock=clock,
    )
    isa_version = "00401" if args.version == "004010" else "00501"
    return build_interchange([group], sender=sender, receiver=receiver, version=isa_version, allocator=allocator, clock=clock), issues


def _party_arg(value: str) -> tuple[str, str]:
    qualifier, _, identity = value.partition(":")
    return (qualifier, identity) if identity else ("ZZ", qualifier)


def _cxml_envelope(document: Any, count: int) -> Any:
    from datetime import datetime, timezone

    from crossdock.mappings.cxml import CxmlCredential, CxmlEnvelope

    keys = "-".join(str(value) for value in document.business_keys.values() if isinstance(value, str))
    return CxmlEnvelope(
        payload_id=f"{keys or document.document_type}.{count + 1}@crossdock",
        timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        from_=(CxmlCredential(domain="NetworkId", identity="CROSSDOCK"),),
        to=(CxmlCredential(domain="NetworkId", identity="PARTNER"),),
        sender=(CxmlCredential(domain="NetworkId", identity="CROSSDOCK"),),
        user_agent="crossdock",
    )


def _x12_to_x12_json(path: Path, size: int, run: _Run, output: _Output) -> None:
    from crossdock.adapters.json import dump_json
    from crossdock.adapters.x12 import parse
    from crossdock.mappings.x12json import tree_to_json
    from crossdock.schemas.errors import Issue

    if size > WHOLE_FILE_CAP:
        run.failed += 1
        run.report(path.name, [Issue("INPUT_TOO_LARGE", f"--to x12-json reads whole files up to {WHOLE_FILE_CAP} bytes")])
        return
    trees, report = parse(path.read_bytes())
    run.documents += sum(len(g.transactions) for i in trees for g in i.groups)
    if not report.accepted:
        run.report(path.name, [Issue("X12_NOT_ACCEPTED", "the input has validation errors (see crossdock validate)", severity="warning")])
    output.line(dump_json(tree_to_json(trees), indent=1))


def _x12_json_to_x12(path: Path, run: _Run, output: _Output) -> None:
    """Our X12-as-JSON back to X12 as it was (trees serialized as they are, no canonical detour)."""
    from crossdock.adapters.json import load_json
    from crossdock.adapters.x12 import serialize
    from crossdock.mappings.x12json import json_to_tree

    trees, issues = json_to_tree(load_json(path.read_bytes()))
    run.report(path.name, issues)
    run.documents += sum(len(g.transactions) for i in trees for g in i.groups)
    if trees:
        output.raw(serialize(trees))


class _Output:
    """Where translated bytes go: stdout, one file, or numbered files for XML documents."""

    def __init__(self, out: str | None, target: str) -> None:
        from crossdock.adapters.x12 import CountingAllocator

        self._path = Path(out) if out else None
        self._target = target
        self._stream: BinaryIO | None = None
        self.count = 0
        self.allocator = CountingAllocator()

    def __enter__(self) -> _Output:
        self._stream = self._path.open("wb") if self._path else sys.stdout.buffer
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._path and self._stream:
            self._stream.close()
        else:
            sys.stdout.flush()

    def line(self, data: bytes) -> None:
        assert self._stream is not None
        self._stream.write(data + b"\n")
        self.count += 1

    def raw(self, data: bytes) -> None:
        assert self._stream is not None
        self._stream.write(data)

    def document(self, data: bytes) -> None:
        self.count += 1
        if self._target in ("cxml", "ubl") and self._path and self.count > 1:
            numbered = self._path.with_name(f"{self._path.stem}.{self.count}{self._path.suffix}")
            numbered.write_bytes(data)
            return
        assert self._stream is not None
        self._stream.write(data if data.endswith(b"\n") else data + b"\n")


def _progress(handle: BinaryIO, size: int) -> BinaryIO:
    """Wrap ``handle`` so reading it advances a rich progress bar on stderr (big inputs only)."""
    if size < PROGRESS_THRESHOLD:
        return handle
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    progress = Progress(BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=Console(stderr=True), transient=True)
    task = progress.add_task("translate", total=size)
    return _ProgressReader(handle, progress, task)  # type: ignore[return-value]


class _ProgressReader:
    """A read-only binary stream that reports bytes read to a rich Progress."""

    def __init__(self, handle: BinaryIO, progress: Any, task: Any) -> None:
        self._handle, self._progress, self._task = handle, progress, task
        progress.start()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._progress.advance(self._task, len(data))
        if not data:
            self._progress.stop()
        return data

    def readinto(self, buffer: Any) -> int:
        count = self._handle.readinto(buffer)
        self._progress.advance(self._task, count or 0)
        return count

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)
