"""X12 → canonical JSON throughput: ``crossdock translate``'s pipeline against pyx12's bare tokenizer.

Uses the same generated 850/856 files as the codec benchmark (``x12_throughput.generate``,
seeded, ~1 MB and ~35 MB by default), then times, each in its own subprocess so peak RSS
(``ru_maxrss``) is not polluted by the others:

* ``translate``        the pipeline behind ``crossdock translate --to canonical``: streaming
                       ``adapters.x12.read`` (tokenizer, envelope and set validation), then
                       ``mappings.to_canonical`` per set, then one JSON line per document
                       (written to ``/dev/null``);
* ``x12-read``         the first stage alone (``adapters.x12.read``), to show where the time goes;
* ``pyx12-tokenizer``  pyx12's ``X12Reader`` iterating segments (no validation, no mapping).

Target: ``translate`` ≥ 2.5× ``pyx12-tokenizer`` on the same file (≈ ≥ 11 MB/s), with bounded
peak RSS (it must not grow with the file). Prints figures; asserts nothing.

Usage::

    python benchmarks/translate_throughput.py [--sizes 1 35] [--keep DIR]
"""

from __future__ import annotations

import argparse
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

KINDS = ("translate", "x12-read", "pyx12-tokenizer")
MB = 1_000_000
SEED = 850856


def _translate(path: Path) -> Callable[[], dict[str, object]]:
    from crossdock.adapters.json import canonical_line
    from crossdock.adapters.x12 import SetUnit, read
    from crossdock.mappings.api import to_canonical

    def run() -> dict[str, object]:
        documents = issues = 0
        with path.open("rb") as source, open(os.devnull, "wb") as sink:
            for event in read(source):
                if not isinstance(event, SetUnit):
                    continue
                document, found = to_canonical(event)
                issues += len(found)
                if document is not None:
                    sink.write(canonical_line(document) + b"\n")
                    documents += 1
        return {"documents": documents, "issues": issues}

    # warm-up (imports, spec compilation) excluded from the timing, as a worker pays it once
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    first = head[: head.index(b"~", head.index(b"IEA*")) + 1]
    for event in read(first):
        if isinstance(event, SetUnit):
            to_canonical(event)
    return run


def _x12_read(path: Path) -> Callable[[], dict[str, object]]:
    from crossdock.adapters.x12 import SetUnit, read

    def run() -> dict[str, object]:
        with path.open("rb") as source:
            return {"sets": sum(1 for event in read(source) if isinstance(event, SetUnit))}

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
    "translate": _translate,
    "x12-read": _x12_read,
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


def _report(size_mb: float, segments: int, results: dict[str, dict[str, object]]) -> None:
    print(f"\nfile {size_mb:.1f} MB, {segments} segments")
    print(f"{'kind':18} {'MB/s (cpu)':>11} {'MB/s (wall)':>12} {'peak RSS MB':>12}  notes")
    speeds: dict[str, float] = {}
    for kind, result in results.items():
        if "error" in result:
            print(f"{kind:18} {'-':>11} {'-':>12} {'-':>12}  error: {result['error']}")
            continue
        cpu, wall = float(result["cpu_seconds"]), float(result["wall_seconds"])
        speeds[kind] = size_mb / cpu if cpu else float("inf")
        notes = {k: v for k, v in result.items() if k not in ("cpu_seconds", "wall_seconds", "peak_rss_mb")}
        print(f"{kind:18} {speeds[kind]:11.2f} {size_mb / wall:12.2f} {float(result['peak_rss_mb']):12.1f}  {notes}")
    if "translate" in speeds and "pyx12-tokenizer" in speeds:
        ratio = speeds["translate"] / speeds["pyx12-tokenizer"]
        print(f"translate / pyx12-tokenizer = {ratio:.2f}x (target >= 2.5x, >= 11 MB/s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1, 35], help="file sizes in MB")
    parser.add_argument("--keep", type=Path, help="directory to keep the generated files in")
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
        _report(path.stat().st_size / MB, segments, {kind: _run(kind, path) for kind in KINDS})
    return 0


if __name__ == "__main__":
    sys.exit(main())
