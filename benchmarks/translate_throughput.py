"""X12 → canonical JSON throughput: ``crossdock translate``'s pipeline against pyx12's bare tokenizer.

Uses the same generated 850/856 files as the codec benchmark (``x12_throughput.generate``,
seeded, ~1 MB and ~35 MB by default), then times, each in its own subprocess so peak RSS
(``ru_maxrss``) is not polluted by the others:

* ``translate``          the pipeline behind ``crossdock translate --to canonical``: streaming
                         ``adapters.x12.read`` (tokenizer, envelope and set validation), then
                         ``mappings.api.to_canonical_json`` per set (generated mapper, JSON
                         written straight from the mapped data, pydantic only for data the fast
                         path cannot vouch for), one line per document (written to ``/dev/null``);
* ``translate-strict``   the same through the pydantic model for every set (``--strict``: build
                         the document with ``to_canonical``, then ``model_dump_json``);
* ``translate-noval``    the same with a set validator that checks nothing (envelopes are still
                         checked), to show the pipeline without the set validator's cost;
* ``stages``             ``translate-noval`` again, with CPU time accounted per stage: read
                         (tokenizer + envelopes), map (routing + generated mapper to plain data),
                         json (the fast JSON path), model (the pydantic fallback: validation and
                         ``model_dump_json`` of the sets the fast path did not vouch for);
* ``x12-read``           the first stage alone (``adapters.x12.read``, set validator on);
* ``x12-read-noval``     the first stage alone, set validator off;
* ``render``             the way back on the same documents: ``mappings.from_canonical`` per
                         document (the inbound translation is done but not timed);
* ``pyx12-tokenizer``    pyx12's ``X12Reader`` iterating segments (no validation, no mapping).

The generated UPCs carry valid check digits, as real partner data does. ``--bad-gtins KIND ...``
also measures those kinds on the same files with the generator's raw random digits (about nine
check digits in ten wrong, so the mapper warns on most PO1/LIN segments): the cost of the warnings.

Target: ``translate`` ≥ 2.5× ``pyx12-tokenizer`` on the same file, with bounded peak RSS (it
must not grow with the file). Throughput is per CPU second (the machine is shared; wall time
is shown too). One-time costs (imports, compiling specs and definitions) are paid in an untimed
warm-up, as a long-running worker pays them once; then ``gc.freeze()``, as the translate command
does, so full collections do not re-scan what the warm-up built. Prints figures; asserts nothing.

Usage::

    python benchmarks/translate_throughput.py [--sizes 1 35] [--kinds translate stages ...] [--keep DIR]
                                              [--bad-gtins translate pyx12-tokenizer]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12_throughput import generate  # noqa: E402 - the shared generator lives beside us

KINDS = ("translate", "translate-noval", "translate-strict", "stages", "x12-read", "x12-read-noval", "render",
         "pyx12-tokenizer")
STAGES = ("read", "map", "json", "model")
MB = 1_000_000
SEED = 850856


class _NoSetValidation:
    """A set validator that accepts everything (the ``*-noval`` kinds)."""

    def __init__(self, st: object, functional_id: str, version: str, delimiters: object) -> None:
        self.st, self.count = st, 1

    def feed(self, segment: object) -> None:
        self.count += 1

    def finish(self, se: object) -> object:
        from crossdock.schemas.x12.report import SetReport

        return SetReport(self.st.get(1), self.st.get(2), "A", segment_count=self.count + 1)  # type: ignore[attr-defined]


def _options(validate: bool) -> object:
    from crossdock.adapters.x12 import ReadOptions

    return ReadOptions() if validate else ReadOptions(validator=_NoSetValidation)


def _first_interchange(path: Path) -> bytes:
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    return head[: head.index(b"~", head.index(b"IEA*")) + 1]


def _warm_up(path: Path, options: object) -> None:
    """Imports, spec compilation and definition loading, outside the timing; then ``gc.freeze()``."""
    from crossdock.adapters.json import canonical_line
    from crossdock.adapters.x12 import SetUnit, read
    from crossdock.mappings.api import from_canonical, to_canonical, to_canonical_json

    for event in read(_first_interchange(path), options):
        if isinstance(event, SetUnit):
            to_canonical_json(event)
            document, _ = to_canonical(event)
            if document is not None:
                canonical_line(document)
                from_canonical(document)
    gc.freeze()


def _translate(path: Path, validate: bool, strict: bool = False) -> Callable[[], dict[str, object]]:
    from crossdock.adapters.x12 import SetUnit, read
    from crossdock.mappings.api import to_canonical_json

    options = _options(validate)
    _warm_up(path, options)

    def run() -> dict[str, object]:
        documents = issues = 0
        with path.open("rb") as source, open(os.devnull, "wb") as sink:
            for event in read(source, options):
                if not isinstance(event, SetUnit):
                    continue
                line, found = to_canonical_json(event, strict=strict)
                issues += len(found)
                if line is not None:
                    sink.write(line + b"\n")
                    documents += 1
        return {"documents": documents, "issues": issues}

    return run


def _stages(path: Path) -> Callable[[], dict[str, object]]:
    """``translate-noval`` with CPU seconds accounted per stage (the clock reads cost ~1%)."""
    from crossdock.adapters.json import canonical_line
    from crossdock.adapters.x12 import SetUnit, read
    from crossdock.mappings import default_registry
    from crossdock.mappings.engine import build_model
    from crossdock.mappings.x12.codegen import generate_inbound
    from crossdock.mappings.x12.jsonout import canonical_json

    options = _options(False)
    _warm_up(path, options)
    registry = default_registry()

    def run() -> dict[str, object]:
        spent = dict.fromkeys(STAGES, 0.0)
        segments = fallbacks = 0
        clock = time.process_time
        with path.open("rb") as source:
            events = read(source, options)
            while True:
                start = clock()
                event = next(events, None)
                after_read = clock()
                spent["read"] += after_read - start
                if event is None:
                    break
                if not isinstance(event, SetUnit):
                    continue
                body = event.transaction.body
                segments += len(body) + 2
                spec = registry.select_spec("*", "*", event.transaction.set_id, event.group_header.get(8))
                data, issues = generate_inbound(spec, event.group_header.get(8)).read(body)
                after_map = clock()
                line = canonical_json(spec.model, data)
                after_json = clock()
                if line is None:
                    fallbacks += 1
                    document = build_model(spec.model, data, issues)
                    if document is not None:
                        canonical_line(document)
                spent["model"] += clock() - after_json
                spent["json"] += after_json - after_map
                spent["map"] += after_map - after_read
        return {"segments": segments, "fallbacks": fallbacks, **{f"{k}_seconds": round(v, 3) for k, v in spent.items()}}

    return run


def _x12_read(path: Path, validate: bool) -> Callable[[], dict[str, object]]:
    from crossdock.adapters.x12 import SetUnit, read

    options = _options(validate)
    _warm_up(path, options)

    def run() -> dict[str, object]:
        with path.open("rb") as source:
            return {"sets": sum(1 for event in read(source, options) if isinstance(event, SetUnit))}

    return run


def _render(path: Path) -> Callable[[], dict[str, object]]:
    """canonical -> X12 on the file's documents; only ``from_canonical`` is timed."""
    from crossdock.adapters.x12 import SetUnit, read
    from crossdock.mappings.api import from_canonical, to_canonical

    options = _options(False)
    _warm_up(path, options)

    def run() -> dict[str, object]:
        rendered = segments = 0
        spent = 0.0
        with path.open("rb") as source:
            for event in read(source, options):
                if not isinstance(event, SetUnit):
                    continue
                document, _ = to_canonical(event)
                if document is None:
                    continue
                start = time.process_time()
                transaction, _ = from_canonical(document, control_number=event.transaction.control_number)
                spent += time.process_time() - start
                rendered += 1
                segments += len(transaction.segments)
        return {"documents": rendered, "segments": segments, "timed_cpu_seconds": round(spent, 3)}

    return run


def _pyx12_tokenizer(path: Path) -> Callable[[], dict[str, object]]:
    import pyx12.x12file

    def run() -> dict[str, object]:
        count = 0
        with path.open(encoding="ascii") as handle:
            for _ in pyx12.x12file.X12Reader(handle):
                count += 1
        return {"segments_seen": count}

    return run


MEASURES: dict[str, Callable[[Path], Callable[[], dict[str, object]]]] = {
    "translate": lambda path: _translate(path, validate=True),
    "translate-noval": lambda path: _translate(path, validate=False),
    "translate-strict": lambda path: _translate(path, validate=True, strict=True),
    "stages": _stages,
    "x12-read": lambda path: _x12_read(path, validate=True),
    "x12-read-noval": lambda path: _x12_read(path, validate=False),
    "render": _render,
    "pyx12-tokenizer": _pyx12_tokenizer,
}


def _child(kind: str, path: Path) -> None:
    run = MEASURES[kind](path)
    cpu, wall = time.process_time(), time.perf_counter()
    extra = run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"cpu_seconds": cpu, "wall_seconds": wall, "peak_rss_mb": peak_kb / 1024, **extra}))


def _run(kind: str, path: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", kind, str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _seconds(kind: str, result: dict[str, object]) -> float:
    """CPU seconds of the work the kind is about (``render`` times only ``from_canonical``)."""
    return float(result["timed_cpu_seconds"] if kind == "render" else result["cpu_seconds"])


def _report(size_mb: float, segments: int, results: dict[str, dict[str, object]], label: str = "") -> None:
    print(f"\nfile {size_mb:.1f} MB, {segments} segments{label}")
    print(f"{'kind':18} {'MB/s (cpu)':>11} {'MB/s (wall)':>12} {'us/segment':>11} {'peak RSS MB':>12}  notes")
    speeds: dict[str, float] = {}
    for kind, result in results.items():
        if "error" in result:
            print(f"{kind:18} {'-':>11} {'-':>12} {'-':>11} {'-':>12}  error: {result['error']}")
            continue
        cpu, wall = _seconds(kind, result), float(result["wall_seconds"])
        speeds[kind] = size_mb / cpu if cpu else float("inf")
        notes = {k: v for k, v in result.items() if k not in ("cpu_seconds", "wall_seconds", "peak_rss_mb")}
        wall_text = "-" if kind == "render" else f"{size_mb / wall:12.2f}"
        print(f"{kind:18} {speeds[kind]:11.2f} {wall_text:>12} {cpu / segments * 1e6:11.2f} "
              f"{float(result['peak_rss_mb']):12.1f}  {notes}")
    base = speeds.get("pyx12-tokenizer")
    for kind in ("translate", "translate-noval", "translate-strict"):
        if kind in speeds and base:
            print(f"{kind} / pyx12-tokenizer = {speeds[kind] / base:.2f}x (target >= 2.5x)")
    stages = results.get("stages", {})
    if "read_seconds" in stages:
        total = sum(float(stages[f"{s}_seconds"]) for s in STAGES)  # type: ignore[arg-type]
        shares = ", ".join(f"{s} {float(stages[f'{s}_seconds']) / segments * 1e6:.2f} us/seg "  # type: ignore[arg-type]
                           f"({float(stages[f'{s}_seconds']) / total:.0%})" for s in STAGES)  # type: ignore[arg-type]
        print(f"stages (set validator off): {shares}")
        if base:
            budget = size_mb / base / 2.5 / segments * 1e6
            print(f"budget at 2.5x pyx12-tokenizer: {budget:.2f} us/seg for all stages together")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1, 35], help="file sizes in MB")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS), help="what to measure")
    parser.add_argument("--keep", type=Path, help="directory to keep the generated files in")
    parser.add_argument("--bad-gtins", nargs="*", choices=KINDS, default=[],
                        help="also measure these kinds on files whose UPC check digits are mostly wrong")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        _child(args.measure[0], Path(args.measure[1]))
        return 0
    directory = args.keep or Path(tempfile.mkdtemp(prefix="translate-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        path = directory / f"x12-{size:g}mb.x12"
        segments = generate(path, int(size * MB), SEED)
        _report(path.stat().st_size / MB, segments, {kind: _run(kind, path) for kind in args.kinds})
        if args.bad_gtins:
            path = directory / f"x12-{size:g}mb-bad-gtins.x12"
            segments = generate(path, int(size * MB), SEED, valid_gtins=False)
            _report(path.stat().st_size / MB, segments, {kind: _run(kind, path) for kind in args.bad_gtins},
                    ", UPC check digits mostly wrong")
    return 0


if __name__ == "__main__":
    sys.exit(main())
