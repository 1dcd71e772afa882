"""X12 throughput: ``crossdock.adapters.x12.validate`` against pyx12 and a naive split.

Generates, deterministically (seeded), files of 850 and 856 interchanges (~1 MB and ~35 MB by
default) in a temporary directory, then times, each in its own subprocess so that peak RSS
(``ru_maxrss``) is not polluted by the others; throughput is per CPU second (the machine may be
shared), after a warm-up that is not timed (imports, definition compilation, map generation):

* ``crossdock``       our streaming ``validate`` (tokenizer + envelope checks + set validator);
* ``pyx12-tokenizer`` pyx12's ``X12Reader`` iterating segments (no validation);
* ``pyx12-full``      pyx12 ``x12n_document`` against the maps generated from our definitions
                      (``adapters/x12/pyx12_maps.py``); by default only on files up to
                      ``--pyx12-full-max-mb`` because it runs at well under 1 MB/s;
* ``naive``           ``data.split(b"~")`` then each segment split on ``*``, all in memory.

Targets per core: ``crossdock`` >= 10 MB/s and >= 4x ``pyx12-tokenizer`` on the same file, peak
RSS < 150 MB on the 35 MB file. Prints figures; asserts nothing.

A third file, one interchange of ``--many-sets`` (200,000) tiny 850s in one group, measures what
a streaming ``validate`` keeps per set (the report holds one compact verdict per set; no tree is
kept): ``crossdock`` only, peak RSS and its growth over the same process after warm-up.

Usage::

    python benchmarks/x12_throughput.py [--sizes 1 35] [--many-sets 200000] [--keep DIR]
                                        [--pyx12-full-max-mb 2] [--runs 5] [--runs-max-mb 5]

Files under ``--runs-max-mb`` are measured in ``--runs`` fresh processes per kind and the median
run is shown (``pyx12-full`` runs once): a run of a few tens of milliseconds varies a lot between
processes on a shared machine. Each process starts cold (warm-up on the first interchange only),
so repeated runs never see caches filled by the same file.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

KINDS = ("crossdock", "pyx12-tokenizer", "pyx12-full", "naive")
SETS_PER_GROUP = 40
MB = 1_000_000


# --------------------------------------------------------------------------- generation


def _upc(rng: random.Random, valid: bool) -> str:
    """A 12-digit UPC-A drawn from ``rng``; with ``valid`` its last digit is the GS1 check digit.

    The draw is the same either way, so a seed yields the same file but for the check digits.
    """
    text = str(rng.randint(10**11, 10**12 - 1))
    if not valid:
        return text
    from crossdock.schemas.canonical import gtin_check_digit

    return text[:-1] + str(gtin_check_digit(text[:-1]))


def _po_body(rng: random.Random, number: int, valid: bool = True) -> list[tuple[str, ...]]:
    lines = rng.randint(5, 60)
    body = [
        ("BEG", "00", "SA", f"PO{number:08d}", "", "2024{:02d}{:02d}".format(rng.randint(1, 12), rng.randint(1, 28))),
        ("CUR", "BY", "USD"),
        ("REF", "DP", f"{rng.randint(1, 999):03d}"),
        ("DTM", "002", "2024{:02d}{:02d}".format(rng.randint(1, 12), rng.randint(1, 28))),
        ("N1", "ST", f"STORE {rng.randint(1, 9999)}", "92", f"{rng.randint(1, 99999):05d}"),
        ("N3", f"{rng.randint(1, 999)} MAIN STREET"),
        ("N4", "SPRINGFIELD", "IL", f"{rng.randint(10000, 99999)}", "US"),
    ]
    for line in range(1, lines + 1):
        body.append(("PO1", str(line), str(rng.randint(1, 500)), rng.choice(("EA", "CA", "BX")),
                     f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}", "", "UP",
                     _upc(rng, valid), "VN", f"SKU-{rng.randint(1, 10**6)}"))
        body.append(("PID", "F", "", "", "", f"ITEM DESCRIPTION {rng.randint(1, 10**5)}"))
    body.append(("CTT", str(lines)))
    return body


def _asn_body(rng: random.Random, number: int, valid: bool = True) -> list[tuple[str, ...]]:
    body = [
        ("BSN", "00", f"ASN{number:08d}", "20240301", "1200"),
        ("HL", "1", "", "S"),
        ("TD1", "CTN25", str(rng.randint(1, 50))),
        ("TD5", "", "2", "UPSN"),
        ("REF", "BM", f"BOL{rng.randint(1, 10**8)}"),
        ("DTM", "011", "20240301"),
        ("N1", "ST", "DISTRIBUTION CENTER", "92", f"{rng.randint(1, 9999):04d}"),
        ("HL", "2", "1", "O"),
        ("PRF", f"PO{number:08d}"),
    ]
    hl = 2
    for _ in range(rng.randint(2, 20)):
        hl += 1
        pack = hl
        body += [("HL", str(pack), "2", "P"), ("MAN", "GM", f"00{rng.randint(10**17, 10**18 - 1)}")]
        for _ in range(rng.randint(1, 3)):
            hl += 1
            body += [("HL", str(hl), str(pack), "I"),
                     ("LIN", "", "UP", _upc(rng, valid), "VN", f"SKU-{rng.randint(1, 10**6)}"),
                     ("SN1", "", str(rng.randint(1, 48)), "EA")]
    body.append(("CTT", str(hl)))
    return body


def generate(path: Path, target_bytes: int, seed: int, valid_gtins: bool = True) -> int:
    """Write 850/856 interchanges until ``target_bytes``; returns the number of segments.

    UPCs carry valid check digits, as real partner data does; ``valid_gtins=False`` leaves the
    raw random digits (about nine in ten check digits wrong) to measure the warnings' cost.
    """
    from crossdock.adapters.x12.writer import CountingAllocator, build_group, build_interchange, build_transaction, serialize
    from crossdock.schemas.x12.tree import Delimiters, Segment

    rng = random.Random(seed)
    allocator = CountingAllocator()
    delimiters = Delimiters(suffix="\n")
    written = segments = 0
    with path.open("wb") as out:
        while written < target_bytes:
            groups = []
            for functional_id, set_id, body_of in (("PO", "850", _po_body), ("SH", "856", _asn_body)):
                sets = [build_transaction(set_id, [Segment(s[0], s[1:]) for s in body_of(rng, rng.randint(1, 10**7), valid_gtins)],
                                          allocator=allocator) for _ in range(SETS_PER_GROUP)]
                groups.append(build_group(functional_id, sets, application_sender="BUYER", application_receiver="SELLER",
                                          version="004010", allocator=allocator, clock=lambda: datetime(2024, 3, 1, 12, 0)))
            tree = build_interchange(groups, sender=("ZZ", "BUYER"), receiver=("ZZ", "SELLER"), version="00401",
                                     allocator=allocator, clock=lambda: datetime(2024, 3, 1, 12, 0), delimiters=delimiters)
            data = serialize(tree)
            out.write(data)
            written += len(data)
            segments += data.count(b"~")
    return segments


def generate_many_sets(path: Path, sets: int) -> int:
    """One interchange, one group, ``sets`` minimal valid 850s; returns the number of segments."""
    isa = ("ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *240301*1200*U*"
           "00401*000000001*0*P*:~\n")
    with path.open("w", encoding="ascii") as out:
        out.write(isa + "GS*PO*BUYER*SELLER*20240301*1200*1*X*004010~\n")
        for n in range(1, sets + 1):
            out.write(f"ST*850*{n:09d}~\nBEG*00*SA*PO{n}**20240301~\nPO1*1*1*EA*1.5**UP*012345678905~\n"
                      f"CTT*1~\nSE*5*{n:09d}~\n")
        out.write(f"GE*{sets}*1~\nIEA*1*000000001~\n")
    return sets * 5 + 4


# --------------------------------------------------------------------------- measurements (child side)
# Each kind has a warm-up (imports, definition compilation, map generation: excluded from the
# timing, as a long-running worker pays them once) and a timed run over the whole file.


def _first_interchange(path: Path) -> bytes:
    """The first interchange, or the first MB when the interchange is longer (a warm-up input)."""
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    end = head.find(b"IEA*")
    return head if end < 0 else head[: head.index(b"~", end) + 1]


def _crossdock(path: Path) -> Callable[[], dict[str, object]]:
    from crossdock.adapters.x12 import validate

    validate(_first_interchange(path))

    def run() -> dict[str, object]:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        report = validate(str(path), path=str(path))
        sets = sum(len(g.transactions) for i in report.interchanges for g in i.groups)
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        return {"accepted": report.accepted, "sets": sets, "rss_growth_mb": round(growth, 1)}

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


def _pyx12_full(path: Path) -> Callable[[], dict[str, object]]:
    from crossdock.adapters.x12 import pyx12_maps

    maps = pyx12_maps.write_pyx12_maps(tempfile.mkdtemp(prefix="pyx12-maps-"))

    def run() -> dict[str, object]:
        verdict = pyx12_maps.run_pyx12(path, maps)
        rejected = sum(1 for s in verdict.sets if not s.accepted)
        return {"valid": verdict.valid, "sets": len(verdict.sets), "rejected_sets": rejected, "error": verdict.error}

    return run


def _naive(path: Path) -> Callable[[], dict[str, object]]:
    def run() -> dict[str, object]:
        # Everything in memory at once, as a naive parser would hold it.
        rows = [segment.split(b"*") for segment in path.read_bytes().split(b"~")]
        return {"segments_seen": len(rows)}

    return run


MEASURES: dict[str, Callable[[Path], Callable[[], dict[str, object]]]] = {
    "crossdock": _crossdock,
    "pyx12-tokenizer": _pyx12_tokenizer,
    "pyx12-full": _pyx12_full,
    "naive": _naive,
}


def _child(kind: str, path: Path) -> None:
    run = MEASURES[kind](path)
    cpu, wall = time.process_time(), time.perf_counter()
    extra = run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"cpu_seconds": cpu, "wall_seconds": wall, "peak_rss_mb": peak_kb / 1024, **extra}))


# --------------------------------------------------------------------------- orchestration (parent side)


def _run(kind: str, path: Path) -> dict[str, object]:
    proc = subprocess.run([sys.executable, __file__, "--measure", kind, str(path)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:160]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median_run(kind: str, path: Path, runs: int) -> dict[str, object]:
    """The run with the median CPU time among ``runs`` fresh processes (a run of a few tens of
    milliseconds varies by half from one process to the next on a shared machine)."""
    results = [_run(kind, path) for _ in range(runs)]
    timed = sorted((r for r in results if "cpu_seconds" in r), key=lambda r: float(r["cpu_seconds"]))  # type: ignore[arg-type]
    if not timed:
        return results[0]
    median = dict(timed[len(timed) // 2])
    if runs > 1:
        median["runs"] = len(timed)
    return median


def _report(size_mb: float, segments: int, results: dict[str, dict[str, object]]) -> None:
    """One table per file; throughput is per CPU second (one core), wall time shown alongside."""
    print(f"\n== {size_mb:.1f} MB, {segments:,} segments ==")
    print(f"{'kind':<17}{'cpu s':>8}{'wall s':>8}{'MB/s':>8}{'seg/s':>11}{'peak RSS MB':>13}  notes")
    for kind, result in results.items():
        if "cpu_seconds" not in result:
            print(f"{kind:<17}{'-':>8}{'-':>8}{'-':>8}{'-':>11}{'-':>13}  {result.get('error') or result.get('skipped')}")
            continue
        cpu = float(result["cpu_seconds"])  # type: ignore[arg-type]
        notes = {k: v for k, v in result.items() if k not in ("cpu_seconds", "wall_seconds", "peak_rss_mb")}
        print(f"{kind:<17}{cpu:>8.2f}{float(result['wall_seconds']):>8.2f}{size_mb / cpu:>8.2f}"  # type: ignore[arg-type]
              f"{segments / cpu:>11,.0f}{float(result['peak_rss_mb']):>13.1f}  {notes or ''}")  # type: ignore[arg-type]
    ours = results.get("crossdock", {})
    if "cpu_seconds" in ours:
        for kind, result in results.items():
            if kind != "crossdock" and "cpu_seconds" in result:
                ratio = float(result["cpu_seconds"]) / float(ours["cpu_seconds"])  # type: ignore[arg-type]
                print(f"  crossdock validate runs at {ratio:.2f}x the speed of {kind}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=float, default=[1.0, 35.0], help="file sizes in MB")
    parser.add_argument("--seed", type=int, default=850856)
    parser.add_argument("--keep", type=Path, help="generate into this directory and keep the files")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--pyx12-full-max-mb", type=float, default=2.0,
                        help="run pyx12-full only on files up to this size (it is slow)")
    parser.add_argument("--many-sets", type=int, default=200_000,
                        help="sets in the one-interchange file (0 skips it)")
    parser.add_argument("--runs", type=int, default=5,
                        help="processes per kind on files under --runs-max-mb (the median is shown)")
    parser.add_argument("--runs-max-mb", type=float, default=5.0,
                        help="files at least this large are measured once per kind")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        _child(args.measure[0], Path(args.measure[1]))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        for size in args.sizes:
            path = directory / f"x12-850-856-{size:g}MB.x12"
            segments = generate(path, int(size * MB), args.seed)
            actual_mb = path.stat().st_size / MB
            results: dict[str, dict[str, object]] = {}
            runs = args.runs if actual_mb < args.runs_max_mb else 1
            for kind in args.kinds:
                if kind == "pyx12-full" and actual_mb > args.pyx12_full_max_mb:
                    results[kind] = {"skipped": f"file above --pyx12-full-max-mb {args.pyx12_full_max_mb:g}"}
                    continue
                results[kind] = _median_run(kind, path, 1 if kind == "pyx12-full" else runs)
            _report(actual_mb, segments, results)
        if args.many_sets:
            path = directory / f"x12-850-{args.many_sets}-sets.x12"
            segments = generate_many_sets(path, args.many_sets)
            _report(path.stat().st_size / MB, segments, {"crossdock": _run("crossdock", path)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
