"""The unique shuffle plan, run Spark-free on lists with the same functions the
Glue job maps and reduces with: duplicates across partitions are found
exactly, and the driver receives only reports, counts and samples."""

import pickle
import random
import unittest

from glue.tests.helpers import BytesReader, FakeSparkContext, contract, run
from glue.tests import test_merge
from glue.tests.test_merge import partition_reports
from migration_validation import merge_reports
from migration_validation.digests import DigestTable
from migration_validation.job import PartitionRecords
from migration_validation.shuffle import PartSummary, UniqueShuffle, run_plan, run_spark


def shuffled(data: bytes, c, partitions: int, chunk: int = 1 << 20):
    reports = partition_reports(data, c, partitions, chunk)
    shuffle = UniqueShuffle(c.sample_size)
    collected = run_plan(shuffle, (item for p, r in enumerate(reports) for item in shuffle.emit(p, r)))
    return shuffle.finish(collected), collected


class _Validate:
    """Picklable range task over bytes, as the job's RangeTask over S3."""

    def __init__(self, plan, data):
        self.plan, self.data = plan, data

    def __call__(self, byte_range):
        from migration_validation import validate_range

        return validate_range(self.plan, BytesReader(self.data), len(self.data), *byte_range)


class ShufflePlanTest(unittest.TestCase):
    HEADER = b"id,code,amount\n"

    def test_duplicates_across_partitions_equal_the_one_pass_report(self):
        rnd = random.Random(20261205)
        make = test_merge.UniqueAcrossPartitionsTest()._random_file
        for trial in range(120):
            data = make(rnd)
            c = contract(sample_size=rnd.choice([0, 1, 3, 20]), max_line_bytes=64)
            whole = run(data, [c], "incoming/t/x.csv")
            partitions = rnd.randint(2, 25)
            with self.subTest(trial=trial, partitions=partitions):
                report, collected = shuffled(data, c, partitions, rnd.choice([16, 100, 1 << 16]))
                self.assertEqual(report.to_dict(), whole)
                self.assertEqual(merge_reports(partition_reports(data, c, partitions)).to_dict(), whole)

    def test_the_spark_chain_on_fake_rdds_gives_the_same_report(self):
        from migration_validation import plan_file, split_ranges

        rows = [b"%d,AB%d,1" % (i % 37, i % 53) for i in range(1, 400)]
        data = self.HEADER + b"\n".join(rows) + b"\n"
        c = contract(sample_size=5)
        whole = run(data, [c], "incoming/t/x.csv")
        plan, _ = plan_file(c, BytesReader(data), len(data))
        for partitions in (1, 2, 7, 31):
            sc = FakeSparkContext()
            shuffle = UniqueShuffle(c.sample_size)
            records = PartitionRecords(_Validate(plan, data), shuffle)
            report = shuffle.finish(run_spark(sc, records, list(enumerate(split_ranges(len(data), partitions))), shuffle))
            self.assertEqual(report.to_dict(), whole, partitions)
            self.assertEqual(whole["uniqueKeys"], {"id": 37, "code": 53})
            self.assertEqual(whole["ruleCounts"]["id"]["unique"], 399 - 37)
            self.assert_only_counts_and_samples(sc.collected, partitions, c.sample_size)

    def assert_only_counts_and_samples(self, collected, partitions, sample_size):
        self.assertEqual(sorted(p for p, _ in collected), list(range(partitions)))
        for _, summary in collected:
            self.assertIsInstance(summary, PartSummary)
            self.assertEqual(summary.report.unique, {})  # no digest table reaches the driver
            self.assertLessEqual(len(summary.rows), sample_size)
            for value in (summary.distinct, summary.counts):
                self.assertTrue(all(type(v) is int for v in value.values()))

    def test_driver_receives_bytes_independent_of_the_key_count(self):
        sizes = {}
        for n in (2_000, 20_000):
            rows = [b"%d,AB%d,1" % (i, i % (n // 2)) for i in range(1, n + 1)]  # code repeats once
            data = self.HEADER + b"\n".join(rows) + b"\n"
            c = contract(sample_size=10, max_error_ratio=1)
            report, collected = shuffled(data, c, 4)
            self.assertEqual(report.to_dict()["ruleCounts"]["code"]["unique"], n // 2)
            self.assert_only_counts_and_samples(collected, 4, 10)
            sizes[n] = len(pickle.dumps(collected))
        self.assertLess(sizes[20_000], sizes[2_000] * 1.5)  # ten times the keys, about the same bytes

    def test_a_row_failing_on_two_columns_in_other_partitions_counts_once(self):
        rows = [b"%d,AB%d,1" % (i, i) for i in range(1, 41)]
        rows[29] = b"2,AB20,1"  # id of row 2, code of row 20
        data = self.HEADER + b"\n".join(rows) + b"\n"
        whole = run(data, [contract()], "incoming/t/x.csv")
        for partitions in range(2, 14):
            report, collected = shuffled(data, contract(), partitions)
            self.assertEqual(report.to_dict(), whole, partitions)
        self.assertEqual((whole["errorRows"], whole["ruleCounts"]["id"]["unique"]), (1, 1))


class DigestMergeTest(unittest.TestCase):
    def test_absorb_inserts_shifted_new_keys_and_returns_the_known_ones(self):
        rnd = random.Random(5)
        keys = [rnd.getrandbits(64) | 1 for _ in range(30_000)]
        a, b = DigestTable(), DigestTable()
        a.insert_batch(keys[:20_000], [i << 1 for i in range(20_000)])
        b.insert_batch(keys[10_000:], [(i << 1) | (i % 2) for i in range(20_000)])
        found = a.absorb(b, 100)
        self.assertEqual(sorted(found), sorted((keys[10_000 + i], (i << 1) | (i % 2)) for i in range(10_000)))
        self.assertEqual(len(a), 30_000)
        self.assertEqual(a.get(keys[25_000]), ((15_000 + 100) << 1) | 0)  # new key, line shifted
        self.assertEqual(a.get(keys[15_000]), 15_000 << 1)  # known key keeps its first line

    def test_each_table_has_its_own_slot_order(self):
        # The 3 M-row merge took minutes because every table used the same
        # slot function, so one table's slot order piled keys into long probe
        # runs of the other; the benchmark prints the merge time.
        multipliers = {DigestTable()._mult for _ in range(50)}
        self.assertEqual(len(multipliers), 50)
        self.assertTrue(all(m & 1 for m in multipliers))
        table = DigestTable()
        table.insert_batch([3, 5], [2, 4])
        copy = pickle.loads(pickle.dumps(table))
        self.assertEqual((copy._mult, copy.get(3), copy.get(5)), (table._mult, 2, 4))


if __name__ == "__main__":
    unittest.main()
