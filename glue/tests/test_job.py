import json
import pickle
import unittest

from glue.tests.helpers import CONTRACTS, FIXTURES, SAMPLES, FakeS3, FakeSNS, FakeSparkContext, contracts_zip, message_body
from migration_validation.shuffle import run_spark
from migration_validation.job import JobArgs, RangeTask, load_contracts, parse_s3_uri, partition_count, run_job

TOPIC = "arn:aws:sns:us-west-2:111122223333:validation-results"
_BUCKETS = {}


class FakeClientFactory:
    """Picklable stand-in for ``default_s3_client`` on the executors."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self):
        return _BUCKETS[self.name]


class JobTest(unittest.TestCase):
    def setUp(self):
        self.s3 = FakeS3()
        _BUCKETS[self.id()] = self.s3
        self.addCleanup(_BUCKETS.pop, self.id())
        self.sns = FakeSNS()
        self.s3.add("assets", "contracts.zip", contracts_zip(CONTRACTS))
        self.ranges_seen = []

    def args(self, key, version_id, **changes):
        values = dict(
            bucket="data",
            key=key,
            version_id=version_id,
            correlation_id="corr-1",
            results_topic_arn=TOPIC,
            contracts_uri="s3://assets/contracts.zip",
        )
        values.update(changes)
        return JobArgs(**values)

    def run_job(self, args):
        def spark(records, indexed_ranges, shuffle):
            self.ranges_seen.append([r for _, r in indexed_ranges])
            return run_spark(FakeSparkContext(), records, indexed_ranges, shuffle)

        return run_job(args, self.s3, self.sns, run_partitions=spark, client_factory=FakeClientFactory(self.id()))

    def test_valid_object_is_copied_to_validated_and_announced(self):
        data = (SAMPLES / "customers.csv").read_bytes()
        version = self.s3.add("data", "incoming/customers/2026/a.csv", data)
        self.s3.add("data", "incoming/customers/2026/a.csv", b"a newer upload")
        summary = self.run_job(self.args("incoming/customers/2026/a.csv", version, partition_bytes=4096))
        self.assertEqual(summary["status"], "PASSED")
        self.assertEqual(self.s3.body("data", "validated/customers/2026/a.csv"), data)  # the version asked for
        self.assertEqual(len(self.ranges_seen[0]), 7)  # 27932 bytes / 4096
        report = json.loads(self.s3.body("data", "reports/customers/corr-1.json"))
        self.assertEqual((report["rowCount"], report["status"], report["lineCount"]), (300, "PASSED", 301))
        self.assertEqual(message_body(self.sns.published[0]), summary)
        self.assertEqual(summary["reportKey"], "reports/customers/corr-1.json")
        ranged = [p for name, p in self.s3.calls if name == "get_object" and "Range" in p]
        self.assertTrue(ranged and all(p["VersionId"] == version for p in ranged))

    def test_partitioned_and_single_runs_write_the_same_report(self):
        data = (FIXTURES / "customers_every_rule.csv").read_bytes()
        version = self.s3.add("data", "incoming/customers/x.csv", data)
        self.run_job(self.args("incoming/customers/x.csv", version, correlation_id="one"))
        self.run_job(self.args("incoming/customers/x.csv", version, correlation_id="many", partition_bytes=1000))
        one = json.loads(self.s3.body("data", "reports/customers/one.json"))
        many = json.loads(self.s3.body("data", "reports/customers/many.json"))
        self.assertEqual([len(r) for r in self.ranges_seen], [1, -(-len(data) // 1000)])
        self.assertEqual((one.pop("correlationId"), many.pop("correlationId")), ("one", "many"))
        for report in (one, many):
            report.pop("source")
        self.assertEqual(one, many)
        self.assertEqual(one["status"], "FAILED")

    def test_unknown_dataset_is_quarantined_with_the_reason(self):
        version = self.s3.add("data", "incoming/hr/salaries.csv", b"name,salary\nx,1\n")
        summary = self.run_job(self.args("incoming/hr/salaries.csv", version))
        self.assertEqual((summary["status"], summary["dataset"]), ("FAILED", "unknown"))
        self.assertEqual(summary["destinationKey"], "quarantine/hr/salaries.csv")
        self.assertIn("no dataset contract matches key", summary["reasons"][0])
        self.assertEqual(self.s3.body("data", "quarantine/hr/salaries.csv"), b"name,salary\nx,1\n")
        self.assertIn(("data", "reports/unknown/corr-1.json"), self.s3.objects)
        self.assertEqual(self.ranges_seen, [])  # nothing to partition

    def test_bad_data_is_quarantined_not_raised(self):
        version = self.s3.add("data", "incoming/customers/e.csv", b"")
        summary = self.run_job(self.args("incoming/customers/e.csv", version))
        self.assertEqual((summary["status"], summary["reasons"]), ("FAILED", ["the file is empty (0 bytes)"]))
        self.assertEqual(self.sns.published[0]["MessageAttributes"]["status"]["StringValue"], "FAILED")

    def test_missing_version_id_is_pinned_from_head_object(self):
        data = (SAMPLES / "orders.jsonl").read_bytes()
        version = self.s3.add("data", "incoming/orders/o.jsonl", data)
        summary = self.run_job(self.args("incoming/orders/o.jsonl", None))
        self.assertEqual(summary["versionId"], version)
        copy = next(p for name, p in self.s3.calls if name == "copy_object")
        self.assertEqual(copy["CopySource"]["VersionId"], version)


class JobPiecesTest(unittest.TestCase):
    def test_s3_uri_and_partition_count(self):
        self.assertEqual(parse_s3_uri("s3://bucket/a/b.zip"), ("bucket", "a/b.zip"))
        for bad in ("bucket/key", "s3://bucket", "s3:///key", "s3://bucket/"):
            with self.assertRaises(ValueError):
                parse_s3_uri(bad)
        self.assertEqual(partition_count(0, 100, 8), 1)
        self.assertEqual(partition_count(250, 100, 8), 3)
        self.assertEqual(partition_count(10_000, 100, 8), 8)

    def test_contracts_are_read_from_the_zip_asset(self):
        s3 = FakeS3()
        s3.add("assets", "abc.zip", contracts_zip(CONTRACTS))
        self.assertEqual(sorted(c.name for c in load_contracts(s3, "s3://assets/abc.zip")), ["customers", "orders", "smoke"])

    def test_range_task_holds_no_client(self):
        task = RangeTask(None, "b", "k", "v", 10, client_factory=partition_count)
        self.assertEqual(pickle.loads(pickle.dumps(task)).bucket, "b")


if __name__ == "__main__":
    unittest.main()
