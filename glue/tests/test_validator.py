import csv
import io
import unittest

from glue.tests.helpers import FIXTURES, SAMPLES, contract, run, run_file, shipped_contracts
from migration_validation import parse_contract

CUSTOMERS_KEY = "incoming/customers/export.csv"
ORDERS_KEY = "incoming/orders/day.jsonl"


def fixture(name: str, key: str = CUSTOMERS_KEY, **kwargs) -> dict:
    return run_file(FIXTURES / name, key, **kwargs)


class SamplesTest(unittest.TestCase):
    def test_customers_sample_passes_every_rule(self):
        report = run_file(SAMPLES / "customers.csv", CUSTOMERS_KEY)
        self.assertEqual((report["status"], report["reasons"]), ("PASSED", []))
        self.assertEqual((report["rowCount"], report["lineCount"], report["errorRows"]), (300, 301, 0))
        self.assertEqual(report["uniqueKeys"], {"customer_id": 300, "email": 300})
        self.assertEqual(report["checksum"]["algorithm"], "crc32")
        self.assertTrue(all(n == 0 for counts in report["ruleCounts"].values() for n in counts.values()))

    def test_orders_sample_passes_every_rule(self):
        report = run_file(SAMPLES / "orders.jsonl", ORDERS_KEY)
        self.assertEqual((report["status"], report["rowCount"], report["errorRows"]), ("PASSED", 200, 0))


class BadInputTest(unittest.TestCase):
    """Every bad input gives a FAILED report with a reason; none raises."""

    def test_empty_file(self):
        report = fixture("empty.csv")
        self.assertEqual(report["status"], "FAILED")
        self.assertEqual(report["reasons"], ["the file is empty (0 bytes)"])
        self.assertEqual(report["structural"]["counts"], {"empty_file": 1})

    def test_key_no_contract_covers(self):
        report = run_file(SAMPLES / "customers.csv", "incoming/hr/salaries.csv")
        self.assertEqual((report["status"], report["dataset"]), ("FAILED", "unknown"))
        self.assertIn("no dataset contract matches key 'incoming/hr/salaries.csv'", report["reasons"][0])

    def test_header_mismatch_names_the_columns(self):
        report = fixture("customers_bad_header.csv")
        self.assertEqual(report["status"], "FAILED")
        self.assertEqual(
            report["reasons"],
            ["header does not match the contract: missing column(s) 'email'; unexpected column(s) 'e_mail', 'extra'"],
        )

    def test_header_only_file_fails_min_rows(self):
        report = fixture("header_only.csv")
        self.assertEqual((report["status"], report["reasons"]), ("FAILED", ["row count 0 is below min_rows 1"]))

    def test_wrong_delimiter_is_detected_and_named(self):
        report = fixture("customers_semicolon.csv")
        self.assertEqual(report["structural"]["counts"], {"wrong_delimiter": 1})
        self.assertIn("splits into 8 fields on ';'", report["reasons"][0])
        self.assertIn("the contract's delimiter", report["reasons"][0])
        headerless = fixture("readings_commas.psv", "incoming/readings/r.psv")
        self.assertIn("the first line splits into 3 fields on ','", headerless["reasons"][0])

    def test_invalid_utf8_gives_line_and_byte_offset(self):
        data = (FIXTURES / "customers_invalid_utf8.csv").read_bytes()
        bad_byte = data.index(b"\xe9")
        report = fixture("customers_invalid_utf8.csv")
        self.assertEqual(report["status"], "FAILED")
        issue = report["structural"]["issues"][0]
        self.assertEqual((issue["kind"], issue["line"], issue["offset"]), ("invalid_utf8", 35, bad_byte))
        self.assertIn(f"first at line 35, byte {bad_byte}", report["reasons"][0])
        self.assertEqual(report["rowCount"], 59)  # the bad line is not a row

    def test_invalid_utf8_in_the_header(self):
        data = b"customer_id,e\xffmail\n1,a@b.co\n"
        report = run(data, shipped_contracts(), CUSTOMERS_KEY)
        self.assertEqual(report["structural"]["counts"], {"invalid_utf8": 1})
        self.assertIn("byte 0xff at byte offset 13 (line 1)", report["reasons"][0])

    def test_line_over_the_size_bound(self):
        data = (FIXTURES / "customers_long_line.csv").read_bytes()
        report = fixture("customers_long_line.csv")
        issue = report["structural"]["issues"][0]
        start = data.index(b"AAAA") - len(data[: data.index(b"AAAA")].rsplit(b"\n", 1)[1])
        self.assertEqual((issue["kind"], issue["line"], issue["offset"]), ("line_too_long", 14, start))
        self.assertIn("max_line_bytes is 4096", issue["message"])
        self.assertEqual((report["status"], report["rowCount"]), ("FAILED", 29))

    def test_header_over_the_size_bound(self):
        doc = _customers_doc(max_line_bytes=16)
        report = run((SAMPLES / "customers.csv").read_bytes(), [parse_contract(doc)], CUSTOMERS_KEY)
        self.assertEqual(report["reasons"], ["the header line is longer than max_line_bytes (16)"])

    def test_violations_at_the_tolerated_ratio_pass(self):
        report = fixture("customers_within_tolerance.csv")
        self.assertEqual((report["status"], report["errorRows"], report["rowCount"]), ("PASSED", 2, 300))
        self.assertEqual(report["ruleCounts"]["country"]["allowed"], 1)
        self.assertEqual(report["ruleCounts"]["is_active"]["type"], 1)
        self.assertEqual([s["line"] for s in report["sample"]], [12, 202])

    def test_ratio_boundary_is_exact(self):
        data = b"id,code,amount\n" + b"".join(b"%d,AB%d,1\n" % (i, i) for i in range(1, 10)) + b"10,bad,1\n"
        at_limit = run(data, [contract(max_error_ratio=0.1)], "incoming/t/x.csv")
        below_limit = run(data, [contract(max_error_ratio=0.09)], "incoming/t/x.csv")
        self.assertEqual((at_limit["status"], below_limit["status"]), ("PASSED", "FAILED"))

    def test_every_rule_type_fails_once_above_the_ratio(self):
        report = fixture("customers_every_rule.csv")
        self.assertEqual(report["status"], "FAILED")
        counts = report["ruleCounts"]
        for column, rules in counts.items():
            for rule, n in rules.items():
                with self.subTest(column=column, rule=rule):
                    never_broken = {("email", "required"), ("country", "required"), ("signup_date", "required"), ("updated_at", "required")}
                    self.assertEqual(n, 0 if rule == "type" and column in ("email", "full_name", "country") or (column, rule) in never_broken else 1)
        self.assertEqual(report["errorRows"], 19)
        self.assertIn("19 of 300 rows failed validation (6.33%), above max_error_ratio 0.01", report["reasons"][0])
        by_rule = {(f["column"], f["rule"]): f for s in report["sample"] for f in s["failures"]}
        self.assertEqual(by_rule[("customer_id", "type")]["value"], "12a")
        self.assertEqual(by_rule[("email", "pattern")]["value"], "<redacted>")  # redact: true
        self.assertEqual(by_rule[(None, "field_count")]["detail"], "expected 8 fields, found 9")
        self.assertEqual(by_rule[(None, "parse")]["detail"], "CSV parse error: unexpected end of data")
        self.assertNotIn("value", by_rule[("customer_id", "unique")])

    def test_json_lines_row_and_column_failures(self):
        report = fixture("orders_bad.jsonl", ORDERS_KEY)
        counts = report["ruleCounts"]
        self.assertEqual(counts["_row"], {"parse": 1, "not_object": 1, "unexpected_fields": 1})
        self.assertEqual(counts["customer_id"]["type"], 1)  # "17" is a string, not an integer
        self.assertEqual(counts["amount"], {"required": 0, "type": 1, "range": 1})
        self.assertEqual(counts["currency"], {"required": 0, "type": 0, "max_length": 1, "allowed": 1})
        self.assertEqual(counts["status"], {"required": 1, "type": 0, "allowed": 1})
        self.assertEqual((counts["order_id"]["unique"], counts["order_id"]["pattern"]), (1, 1))
        self.assertEqual((counts["gift"]["type"], counts["ordered_at"]["range"]), (1, 1))
        self.assertEqual((report["rowCount"], report["blankLines"], report["errorRows"]), (29, 1, 13))
        self.assertEqual(report["status"], "FAILED")

    def test_row_count_above_max_rows(self):
        report = run((SAMPLES / "customers.csv").read_bytes(), [parse_contract(_customers_doc(max_rows=100))], CUSTOMERS_KEY)
        self.assertEqual(report["reasons"], ["row count 300 is above max_rows 100"])


class FormatVariantsTest(unittest.TestCase):
    def test_reordered_header_bom_and_crlf_read_like_the_plain_file(self):
        report = fixture("customers_reordered_crlf_bom.csv")
        self.assertEqual((report["status"], report["rowCount"], report["errorRows"]), ("PASSED", 35, 0))

    def test_quoted_and_unquoted_files_give_the_same_findings(self):
        """Blocks without quotes take the str.split path, quoted ones csv.reader."""
        lines = (FIXTURES / "customers_every_rule.csv").read_bytes().split(b"\n")[:-1]
        plain = [line for line in lines if b'"' not in line and line.count(b",") == 7]
        rows = list(csv.reader(line.decode("utf-8") for line in plain))
        quoted = io.StringIO()
        csv.writer(quoted, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
        a = run(b"\n".join(plain) + b"\n", shipped_contracts(), CUSTOMERS_KEY)
        b = run(quoted.getvalue().encode("utf-8"), shipped_contracts(), CUSTOMERS_KEY)
        self.assertGreater(a["errorRows"], 10)
        for field in ("rowCount", "errorRows", "ruleCounts", "sample", "uniqueKeys", "status", "lineCount"):
            self.assertEqual(a[field], b[field], field)

    def test_multiline_csv_keeps_record_start_lines(self):
        report = fixture("tickets_multiline.csv", "incoming/tickets/t.csv", partitions=4)
        self.assertEqual((report["rowCount"], report["lineCount"], report["errorRows"]), (5, 9, 1))
        self.assertEqual(report["sample"], [{"line": 9, "failures": [{"column": None, "rule": "parse", "detail": "CSV parse error: unexpected end of data"}]}])
        self.assertEqual(report["status"], "PASSED")  # 1 of 5 within max_error_ratio 0.25

    def test_headerless_pipe_file_without_quoting(self):
        report = fixture("readings_headerless.psv", "incoming/readings/r.psv")
        self.assertEqual((report["status"], report["rowCount"], report["errorRows"]), ("PASSED", 4, 1))
        self.assertEqual(report["sample"][0], {"line": 3, "failures": [{"column": "celsius", "rule": "type", "value": "abc"}]})

    def test_json_lines_with_crlf_spaces_and_extra_values(self):
        doc = {"name": "j", "keys": ["incoming/j/*"], "format": {"type": "jsonl"}, "columns": [{"name": "a", "type": "integer"}]}
        data = b'{"a": 1}\r\n  {"a": 2}  \n{"a": 3} {"a": 4}\n{"a": 5}\n[1]\nnull\n'
        report = run(data, [parse_contract(doc)], "incoming/j/x.jsonl")
        self.assertEqual((report["rowCount"], report["errorRows"]), (6, 3))
        self.assertEqual(
            [(s["line"], s["failures"][0]["rule"]) for s in report["sample"]],
            [(3, "parse"), (5, "not_object"), (6, "not_object")],
        )
        self.assertIn("Extra data", report["sample"][0]["failures"][0]["detail"])

    def test_blank_lines_are_counted_not_validated(self):
        data = b"id,code,amount\n1,AB1,2\n\n2,AB2,3\r\n\r\n3,AB3,4\n"
        report = run(data, [contract()], "incoming/t/x.csv")
        self.assertEqual((report["rowCount"], report["blankLines"], report["lineCount"], report["errorRows"]), (3, 2, 6, 0))


def _customers_doc(**changes) -> dict:
    import json

    from glue.tests.helpers import CONTRACTS

    doc = json.loads((CONTRACTS / "customers.json").read_text())
    doc.update(changes)
    return doc


if __name__ == "__main__":
    unittest.main()
