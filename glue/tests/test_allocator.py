import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from migration_validation import allocator
from migration_validation.allocator import M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, MMAP_THRESHOLD, TRIM_THRESHOLD, tune_allocator

from glue.tests.helpers import FIXTURES, REPO


class FakeLibc:
    def __init__(self, result=1):
        self.calls = []
        self.result = result

    def mallopt(self, param, value):
        self.calls.append((param, value))
        return self.result


class TuneAllocatorTest(unittest.TestCase):
    def test_sets_both_thresholds_through_mallopt(self):
        libc = FakeLibc()
        self.assertTrue(tune_allocator(libc, environ={}))
        self.assertEqual(libc.calls, [(M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD)])
        self.assertEqual((M_TRIM_THRESHOLD, M_MMAP_THRESHOLD), (-1, -3))  # glibc's <malloc.h>

    def test_no_op_where_mallopt_is_missing(self):
        self.assertFalse(tune_allocator(object(), environ={}))

    def test_a_refused_value_reports_false(self):
        self.assertFalse(tune_allocator(FakeLibc(result=0), environ={}))

    def test_operator_settings_win(self):
        for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
            libc = FakeLibc()
            self.assertFalse(tune_allocator(libc, environ={name: "131072"}))
            self.assertEqual(libc.calls, [])

    def test_only_glibc_is_tuned(self):
        with mock.patch.object(os, "confstr", side_effect=ValueError("unrecognized configuration name")):
            self.assertIsNone(allocator._glibc())  # musl, macOS
        with mock.patch.object(os, "confstr", return_value=None):
            self.assertIsNone(allocator._glibc())
        if sys.platform.startswith("linux") and _is_glibc():
            self.assertTrue(hasattr(allocator._glibc(), "mallopt"))


def _is_glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):
        return False


_RUN = """
import json, os, sys
sys.path.insert(0, {src!r})
from migration_validation import allocator, load_contracts_dir, FileReader, validate_object
if sys.argv[1] == "off":
    allocator._done = False  # as if tuning had been tried and was not possible
contracts = load_contracts_dir({contracts!r})
reports = []
for path, key, partitions in json.loads(sys.argv[2]):
    with open(path, "rb") as handle:
        report = validate_object(contracts, key, FileReader(handle), os.path.getsize(path), partitions, chunk_bytes=4096)
    reports.append(report.to_dict())
print(json.dumps({{"tuned": allocator.tune_allocator(), "reports": reports}}, sort_keys=True))
"""


class SameResultsTest(unittest.TestCase):
    def test_reports_are_identical_with_and_without_tuning(self):
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "customers.csv"
            lines = ["customer_id,full_name,email,country,credit_limit,is_active,signup_date,updated_at"]
            for i in range(1, 20001):
                email = f"user{i}@example.com" if i % 997 else "not an email"
                limit = f"{i % 50000}.{i % 100:02d}" if i % 1201 else "-3"
                lines.append(f"{i % 19000 or 1},Name {i},{email},US,{limit},true,2024-01-{1 + i % 28:02d},2024-01-01T00:00:00Z")
            big.write_text("\n".join(lines) + "\n", encoding="utf-8")
            files = [
                (str(big), "incoming/customers/big.csv", 3),
                (str(FIXTURES / "customers_every_rule.csv"), "incoming/customers/x.csv", 4),
                (str(FIXTURES / "orders_bad.jsonl"), "incoming/orders/x.jsonl", 2),
            ]
            runs = {}
            for mode in ("off", "on"):
                script = _RUN.format(src=str(REPO / "glue" / "src"), contracts=str(REPO / "glue" / "contracts"))
                done = subprocess.run(
                    [sys.executable, "-c", script, mode, json.dumps(files)], capture_output=True, text=True, timeout=300, check=True
                )
                runs[mode] = json.loads(done.stdout)
        self.assertFalse(runs["off"]["tuned"])
        if _is_glibc():
            self.assertTrue(runs["on"]["tuned"])
        self.assertEqual(runs["on"]["reports"], runs["off"]["reports"])
        self.assertEqual([r["status"] for r in runs["on"]["reports"]], ["FAILED", "FAILED", "FAILED"])


if __name__ == "__main__":
    unittest.main()
