"""Multiline CSV files are split into ranges too, and the merge stays exact:
the merged partition reports equal the one-pass report for many splits, with
boundaries mid-line and mid-quoted-field."""

import random
import unittest

from glue.tests.helpers import BytesReader, FakeSparkContext, run
from migration_validation import parse_contract, plan_file, split_ranges, validate_range
from migration_validation.job import PartitionRecords, run_ranges
from migration_validation.ranges import guess_record_start
from migration_validation.shuffle import UniqueShuffle, run_spark

TICKETS = parse_contract(
    {
        "name": "tickets",
        "keys": ["incoming/tickets/*"],
        "format": {"type": "csv", "multiline": True},
        "columns": [
            {"name": "id", "type": "integer", "required": True, "unique": True},
            {"name": "subject", "type": "string", "required": True, "max_length": 12, "unique": True},
            {"name": "body", "type": "string", "pattern": "[^#]*"},
        ],
        "max_error_ratio": 1,
        "max_line_bytes": 200,
    },
    "test",
)
KEY = "incoming/tickets/t.csv"
PIECES = ["a", "b,c", "\n", '""', "x\r\n", "#", ",", '","', '"\n"', "é", "9,\"q\",z\n"]


def random_file(rnd: random.Random, rows: int) -> bytes:
    lines = [b"id,subject,body"]
    for _ in range(rows):
        ident = rnd.randint(1, rows)
        subject = rnd.choice(["Printer", "VPN", "Login", "a,b", "", "x" * 20])
        body = "".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 8)))
        roll = rnd.random()
        if roll < 0.05:
            lines.append(b"%d,%s" % (ident, subject.encode()))  # field_count
        elif roll < 0.08:
            lines.append(b"")  # blank
        elif roll < 0.1:
            lines.append(b'%d,"unclosed %s' % (ident, subject.encode()))  # quote left open
        elif roll < 0.12:
            lines.append(b"%d,\xff,x" % ident)  # invalid UTF-8
        elif roll < 0.13:
            lines.append(b"%d,long,%s" % (ident, b"z" * 250))  # line_too_long
        else:
            quoted = '"' + body.replace('"', '""') + '"'
            subject_field = '"' + subject.replace('"', '""') + '"' if "," in subject else subject
            lines.append(f"{ident},{subject_field},{quoted}".encode())
    return b"\n".join(lines) + rnd.choice([b"\n", b"", b"\r\n"])


class MultilineSplitTest(unittest.TestCase):
    def test_split_reports_equal_the_one_pass_report(self):
        rnd = random.Random(20261205)
        for trial in range(40):
            data = random_file(rnd, rnd.randint(0, 60))
            whole = run(data, [TICKETS], KEY)
            for partitions in (2, 3, 7, 19, 64):
                chunk = rnd.choice([16, 64, 1 << 16])
                with self.subTest(trial=trial, partitions=partitions, chunk=chunk):
                    self.assertEqual(run(data, [TICKETS], KEY, partitions, chunk), whole)

    def test_the_job_plan_checks_boundaries_and_reruns_a_wrong_guess(self):
        rnd = random.Random(7)
        runs = {"calls": 0, "files": 0, "missed": 0}
        for trial in range(40):
            data = random_file(rnd, rnd.randint(5, 60))
            whole = run(data, [TICKETS], KEY)
            plan, failed = plan_file(TICKETS, BytesReader(data), len(data))
            self.assertIsNone(failed)
            partitions = rnd.randint(2, 30)

            def spark(records, indexed_ranges, shuffle):
                runs["calls"] += 1
                return run_spark(FakeSparkContext(), records, indexed_ranges, shuffle)

            shuffle = UniqueShuffle(TICKETS.sample_size)
            records = PartitionRecords(_Validate(plan, data), shuffle)
            before = runs["calls"]
            report = run_ranges(spark, records, split_ranges(len(data), partitions), shuffle)
            runs["files"] += 1
            runs["missed"] += runs["calls"] - before > 1
            self.assertEqual(report.to_dict(), whole, (trial, partitions))
        # The bodies hold CSV-looking text after newlines, so some guesses miss:
        # the re-run path is exercised, not just the happy one.
        self.assertGreater(runs["missed"], 0, runs)

    def test_a_range_starting_mid_quoted_field_skips_to_the_next_record(self):
        data = b'id,subject,body\n1,A,"one\ntwo, ""three""\nfour"\n2,B,x\n'
        inside = data.index(b"two")
        self.assertEqual(guess_record_start(BytesReader(data), len(data), inside, b'"', b","), data.index(b"2,B"))
        self.assertEqual(guess_record_start(BytesReader(data), len(data), data.index(b"1,A"), b'"', b","), data.index(b"1,A"))
        plan, _ = plan_file(TICKETS, BytesReader(data), len(data))
        first = validate_range(plan, BytesReader(data), len(data), 0, inside)
        self.assertEqual((first.rows, first.lines, first.record_end), (1, 4, data.index(b"2,B")))  # read past its end


class _Validate:
    def __init__(self, plan, data):
        self.plan, self.data = plan, data

    def __call__(self, byte_range):
        start, end, *first = byte_range
        return validate_range(self.plan, BytesReader(self.data), len(self.data), start, end, first_record=(first or [None])[0])


if __name__ == "__main__":
    unittest.main()
