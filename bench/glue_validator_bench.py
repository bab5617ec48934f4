"""Throughput and memory of the Glue validation core against a bare csv parse.

    python3 bench/glue_validator_bench.py [--rows 1000000 5000000] [--repeat 1]

For each size it writes a CSV (8 columns, every column under at least one
rule) to a temporary folder, then measures in a fresh subprocess each:

* ``bare``      ``csv.reader`` over the file, counting rows (the baseline);
* ``validate``  the validator with a contract without ``unique`` columns;
* ``unique``    the same contract with ``email`` unique (digest table).

Peak memory is the process's peak RSS (VmHWM) minus its RSS just before the
measured work, so imports and the interpreter do not count. The machine may be
shared: rows/s use wall time; the ratio is also given on CPU time, which
other processes disturb less. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
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


def contract_doc(unique: bool) -> dict:
    columns = [dict(c) for c in COLUMNS]
    if unique:
        columns[2]["unique"] = True
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


def worker(mode: str, path: str) -> dict:
    from migration_validation import FileReader, parse_contract, validate_object

    contract = parse_contract(contract_doc(unique=mode == "unique"), "bench")
    size = os.path.getsize(path)
    baseline = _status_kb("VmRSS")
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


def measure(mode: str, path: Path, repeat: int) -> dict:
    best = None
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, __file__, "--worker", mode, str(path)], capture_output=True, text=True, check=True
        )
        result = json.loads(done.stdout)
        if best is None or result["wallSeconds"] < best["wallSeconds"]:
            best = result
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is kept")
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    header = (
        f"{'rows':>10} {'MiB':>6} | {'bare rows/s':>12} {'validator rows/s':>17} {'ratio':>6} {'ratio(cpu)':>10} | "
        f"{'peak MiB':>8} | {'unique rows/s':>13} {'peak MiB':>8} {'table B/key':>11} {'RSS B/key':>9}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="glue-bench-") as tmp:
        for rows in args.rows:
            path = Path(tmp) / f"bench-{rows}.csv"
            generate(path, rows)
            bare = measure("bare", path, args.repeat)
            plain = measure("validate", path, args.repeat)
            unique = measure("unique", path, args.repeat)
            assert plain["status"] == "PASSED" and unique["status"] == "PASSED", (plain, unique)
            assert bare["rows"] == plain["rows"] == unique["rows"] == rows
            extra_rss = (unique["peakDeltaKiB"] - plain["peakDeltaKiB"]) * 1024
            print(
                f"{rows:>10,} {path.stat().st_size / 2**20:>6.0f} | "
                f"{rows / bare['wallSeconds']:>12,.0f} {rows / plain['wallSeconds']:>17,.0f} "
                f"{bare['wallSeconds'] / plain['wallSeconds']:>6.2f} {bare['cpuSeconds'] / plain['cpuSeconds']:>10.2f} | "
                f"{plain['peakDeltaKiB'] / 1024:>8.1f} | "
                f"{rows / unique['wallSeconds']:>13,.0f} {unique['peakDeltaKiB'] / 1024:>8.1f} "
                f"{unique['tableBytes'] / unique['uniqueKeys']:>11.1f} {extra_rss / unique['uniqueKeys']:>9.1f}"
            )
            path.unlink()
    print(
        "ratio = validator rows/s / bare csv.reader rows/s; peak = peak RSS minus RSS before the work; "
        "table B/key = digest table bytes / distinct keys; RSS B/key = extra peak RSS of the unique run / distinct keys"
    )


if __name__ == "__main__":
    main()
