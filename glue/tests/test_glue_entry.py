import importlib.util
import sys
import unittest

from glue.tests.helpers import GLUE


def load_entry():
    spec = importlib.util.spec_from_file_location("validate_object", GLUE / "jobs" / "validate_object.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class GlueEntryTest(unittest.TestCase):
    OPTIONS = {
        "JOB_NAME": "validation",
        "bucket": "data",
        "key": "incoming/customers/a.csv",
        "version_id": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
        "correlation_id": "c-1",
        "results_topic_arn": "arn:aws:sns:us-west-2:111122223333:results",
        "contracts_uri": "s3://assets/contracts.zip",
        "reports_prefix": "reports/",
        "validated_prefix": "validated/",
        "quarantine_prefix": "quarantine/",
    }

    def test_imports_without_awsglue_or_pyspark(self):
        module = load_entry()
        self.assertTrue(callable(module.main))
        self.assertNotIn("awsglue", sys.modules)
        self.assertNotIn("pyspark", sys.modules)

    def test_job_arguments(self):
        module = load_entry()
        args = module.to_job_args(self.OPTIONS)
        self.assertEqual((args.bucket, args.version_id, args.delete_source), ("data", self.OPTIONS["version_id"], False))
        self.assertEqual((args.incoming_prefix, args.partition_bytes), ("incoming/", 64 * 1024 * 1024))
        unversioned = module.to_job_args(dict(self.OPTIONS, version_id="null", delete_source="TRUE", partition_bytes="1000"))
        self.assertEqual((unversioned.version_id, unversioned.delete_source, unversioned.partition_bytes), (None, True, 1000))
        with self.assertRaises(ValueError):
            module.to_job_args(dict(self.OPTIONS, delete_source="maybe"))

    def test_batch_arguments(self):
        module = load_entry()
        common = {k: v for k, v in self.OPTIONS.items() if k not in module.SINGLE}
        objects = '[{"bucket": "data", "key": "incoming/a.csv", "versionId": null, "correlationId": "c-1"}]'
        options = dict(common, objects=objects, partition_bytes="5000")
        self.assertTrue(module.is_batch(options))
        args = module.to_batch_args(options)
        self.assertEqual((args.objects[0].key, args.objects[0].version_id, args.partition_bytes), ("incoming/a.csv", None, 5000))
        self.assertFalse(module.is_batch(self.OPTIONS))  # the single-object arguments keep working
        for options, message in [
            (dict(self.OPTIONS, objects=objects), "not both"),
            (common, "missing --bucket"),
            (dict(common, objects="[{"), "--objects is not valid JSON"),
        ]:
            with self.subTest(message=message):
                with self.assertRaises(ValueError) as caught:
                    module.is_batch(options) and module.to_batch_args(options)
                self.assertIn(message, str(caught.exception))

    def test_only_given_optional_arguments_are_resolved(self):
        module = load_entry()
        argv = ["script.py", "--JOB_NAME", "j", "--delete_source", "true", "--bucket", "b"]
        self.assertEqual(module.optional_args(argv), ["bucket", "delete_source"])


if __name__ == "__main__":
    unittest.main()
