"""Any byte sequence and any JSON escape gives a clean PASSED or FAILED with reasons,
and nothing downstream (digests, sample, report upload, SNS, CLI) raises or
writes invalid UTF-8."""

import json
import random
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from glue.tests.helpers import REPO, FakeS3, FakeSNS, contract, run
from migration_validation import parse_contract
from migration_validation.actions import settle
from migration_validation.digests import json_digests, text_digests

JSONL = parse_contract(
    {
        "name": "j",
        "keys": ["incoming/j/*"],
        "format": {"type": "jsonl"},
        "columns": [
            {"name": "id", "type": "string", "unique": True, "pattern": "[a-z]+"},
            {"name": "n", "type": "integer", "unique": True},
            {"name": "d", "type": "decimal", "allowed": ["1.5"]},
        ],
        "sample_size": 50,
    },
    "test",
)
CSV = contract(sample_size=50)

JSON_PIECES = [
    '"\\ud800"', '"\\udfff"', '"a\\ud800b"', '"\\u0000"', '"\\ud83d\\ude00"', '"\\ud83d"', '"x"', "1", "1.5", "null",
    "1e999", "-0", "true", '{"\\ud800": 1}', "[1, \"\\udc80\"]", '"' + "\\\\" * 3 + '"', "NaN", "Infinity",
]


def utf8_json_ok(test, document: dict) -> None:
    text = json.dumps(document, ensure_ascii=False)
    text.encode("utf-8")  # raises on a lone surrogate
    test.assertIn(document["status"], ("PASSED", "FAILED"))
    if document["status"] == "FAILED":
        test.assertTrue(document["reasons"])


class AnyInputTest(unittest.TestCase):
    def test_lone_surrogates_in_unique_columns_are_keys_like_any_other(self):
        data = b'{"id": "\\ud800", "n": 1}\n{"id": "\\ud800", "n": 2}\n{"id": "\\udc00", "n": 3}\n'
        report = run(data, [JSONL], "incoming/j/x.jsonl")
        utf8_json_ok(self, report)
        self.assertEqual(report["ruleCounts"]["id"]["unique"], 1)  # the repeat of \ud800, not \udc00
        self.assertEqual(report["uniqueKeys"]["id"], 2)
        pattern_fail = [f for s in report["sample"] for f in s["failures"] if f["rule"] == "pattern"]
        self.assertEqual({f["value"] for f in pattern_fail}, {"\\ud800", "\\udc00"})  # shown as escape text
        self.assertNotEqual(json_digests(["\ud800"]), json_digests(["\udc00"]))
        self.assertNotEqual(text_digests(["\ud800"]), text_digests(["\udc00"]))

    def test_random_json_escapes_and_bytes(self):
        rnd = random.Random(77)
        for trial in range(150):
            lines = []
            for _ in range(rnd.randint(1, 30)):
                roll = rnd.random()
                if roll < 0.7:
                    fields = {k: rnd.choice(JSON_PIECES) for k in rnd.sample(["id", "n", "d", "\\ud800"], rnd.randint(0, 4))}
                    lines.append(("{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}").encode("utf-8"))
                elif roll < 0.85:
                    lines.append(rnd.randbytes(rnd.randint(0, 20)))
                else:
                    lines.append(rnd.choice([b"\x00", b"\xed\xa0\x80", b"\xff\xfe", b'"\\ud800"', b"[", b"{\"id\": \"a\"}\r"]))
            data = b"\n".join(lines)
            for partitions in (1, 4):
                with self.subTest(trial=trial, partitions=partitions):
                    report = run(data, [JSONL], "incoming/j/x.jsonl", partitions)
                    utf8_json_ok(self, report)
                    self.assertEqual(report, run(data, [JSONL], "incoming/j/x.jsonl"))

    def test_random_bytes_as_csv(self):
        rnd = random.Random(78)
        for trial in range(150):
            body = bytes(rnd.choice(b'ab1,."\n\r\x00\xff\xc3\xa9 ') for _ in range(rnd.randint(0, 300)))
            data = b"id,code,amount\n" + body
            for partitions in (1, 3):
                with self.subTest(trial=trial, partitions=partitions):
                    report = run(data, [CSV], "incoming/t/x.csv", partitions)
                    utf8_json_ok(self, report)

    def test_report_upload_and_message_are_valid_utf8(self):
        data = b'{"id": "\\ud800", "n": 1, "\\udfff": 2}\n'
        report = run(data, [JSONL], "incoming/j/x.jsonl")
        s3, sns = FakeS3(), FakeSNS()
        s3.add("b", "incoming/j/x.jsonl", data)
        settle(s3, sns, report, bucket="b", key="incoming/j/x.jsonl", version_id=None, size=len(data),
               correlation_id="c1", topic_arn="arn:aws:sns:us-east-1:111122223333:t")
        body = s3.body("b", "reports/j/c1.json").decode("utf-8")  # strict
        self.assertIn("unexpected field(s): \\\\udfff", body)
        sns.published[0]["Message"].encode("utf-8")

    def test_cli_writes_valid_utf8(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "x.jsonl"
            path.write_bytes(b'{"order_id": "\\ud800"}\n')
            done = subprocess.run(
                [sys.executable, "-m", "glue.validate", str(path), "--key", "incoming/orders/x.jsonl"],
                cwd=REPO, capture_output=True, timeout=120, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
            )
        self.assertEqual(done.returncode, 1, done.stderr)
        report = json.loads(done.stdout.decode("utf-8"))
        self.assertEqual(report["status"], "FAILED")


if __name__ == "__main__":
    unittest.main()
