"""Throughput and memory of the Glue validation core against a bare csv parse.

    python3 bench/glue_validator_bench.py [--rows 1000000] [--memory-rows 5000000]
        [--merge-rows 3000000] [--repeat 3]

It writes CSVs (8 columns, every column under at least one rule) to a
temporary folder and measures, each time the median of ``--repeat`` runs in
fresh subprocesses (about 3 minutes on 2 idle vCPUs; several times that on a
loaded machine):

* ``bare``      ``csv.reader`` over the file, counting rows (the baseline);
* ``validate``  the validator with a contract without ``unique`` columns;
* ``unique``    the same contract with ``email`` unique (digest table);
* peak memory of ``validate`` at ``--rows`` and ``--memory-rows`` (flat?; one
  run at ``--memory-rows``, peak RSS does not depend on the machine's load);
* ``merge``     ``--merge-rows`` rows validated as 5 partitions with two
  unique columns (``customer_id``, ``email``), then the partition reports
  merged: merge time against validation time;
* ``patterns``  adversarial contract patterns on 1 MB of the values that make
  backtracking blow up: seconds per MB, the worst printed.

Peak memory is the process's peak RSS (VmHWM) minus its RSS just before the
measured work, so imports and the interpreter do not count; the peak is reset
just before (``/proc/self/clear_refs``), so a larger peak while loading the
contract cannot hide the work's own. The machine may be
shared: rows/s use wall time; the ratio is also given on CPU time, which
other processes disturb less; bare, validate and unique runs take turns so
load changes fall on all three; the load average is printed before and after.
Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "glue" / "src"))

COLUMNS = [
    {"name": "customer_id", "type": "integer", "required": True, "range": {"min": 1}},
    {"name": "full_name", "type": "string", "required": True, "max_length": 100},
    {"name": "email", "type": "string", "required": True, "pattern": r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "max_length": 254},
    {"name": "country", "type": "string", "required": True, "allowed": ["US", "CA", "GB", "FR", "DE", "ES", "IT", "NL"]},
    {"name": "credit_limit", "type": "decimal", "range": {"min": 0, "max": 100000}},
    {"name": "is_active", "type": "boolean", "required": True},
    {"name": "signup_date", "type": "date", "required": True, "range": {"min": "2000-01-01", "max": "2030-12-31"}},
    {"name": "updated_at", "type": "timestamp", "required": True},
]


ADVERSARIAL = [
    # (pattern, one value that makes a backtracking engine blow up)
    (r".*\S.*", " " * 200),
    (r"[0-9]+\.?[0-9]*", "1" * 200 + "x"),
    (r"(a+)+$", "a" * 200 + "!"),
    (r"(x+x+)+y", "x" * 200),
    (r"(a|aa)*b", "a" * 200),
    (r"(.*,){5}X", "," * 200),
    (r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "u@" + "a." * 30),  # longest value re still gets
    (r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "u@" + "a." * 100),  # longer: the automaton
    (r"(\w+\s?)*$", "word " * 40 + "!"),
]


def contract_doc(unique: bool, unique_id: bool = False) -> dict:
    columns = [dict(c) for c in COLUMNS]
    if unique:
        columns[2]["unique"] = True
    if unique_id:
        columns[0]["unique"] = True
    return {
        "name": "bench",
        "keys": ["incoming/bench/*.csv"],
        "format": {"type": "csv"},
        "columns": columns,
        "max_error_ratio": 0.01,
        "max_line_bytes": 4096,
    }


def generate(path: Path, rows: int) -> None:
    """Deterministic, quote-free, LF-terminated rows (a typical export)."""
    countries = ["US", "CA", "GB", "FR", "DE", "ES", "IT", "NL"]
    names = ["Ana", "Ben", "Chloe", "Dmitri", "Eve", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kofi"]
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(",".join(c["name"] for c in COLUMNS) + "\n")
        batch = []
        for i in range(1, rows + 1):
            h = (i * 2654435761) & 0xFFFFFFFF  # cheap, well-spread pseudo-random bits
            batch.append(
                f"{i},{names[h % 11]} Customer{i},user{i}@example.com,{countries[h % 8]},"
                f"{h % 100000}.{h % 97:02d},{'true' if h & 1 else 'false'},"
                f"20{10 + h % 15:02d}-{1 + h % 12:02d}-{1 + h % 28:02d},"
                f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z\n"
            )
            if len(batch) == 50000:
                out.writelines(batch)
                batch.clear()
        out.writelines(batch)


def _status_kb(field: str) -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB


def _reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux 4.0+); without it the
    peak may be an earlier one, which only overstates the figure."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        pass


def worker(mode: str, path: str) -> dict:
    from migration_validation import FileReader, parse_contract, validate_object

    if mode == "merge":
        return merge_worker(path)
    if mode == "patterns":
        return patterns_worker()
    contract = parse_contract(contract_doc(unique=mode == "unique"), "bench")
    size = os.path.getsize(path)
    baseline = _status_kb("VmRSS")
    _reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    result = {}
    if mode == "bare":
        with open(path, newline="", encoding="utf-8") as handle:
            rows = sum(1 for _ in csv.reader(handle)) - 1  # minus the header
    else:
        with open(path, "rb") as handle:
            report = validate_object([contract], "incoming/bench/data.csv", FileReader(handle), size)
        rows = report.rows
        result["status"] = report.status()
        result["errorRows"] = report.error_rows
        for table in report.unique.values():
            result["uniqueKeys"] = len(table)
            result["tableBytes"] = table.nbytes
    result.update(
        rows=rows,
        wallSeconds=time.perf_counter() - wall,
        cpuSeconds=time.process_time() - cpu,
        peakDeltaKiB=max(0, _status_kb("VmHWM") - baseline),
    )
    return result


def merge_worker(path: str, partitions: int = 5) -> dict:
    """Validate 5 ranges (two unique columns), then time the merge alone."""
    import pickle

    from migration_validation import FileReader, merge_reports, parse_contract, plan_file, split_ranges, validate_range

    contract = parse_contract(contract_doc(unique=True, unique_id=True), "bench")
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        read = FileReader(handle)
        plan, _ = plan_file(contract, read, size)
        cpu = time.process_time()
        reports = [validate_range(plan, read, size, s, e) for s, e in split_ranges(size, partitions)]
        validate_cpu = time.process_time() - cpu
    shipped = pickle.dumps(reports)  # as Spark would ship them; each merge run starts from a fresh copy
    merges = []
    for _ in range(3):
        copies = pickle.loads(shipped)
        cpu = time.process_time()
        merged = merge_reports(copies)
        merges.append(time.process_time() - cpu)
    return {"rows": merged.rows, "status": merged.status(), "validateCpu": validate_cpu, "mergeCpu": merges}


def patterns_worker(megabytes: float = 1.0) -> dict:
    from migration_validation.patterns import compile_pattern

    results = []
    for pattern, value in ADVERSARIAL:
        compiled = compile_pattern(pattern)
        values = [value] * max(1, int(megabytes * 1e6 / (len(value) + 1)))
        times = []
        for _ in range(3):
            cpu = time.process_time()
            compiled.all_match(values)  # the batch screen: fails on the first value
            for v in values:
                compiled.fullmatch(v)  # then value by value, as the validator does
            times.append(time.process_time() - cpu)
        mb = sum(len(v) + 1 for v in values) / 1e6
        results.append({"pattern": pattern, "mode": compiled.mode, "secondsPerMB": statistics.median(times) / mb})
    return {"patterns": results}


def measure(mode: str, path: Path, repeat: int) -> dict:
    """Median (by wall time) of ``repeat`` runs in fresh subprocesses."""
    return measure_rounds([mode], path, repeat)[mode]


def measure_rounds(modes: list, path: Path, repeat: int) -> dict:
    """Each mode's median of ``repeat`` runs, the modes taking turns (one run
    of each per round) so that a change in the machine's load falls on all
    of them alike instead of on whichever ran last."""
    runs = {mode: [] for mode in modes}
    for _ in range(repeat):
        for mode in modes:
            done = subprocess.run(
                [sys.executable, __file__, "--worker", mode, str(path)], capture_output=True, text=True, check=True
            )
            runs[mode].append(json.loads(done.stdout))
    return {mode: _median(found) for mode, found in runs.items()}


def _median(runs: list) -> dict:
    runs.sort(key=lambda r: r.get("wallSeconds", 0))
    median = dict(runs[len(runs) // 2])
    for field in ("wallSeconds", "cpuSeconds", "peakDeltaKiB"):
        if field in median:
            median[field] = statistics.median(r[field] for r in runs)
    return median


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-rows", type=int, default=5_000_000)
    parser.add_argument("--merge-rows", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is printed")
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {_load()} (1, 5, 15 min) at start")
    with tempfile.TemporaryDirectory(prefix="glue-bench-") as tmp:
        path = Path(tmp) / "bench.csv"
        generate(path, args.rows)
        medians = measure_rounds(["bare", "validate", "unique"], path, args.repeat)
        bare, plain, unique = medians["bare"], medians["validate"], medians["unique"]
        assert plain["status"] == "PASSED" and unique["status"] == "PASSED", (plain, unique)
        assert bare["rows"] == plain["rows"] == unique["rows"] == args.rows
        extra_rss = (unique["peakDeltaKiB"] - plain["peakDeltaKiB"]) * 1024
        print(f"\nthroughput, {args.rows:,} rows ({path.stat().st_size / 2**20:.0f} MiB), median of {args.repeat}:")
        print(f"  bare csv.reader   {args.rows / bare['wallSeconds']:>10,.0f} rows/s")
        print(
            f"  validator         {args.rows / plain['wallSeconds']:>10,.0f} rows/s   ratio {bare['wallSeconds'] / plain['wallSeconds']:.2f} "
            f"(wall) / {bare['cpuSeconds'] / plain['cpuSeconds']:.2f} (CPU)   target >= 0.7"
        )
        print(
            f"  with unique email {args.rows / unique['wallSeconds']:>10,.0f} rows/s   digest table "
            f"{unique['tableBytes'] / unique['uniqueKeys']:.1f} B/key, extra peak RSS {extra_rss / unique['uniqueKeys']:.1f} B/key"
        )
        print("\npeak RSS of the validator without unique (median):")
        print(f"  {args.rows:>10,} rows  {plain['peakDeltaKiB'] / 1024:6.1f} MiB")
        path.unlink()
        if args.memory_rows:
            big = Path(tmp) / "bench-memory.csv"
            generate(big, args.memory_rows)
            peak = measure("validate", big, 1)  # memory, not time: one run keeps the default run short
            print(f"  {args.memory_rows:>10,} rows  {peak['peakDeltaKiB'] / 1024:6.1f} MiB")
            big.unlink()
        if args.merge_rows:
            merge_path = Path(tmp) / "bench-merge.csv"
            generate(merge_path, args.merge_rows)
            merged = measure("merge", merge_path, 1)
            merge_path.unlink()
            print(f"\nmerge, {args.merge_rows:,} rows in 5 partitions, unique customer_id and email (CPU s):")
            print(
                f"  validate {merged['validateCpu']:.1f} s, merge median {statistics.median(merged['mergeCpu']):.2f} s "
                f"(runs {', '.join(f'{t:.2f}' for t in merged['mergeCpu'])}); target: merge < validate"
            )
    patterns = json.loads(
        subprocess.run([sys.executable, __file__, "--worker", "patterns", "-"], capture_output=True, text=True, check=True).stdout
    )["patterns"]
    print("\nadversarial patterns, 1 MB of the worst values, batch screen then value by value (CPU s/MB, median of 3):")
    for item in patterns:
        print(f"  {item['secondsPerMB']:8.3f}  {item['mode']:9}  {item['pattern']}")
    worst = max(patterns, key=lambda item: item["secondsPerMB"])
    print(f"  worst: {worst['secondsPerMB']:.3f} s/MB ({worst['pattern']})")
    print(f"\nload average {_load()} at the end; the 2 vCPUs are shared with other engineers' work, so wall figures are noisy")


if __name__ == "__main__":
    main()
