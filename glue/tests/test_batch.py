"""A batch of objects validated in one Spark job (Spark-free, through the fake
RDD): each object keeps its own correlation id, report, copy and message, and a
bad object fails only itself."""

import json
import unittest

from glue.tests.helpers import CONTRACTS, FIXTURE_CONTRACTS, FIXTURES, SAMPLES, FakeS3, FakeSNS, FakeSparkContext, contracts_zip, message_body
from glue.tests.test_job import _BUCKETS, FakeClientFactory
from migration_validation.job import BatchArgs, BatchIncomplete, JobArgs, parse_objects, run_batch, run_job
from migration_validation.shuffle import run_spark

TOPIC = "arn:aws:sns:us-west-2:111122223333:validation-results"


class BrokenReads(FakeS3):
    """Ranged reads of one key fail (an object that vanished mid-run)."""

    broken = "incoming/customers/gone.csv"

    def get_object(self, **params):
        if params["Key"] == self.broken and params.get("Range", "bytes=0-") != "bytes=0-":
            raise IOError("connection reset")
        return super().get_object(**params)


class BatchJobTest(unittest.TestCase):
    def setUp(self):
        self.s3 = BrokenReads()
        _BUCKETS[self.id()] = self.s3
        self.addCleanup(_BUCKETS.pop, self.id())
        self.sns = FakeSNS()
        self.s3.add("assets", "contracts.zip", contracts_zip(CONTRACTS, FIXTURE_CONTRACTS))
        self.spark_jobs = 0

    def spark(self, records, items, shuffle):
        self.spark_jobs += 1
        return run_spark(FakeSparkContext(), records, items, shuffle)

    def args(self, objects, **changes):
        values = dict(objects=objects, results_topic_arn=TOPIC, contracts_uri="s3://assets/contracts.zip", partition_bytes=3000)
        values.update(changes)
        return BatchArgs(**values)

    def add(self, key, path):
        return self.s3.add("data", key, path.read_bytes())

    def test_each_object_keeps_its_own_report_copy_and_message(self):
        files = [
            ("incoming/customers/good.csv", SAMPLES / "customers.csv", "c-good"),
            ("incoming/customers/bad.csv", FIXTURES / "customers_every_rule.csv", "c-bad"),
            ("incoming/orders/o.jsonl", SAMPLES / "orders.jsonl", "c-orders"),
            ("incoming/hr/unknown.csv", SAMPLES / "customers.csv", "c-unknown"),
            ("incoming/tickets/t.csv", FIXTURES / "tickets_multiline.csv", "c-tickets"),
        ]
        refs = parse_objects([
            {"bucket": "data", "key": key, "versionId": self.add(key, path), "correlationId": cid} for key, path, cid in files
        ])
        summaries = run_batch(self.args(refs), self.s3, self.sns, self.spark, FakeClientFactory(self.id()))
        self.assertEqual(self.spark_jobs, 1)  # one Spark job for every range of every object
        self.assertEqual([s["correlationId"] for s in summaries], [cid for _, _, cid in files])
        self.assertEqual([s["status"] for s in summaries], ["PASSED", "FAILED", "PASSED", "FAILED", "PASSED"])
        self.assertEqual([message_body(m)["correlationId"] for m in self.sns.published], [cid for _, _, cid in files])
        self.assertEqual(self.s3.body("data", "quarantine/customers/bad.csv"), (FIXTURES / "customers_every_rule.csv").read_bytes())
        # Every report equals the one a single-object run writes.
        for (key, path, cid), summary in zip(files, summaries):
            single_s3 = FakeS3()
            single_s3.add("assets", "contracts.zip", contracts_zip(CONTRACTS, FIXTURE_CONTRACTS))
            version = single_s3.add("data", key, path.read_bytes())
            _BUCKETS["single"] = single_s3
            job = JobArgs(bucket="data", key=key, version_id=version, correlation_id=cid, results_topic_arn=TOPIC,
                          contracts_uri="s3://assets/contracts.zip")
            run_job(job, single_s3, FakeSNS(), client_factory=FakeClientFactory("single"))
            single = json.loads(single_s3.body("data", summary["reportKey"]))
            batch = json.loads(self.s3.body("data", summary["reportKey"]))
            for report in (single, batch):
                report.pop("versionId"), report.pop("source")
            self.assertEqual(batch, single, key)

    def test_an_object_that_cannot_be_read_fails_alone_after_the_others_are_settled(self):
        refs = parse_objects([
            {"bucket": "data", "key": "incoming/customers/a.csv", "versionId": self.add("incoming/customers/a.csv", SAMPLES / "customers.csv"), "correlationId": "c-a"},
            {"bucket": "data", "key": "incoming/customers/missing.csv", "versionId": None, "correlationId": "c-missing"},
            {"bucket": "data", "key": BrokenReads.broken, "versionId": self.add(BrokenReads.broken, SAMPLES / "customers.csv"), "correlationId": "c-gone"},
            {"bucket": "data", "key": "incoming/orders/o.jsonl", "versionId": self.add("incoming/orders/o.jsonl", SAMPLES / "orders.jsonl"), "correlationId": "c-o"},
        ])
        with self.assertRaises(BatchIncomplete) as caught:
            run_batch(self.args(refs), self.s3, self.sns, self.spark, FakeClientFactory(self.id()))
        self.assertEqual(sorted(caught.exception.errors), ["c-gone", "c-missing"])
        self.assertIn("connection reset", caught.exception.errors["c-gone"])
        self.assertEqual([s and s["status"] for s in caught.exception.summaries], ["PASSED", None, None, "PASSED"])
        self.assertEqual(sorted(message_body(m)["correlationId"] for m in self.sns.published), ["c-a", "c-o"])
        self.assertNotIn(("data", "validated/customers/gone.csv"), self.s3.objects)

    def test_unique_keys_do_not_leak_between_objects(self):
        data = (SAMPLES / "customers.csv").read_bytes()
        refs = parse_objects([
            {"bucket": "data", "key": f"incoming/customers/{n}.csv", "versionId": self.s3.add("data", f"incoming/customers/{n}.csv", data), "correlationId": n}
            for n in ("one", "two")
        ])
        summaries = run_batch(self.args(refs), self.s3, self.sns, self.spark, FakeClientFactory(self.id()))
        self.assertEqual([(s["status"], s["errorRows"]) for s in summaries], [("PASSED", 0), ("PASSED", 0)])


class ObjectsArgumentTest(unittest.TestCase):
    def test_objects_are_checked_with_clear_errors(self):
        good = {"bucket": "b", "key": "incoming/a.csv", "versionId": None, "correlationId": "c1"}
        self.assertEqual(parse_objects([good])[0].key, "incoming/a.csv")
        self.assertIsNone(parse_objects([dict(good, versionId="null")])[0].version_id)
        for doc, message in [
            ([], "non-empty JSON list"),
            ([dict(good, key="")], "objects[0].key must be a non-empty string"),
            ([dict(good, extra=1)], "unknown field(s) extra"),
            ([good, good], "appears twice"),
            ([dict(good, versionId=3)], "versionId must be a string or null"),
        ]:
            with self.subTest(message=message):
                with self.assertRaises(ValueError) as caught:
                    parse_objects(doc)
                self.assertIn(message, str(caught.exception))


if __name__ == "__main__":
    unittest.main()
