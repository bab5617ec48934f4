"""Merging the reports of N partitions equals the report of the whole file."""

import pickle
import random
import unittest
import zlib

from glue.tests.helpers import FIXTURES, SAMPLES, BytesReader, all_contracts, contract, run
from migration_validation import merge_reports, plan_file, split_ranges, validate_range

CASES = [
    (SAMPLES / "customers.csv", "incoming/customers/a.csv"),
    (SAMPLES / "orders.jsonl", "incoming/orders/a.jsonl"),
    (FIXTURES / "customers_every_rule.csv", "incoming/customers/a.csv"),
    (FIXTURES / "customers_within_tolerance.csv", "incoming/customers/a.csv"),
    (FIXTURES / "customers_invalid_utf8.csv", "incoming/customers/a.csv"),
    (FIXTURES / "customers_long_line.csv", "incoming/customers/a.csv"),
    (FIXTURES / "customers_reordered_crlf_bom.csv", "incoming/customers/a.csv"),
    (FIXTURES / "orders_bad.jsonl", "incoming/orders/a.jsonl"),
    (FIXTURES / "readings_headerless.psv", "incoming/readings/a.psv"),
]


def partition_reports(data: bytes, contract_, partitions: int, chunk_bytes: int = 1 << 20) -> list:
    plan, failed = plan_file(contract_, BytesReader(data), len(data))
    assert failed is None, failed.reasons()
    return [validate_range(plan, BytesReader(data), len(data), s, e, chunk_bytes) for s, e in split_ranges(len(data), partitions)]


def tree_merge(reports: list):
    if len(reports) == 1:
        return reports[0]
    middle = len(reports) // 2
    return tree_merge(reports[:middle]).merge(tree_merge(reports[middle:]))


class FileMergeTest(unittest.TestCase):
    def test_samples_and_fixtures_for_many_partition_counts(self):
        contracts = all_contracts()
        for path, key in CASES:
            data = path.read_bytes()
            whole = run(data, contracts, key)
            for partitions in (2, 3, 5, 16, 64):
                for chunk in (97, 1 << 20):
                    with self.subTest(file=path.name, partitions=partitions, chunk=chunk):
                        self.assertEqual(run(data, contracts, key, partitions, chunk), whole)

    def test_checksum_is_the_crc32_of_the_whole_file(self):
        data = (SAMPLES / "customers.csv").read_bytes()
        report = run(data, all_contracts(), "incoming/customers/a.csv", partitions=7)
        self.assertEqual(report["checksum"], {"algorithm": "crc32", "value": f"{zlib.crc32(data):08x}"})
        self.assertEqual(report["bytes"], len(data))


class UniqueAcrossPartitionsTest(unittest.TestCase):
    HEADER = b"id,code,amount\n"

    def test_duplicate_in_a_later_partition_fails_that_row(self):
        rows = [b"%d,AB%d,1" % (i, i) for i in range(1, 41)]
        rows[35] = b"3,ZZ999,1"  # id 3 again, 33 lines after its first occurrence
        data = self.HEADER + b"\n".join(rows) + b"\n"
        whole = run(data, [contract()], "incoming/t/x.csv")
        self.assertEqual(whole["ruleCounts"]["id"]["unique"], 1)
        self.assertEqual(whole["sample"], [{"line": 37, "failures": [{"column": "id", "rule": "unique"}]}])
        for partitions in range(2, 12):
            reports = partition_reports(data, contract(), partitions)
            self.assertEqual(merge_reports(reports).to_dict(), whole, partitions)

    def test_row_failing_two_unique_columns_in_separate_merges_counts_once(self):
        # Row 30 repeats id of row 2 and code of row 20: the two first
        # occurrences land in different partitions than row 30.
        rows = [b"%d,AB%d,1" % (i, i) for i in range(1, 41)]
        rows[29] = b"2,AB20,1"
        rows[35] = b"36,AB36,-5"  # a range failure elsewhere
        data = self.HEADER + b"\n".join(rows) + b"\n"
        whole = run(data, [contract()], "incoming/t/x.csv")
        self.assertEqual((whole["errorRows"], whole["ruleCounts"]["id"]["unique"], whole["ruleCounts"]["code"]["unique"]), (2, 1, 1))
        for partitions in range(2, 14):
            reports = partition_reports(data, contract(), partitions)
            self.assertEqual(tree_merge(reports).to_dict(), whole, partitions)

    def test_random_files_sequential_tree_and_pickled_merges(self):
        rnd = random.Random(20261122)
        for trial in range(120):
            data = self._random_file(rnd)
            sample_size = rnd.choice([0, 1, 3, 20])
            c = contract(sample_size=sample_size, max_line_bytes=64)
            whole = run(data, [c], "incoming/t/x.csv")
            partitions = rnd.randint(2, 25)
            chunk = rnd.choice([16, 100, 1 << 16])
            with self.subTest(trial=trial, partitions=partitions, chunk=chunk):
                sequential = merge_reports(partition_reports(data, c, partitions, chunk))
                self.assertEqual(sequential.to_dict(), whole)
                # Spark pickles each partition report back to the driver.
                shipped = [pickle.loads(pickle.dumps(r)) for r in partition_reports(data, c, partitions, chunk)]
                self.assertEqual(merge_reports(shipped).to_dict(), whole)
                self.assertEqual(tree_merge(partition_reports(data, c, partitions, chunk)).to_dict(), whole)

    def _random_file(self, rnd: random.Random) -> bytes:
        lines = [b"id,code,amount"]
        for _ in range(rnd.randint(0, 120)):
            roll = rnd.random()
            ident = rnd.randint(1, 60)
            code = b"AB%d" % rnd.randint(1, 60)
            amount = rnd.choice([b"1", b"2.5", b"-1", b"x", b"", b"1000.01"])
            if roll < 0.04:
                lines.append(b"")  # blank
            elif roll < 0.07:
                lines.append(b"%d,\xff%s,1" % (ident, code))  # invalid UTF-8
            elif roll < 0.09:
                lines.append(b"9" * 80)  # over max_line_bytes
            elif roll < 0.12:
                lines.append(b"%d,%s" % (ident, code))  # field_count
            elif roll < 0.14:
                lines.append(b'%d,"%s,1' % (ident, code))  # parse
            elif roll < 0.2:
                lines.append(b'%d,"%s",%s' % (ident, code, amount))  # quoted: csv.reader path
            else:
                lines.append(b"%d,%s,%s" % (ident, code, amount))
        return b"\n".join(lines) + rnd.choice([b"\n", b"", b"\r\n"])


if __name__ == "__main__":
    unittest.main()
