import json
import subprocess
import sys
import unittest

from glue.tests.helpers import FIXTURE_CONTRACTS, FIXTURES, REPO


def cli(*args):
    done = subprocess.run(
        [sys.executable, "-m", "glue.validate", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout, done.stderr


class CliTest(unittest.TestCase):
    def test_passed_file_exits_0_and_prints_the_report(self):
        code, out, _ = cli("glue/samples/customers.csv", "--key", "incoming/customers/a.csv")
        report = json.loads(out)
        self.assertEqual((code, report["status"], report["rowCount"]), (0, "PASSED", 300))
        self.assertEqual(report["source"], {"file": "glue/samples/customers.csv", "key": "incoming/customers/a.csv", "partitions": 1})

    def test_default_key_is_incoming_plus_file_name(self):
        code, out, _ = cli("glue/samples/orders.jsonl")
        self.assertEqual((code, json.loads(out)["dataset"]), (0, "orders"))

    def test_failed_file_exits_1(self):
        code, out, _ = cli(FIXTURES / "customers_every_rule.csv", "--key", "incoming/customers/x.csv", "--partitions", "5")
        self.assertEqual((code, json.loads(out)["status"]), (1, "FAILED"))
        code, out, _ = cli("glue/samples/customers.csv", "--key", "incoming/nobody/x.csv")
        self.assertEqual((code, json.loads(out)["dataset"]), (1, "unknown"))

    def test_other_contracts_folder(self):
        code, out, _ = cli(FIXTURES / "readings_headerless.psv", "--key", "incoming/readings/r.psv", "--contracts", FIXTURE_CONTRACTS)
        self.assertEqual((code, json.loads(out)["dataset"]), (0, "readings"))

    def test_partitions_give_the_same_report(self):
        _, one, _ = cli(FIXTURES / "orders_bad.jsonl", "--key", "incoming/orders/x.jsonl")
        _, many, _ = cli(FIXTURES / "orders_bad.jsonl", "--key", "incoming/orders/x.jsonl", "--partitions", "9")
        one, many = json.loads(one), json.loads(many)
        self.assertEqual(many.pop("source")["partitions"], 9)
        one.pop("source")
        self.assertEqual(one, many)

    def test_usage_errors_exit_2(self):
        for args, message in [
            ((), "the following arguments are required: file"),
            (("missing.csv",), "is not a readable file"),
            (("glue/samples/customers.csv", "--partitions", "0"), "must be at least 1"),
            (("glue/samples/customers.csv", "--partitions", "x"), "is not an integer"),
            (("glue/samples/customers.csv", "--contracts", "glue/nowhere"), "contracts folder not found"),
            (("glue/samples/customers.csv", "--key", "validated/a.csv"), "--key must start with incoming/"),
            (("glue/samples/customers.csv", "--bogus"), "unrecognized arguments"),
        ]:
            with self.subTest(args=args):
                code, out, err = cli(*args)
                self.assertEqual(code, 2)
                self.assertEqual(out, "")
                self.assertIn(message, err)


if __name__ == "__main__":
    unittest.main()
