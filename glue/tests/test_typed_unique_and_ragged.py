"""``unique`` on integer columns compares numbers; ragged CSV with optional trailing columns."""

import unittest

from glue.tests.helpers import contract, run
from migration_validation import ContractError
from migration_validation.digests import canonical_integers

KEY = "incoming/t/x.csv"


class TypedUniqueTest(unittest.TestCase):
    def test_integer_spellings_of_one_number_are_one_key(self):
        data = b"id,code,amount\n1,AB1,1\n01,AB2,1\n+1,AB3,1\n-0,AB4,1\n0,AB5,1\n" + b"9" * 5000 + b",AB6,1\n0" + b"9" * 5000 + b",AB7,1\n"
        for partitions in (1, 3):
            report = run(data, [contract(max_line_bytes=8192)], KEY, partitions)
            self.assertEqual(report["ruleCounts"]["id"]["unique"], 4, partitions)  # 01, +1, 0 (after -0), 09...9
            self.assertEqual(report["uniqueKeys"]["id"], 3)
            self.assertEqual([s["line"] for s in report["sample"]], [3, 4, 6, 8])

    def test_text_columns_still_compare_text(self):
        data = b"id,code,amount\n1,AB01,1\n2,AB1,1\n"
        report = run(data, [contract()], KEY)
        self.assertEqual(report["ruleCounts"]["code"]["unique"], 0)

    def test_canonical_form(self):
        self.assertEqual(canonical_integers(["7", "007", "+7", "-7", "-007", "-0", "+0", "0", "x1", "", "1.0"]),
                         ["7", "7", "7", "-7", "-7", "0", "0", "0", "x1", "", "1.0"])


class RaggedCsvTest(unittest.TestCase):
    def ragged(self, **format_changes):
        return contract(format={"type": "csv", "min_fields": 1, **format_changes})

    def test_missing_trailing_fields_are_missing_values(self):
        data = b"id,code,amount\n1\n2,AB2\n3,AB3,5\n,AB4\n5,AB5,1,extra\n"
        report = run(data, [self.ragged()], KEY)
        self.assertEqual(report["rowCount"], 5)
        self.assertEqual(report["ruleCounts"]["id"]["required"], 1)  # the line ",AB4"
        self.assertEqual(report["ruleCounts"]["_row"]["field_count"], 1)
        extra = [s for s in report["sample"] if s["line"] == 6][0]
        self.assertEqual(extra["failures"][0]["detail"], "expected 1 to 3 fields, found 4")
        self.assertEqual(run(data, [self.ragged()], KEY, partitions=4), report)

    def test_without_min_fields_short_lines_fail(self):
        report = run(b"id,code,amount\n1\n", [contract()], KEY)
        self.assertEqual(report["ruleCounts"]["_row"]["field_count"], 1)

    def test_min_fields_is_checked_at_load(self):
        with self.assertRaises(ContractError) as caught:
            self.ragged(min_fields=4)
        self.assertIn("min_fields 4 is more than the 3 columns", str(caught.exception))
        with self.assertRaises(ContractError):
            self.ragged(min_fields=0)


if __name__ == "__main__":
    unittest.main()
