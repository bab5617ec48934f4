import json
import unittest

from glue.tests.helpers import FakeS3, FakeSNS, message_body
from migration_validation.actions import (
    MAX_SINGLE_COPY_BYTES,
    CopyNotConfirmed,
    build_summary,
    delete_version,
    destination_key,
    publish_summary,
    report_key,
    settle,
)

TOPIC = "arn:aws:sns:us-west-2:111122223333:validation-results"


def report(status="PASSED", dataset="customers", reasons=()):
    return {"status": status, "dataset": dataset, "reasons": list(reasons), "rowCount": 300, "errorRows": 2}


class KeysTest(unittest.TestCase):
    def test_destination_keeps_the_path_below_incoming(self):
        args = ("incoming/", "validated/", "quarantine/")
        self.assertEqual(destination_key("incoming/crm/a b.csv", "PASSED", *args), "validated/crm/a b.csv")
        self.assertEqual(destination_key("incoming/crm/a.csv", "FAILED", *args), "quarantine/crm/a.csv")
        self.assertEqual(destination_key("elsewhere/a.csv", "FAILED", *args), "quarantine/elsewhere/a.csv")
        self.assertEqual(destination_key("in/a.csv", "PASSED", "in", "ok", "bad"), "ok/a.csv")

    def test_report_key_and_correlation_id_check(self):
        self.assertEqual(report_key("reports/", "orders", "abc-123"), "reports/orders/abc-123.json")
        for bad in ("", "../x", "a/b", "x" * 200):
            with self.assertRaises(ValueError):
                report_key("reports/", "orders", bad)


class SummaryTest(unittest.TestCase):
    def test_sns_message_format(self):
        sns = FakeSNS()
        summary = build_summary(
            report("FAILED", reasons=["row count 0 is below min_rows 1"]),
            bucket="data",
            key="incoming/customers/a.csv",
            version_id="v7",
            correlation_id="c-1",
            report_key="reports/customers/c-1.json",
            destination_key="quarantine/customers/a.csv",
        )
        self.assertEqual(publish_summary(sns, TOPIC, summary), "m1")
        (published,) = sns.published
        self.assertEqual(published["TopicArn"], TOPIC)
        self.assertEqual(
            published["MessageAttributes"],
            {
                "status": {"DataType": "String", "StringValue": "FAILED"},
                "dataset": {"DataType": "String", "StringValue": "customers"},
                "correlationId": {"DataType": "String", "StringValue": "c-1"},
            },
        )
        self.assertEqual(
            message_body(published),
            {
                "schemaVersion": 1,
                "status": "FAILED",
                "dataset": "customers",
                "correlationId": "c-1",
                "bucket": "data",
                "key": "incoming/customers/a.csv",
                "versionId": "v7",
                "reportKey": "reports/customers/c-1.json",
                "destinationKey": "quarantine/customers/a.csv",
                "rowCount": 300,
                "errorRows": 2,
                "reasons": ["row count 0 is below min_rows 1"],
            },
        )

    def test_reasons_are_bounded_for_the_message_size_limit(self):
        many = [f"reason {i} " + "x" * 1000 for i in range(30)]
        summary = build_summary(report("FAILED", reasons=many), bucket="b", key="k", version_id=None, correlation_id="c", report_key="r", destination_key="d")
        self.assertEqual(len(summary["reasons"]), 10)
        self.assertTrue(all(len(r) <= 500 for r in summary["reasons"]))
        self.assertEqual(summary["reasons"][-1], "... and 21 more in the report")


class SettleTest(unittest.TestCase):
    def setUp(self):
        self.s3 = FakeS3()
        self.sns = FakeSNS()
        self.version = self.s3.add("data", "incoming/customers/a.csv", b"id\n1\n")

    def settle(self, status="PASSED", **kwargs):
        return settle(
            self.s3,
            self.sns,
            report(status),
            bucket="data",
            key="incoming/customers/a.csv",
            version_id=self.version,
            size=5,
            correlation_id="c-1",
            topic_arn=TOPIC,
            **kwargs,
        )

    def test_report_then_copy_then_confirm_then_publish_and_no_delete_by_default(self):
        summary = self.settle()
        self.assertEqual(self.s3.names(), ["put_object", "copy_object", "head_object"])
        put, copy, head = (params for _, params in self.s3.calls)
        self.assertEqual((put["Key"], put["ContentType"]), ("reports/customers/c-1.json", "application/json"))
        self.assertEqual(copy["CopySource"], {"Bucket": "data", "Key": "incoming/customers/a.csv", "VersionId": self.version})
        self.assertEqual(copy["Key"], "validated/customers/a.csv")
        self.assertEqual(head["Key"], "validated/customers/a.csv")
        self.assertIn("VersionId", head)  # the version the copy created
        self.assertEqual(len(self.sns.published), 1)
        self.assertEqual(summary["destinationKey"], "validated/customers/a.csv")
        written = json.loads(self.s3.body("data", "reports/customers/c-1.json"))
        self.assertEqual(written["source"]["versionId"], self.version)
        self.assertEqual(written["destinationKey"], "validated/customers/a.csv")
        # The object's identity at the top level, named as in the published summary.
        for field in ("correlationId", "bucket", "key", "versionId", "destinationKey"):
            self.assertEqual(written[field], summary[field], field)
        self.assertEqual(
            (written["correlationId"], written["bucket"], written["key"]), ("c-1", "data", "incoming/customers/a.csv")
        )
        self.assertEqual((written["status"], written["rowCount"]), ("PASSED", 300))
        self.assertEqual(len(self.s3.objects[("data", "incoming/customers/a.csv")]), 1)

    def test_delete_only_after_the_copy_is_confirmed_and_published(self):
        self.settle("FAILED", delete_source=True)
        self.assertEqual(self.s3.names(), ["put_object", "copy_object", "head_object", "delete_object"])
        self.assertEqual(self.s3.calls[-1][1], {"Bucket": "data", "Key": "incoming/customers/a.csv", "VersionId": self.version})
        self.assertEqual(self.s3.body("data", "quarantine/customers/a.csv"), b"id\n1\n")
        self.assertEqual(len(self.sns.published), 1)

    def test_unconfirmed_copy_stops_before_publish_and_delete(self):
        self.s3.copy_length_override = 0
        with self.assertRaisesRegex(CopyNotConfirmed, "has 0 bytes, the source has 5"):
            self.settle(delete_source=True)
        self.assertNotIn("delete_object", self.s3.names())
        self.assertEqual(self.sns.published, [])

    def test_delete_refuses_without_a_confirmed_copy_or_version(self):
        with self.assertRaises(CopyNotConfirmed):
            delete_version(self.s3, "data", "incoming/customers/a.csv", self.version, {})
        self.assertFalse(delete_version(self.s3, "data", "incoming/customers/a.csv", None, {"ContentLength": 5}))
        self.assertNotIn("delete_object", self.s3.names())

    def test_objects_over_5_gib_use_a_multipart_copy(self):
        self.s3.objects[("data", "big.csv")] = [("v9", b"x")]
        from migration_validation.actions import copy_version

        self.s3.copy_length_override = MAX_SINGLE_COPY_BYTES + 1
        self.s3.attributes[("data", "big.csv", "v9")] = {
            "Metadata": {"source-system": "crm"},
            "ContentType": "text/csv",
            "TagSet": [{"Key": "owner", "Value": "team a"}, {"Key": "pii", "Value": "yes"}],
        }
        head = copy_version(self.s3, "data", "big.csv", "v9", "validated/big.csv", MAX_SINGLE_COPY_BYTES + 1)
        self.assertEqual(self.s3.names(), ["head_object", "get_object_tagging", "copy", "head_object"])
        self.assertEqual(self.s3.calls[1][1], {"Bucket": "data", "Key": "big.csv", "VersionId": "v9"})
        self.assertEqual(head["ContentLength"], MAX_SINGLE_COPY_BYTES + 1)
        copy_version_id = self.s3.objects[("data", "validated/big.csv")][-1][0]
        self.assertEqual(self.s3.attributes[("data", "validated/big.csv", copy_version_id)], self.s3.attributes[("data", "big.csv", "v9")])

    def test_a_multipart_copy_that_loses_metadata_is_not_confirmed(self):
        from migration_validation.actions import copy_version

        self.s3.objects[("data", "big.csv")] = [("v9", b"x")]
        self.s3.attributes[("data", "big.csv", "v9")] = {"Metadata": {"a": "1"}}
        self.s3.copy_length_override = MAX_SINGLE_COPY_BYTES + 1
        original = self.s3.copy
        self.s3.copy = lambda source, bucket, key, ExtraArgs=None: original(source, bucket, key)
        with self.assertRaises(CopyNotConfirmed):
            copy_version(self.s3, "data", "big.csv", "v9", "validated/big.csv", MAX_SINGLE_COPY_BYTES + 1)


if __name__ == "__main__":
    unittest.main()
