import random
import unittest

from migration_validation import parse_contract
from migration_validation.rules import _number_text_screen, compile_column


def column(fmt="csv", **spec):
    spec.setdefault("name", "c")
    doc = {"name": "t", "keys": ["*"], "format": {"type": fmt}, "columns": [spec]}
    return compile_column(0, parse_contract(doc).columns[0], fmt)


class CsvValueRulesTest(unittest.TestCase):
    CASES = [
        # (column spec, value, failed rules)
        ({"type": "string", "required": True}, "", ("required",)),
        ({"type": "string"}, "", ()),
        ({"type": "integer"}, "-12", ()),
        ({"type": "integer"}, "+7", ()),
        ({"type": "integer"}, "1_000", ("type",)),
        ({"type": "integer"}, " 1", ("type",)),
        ({"type": "integer"}, "١٢", ("type",)),  # Arabic-Indic digits: int() would take them
        ({"type": "integer"}, "1" * 5000, ()),  # only the syntax matters here
        ({"type": "integer", "range": {"min": 0}}, "1" * 5000, ("type",)),  # beyond int()'s digit limit
        ({"type": "integer", "range": {"min": 1, "max": 9}}, "0", ("range",)),
        ({"type": "integer", "range": {"min": 1, "max": 9}}, "10", ("range",)),
        ({"type": "integer", "allowed": [1, 2]}, "02", ()),
        ({"type": "decimal"}, "1.", ()),
        ({"type": "decimal"}, ".5", ()),
        ({"type": "decimal"}, "1e5", ("type",)),
        ({"type": "decimal"}, "nan", ("type",)),
        ({"type": "decimal"}, "1.2.3", ("type",)),
        ({"type": "decimal", "range": {"max": "99999.99"}}, "99999.99", ()),
        ({"type": "decimal", "range": {"max": "99999.99"}}, "99999.990000000001", ("range",)),
        ({"type": "decimal", "allowed": ["1.5"]}, "1.50", ()),
        ({"type": "boolean"}, "true", ()),
        ({"type": "boolean"}, "TRUE", ("type",)),
        ({"type": "boolean", "true_values": ["Y"], "false_values": ["N"]}, "N", ()),
        ({"type": "date"}, "2024-02-29", ()),
        ({"type": "date"}, "2023-02-29", ("type",)),
        ({"type": "date"}, "20240101", ("type",)),
        ({"type": "date", "range": {"min": "2024-01-01"}}, "2023-12-31", ("range",)),
        ({"type": "timestamp"}, "2024-01-01T10:00:00Z", ()),
        ({"type": "timestamp"}, "2024-01-01 10:00", ()),
        ({"type": "timestamp"}, "2024-01-01T10:00:00.123456+02:00", ()),
        ({"type": "timestamp"}, "2024-01-01", ("type",)),
        ({"type": "timestamp"}, "2024-01-01T24:00:00Z", ("type",)),
        ({"type": "timestamp", "range": {"min": "2024-01-01T00:00:00Z"}}, "2024-01-01T01:00:00+02:00", ("range",)),
        ({"type": "timestamp", "range": {"min": "2024-01-01T00:00:00Z"}}, "2024-01-01T00:00:00", ()),
        ({"type": "string", "pattern": "[A-Z]{2}"}, "ABC", ("pattern",)),
        ({"type": "string", "max_length": 3}, "abcd", ("max_length",)),
        ({"type": "string", "max_length": 3}, "äöü", ()),  # characters, not bytes
        ({"type": "string", "allowed": ["a", "b"]}, "c", ("allowed",)),
        ({"type": "string", "pattern": "[a-z]+", "max_length": 2, "allowed": ["ab"]}, "abc", ("max_length", "allowed")),
        ({"type": "integer", "pattern": "[0-9]{3}"}, "x", ("type",)),  # type failure hides the rest
    ]

    def test_each_rule_on_single_values(self):
        for spec, value, expected in self.CASES:
            with self.subTest(spec=spec, value=value[:40]):
                check = column(**spec)
                self.assertEqual(check.value_failures(value), expected)
                failing = [i for i, _ in check.failures([value] * 3)]
                self.assertEqual(failing, [0, 1, 2] if expected else [])


class JsonValueRulesTest(unittest.TestCase):
    CASES = [
        ({"type": "string", "required": True}, None, ("required",)),
        ({"type": "string", "required": True}, "", ()),
        ({"type": "string"}, 5, ("type",)),
        ({"type": "integer"}, 5, ()),
        ({"type": "integer"}, True, ("type",)),
        ({"type": "integer"}, 5.0, ("type",)),
        ({"type": "integer"}, "5", ("type",)),
        ({"type": "decimal"}, 5, ()),
        ({"type": "decimal"}, 0.1, ()),
        ({"type": "decimal"}, "12.30", ()),
        ({"type": "decimal"}, float("inf"), ("type",)),
        ({"type": "decimal", "range": {"max": 0.3}}, 0.3, ()),
        ({"type": "boolean"}, False, ()),
        ({"type": "boolean"}, "false", ("type",)),
        ({"type": "date"}, "2024-05-01", ()),
        ({"type": "date"}, 20240501, ("type",)),
        ({"type": "timestamp", "range": {"max": "2030-01-01T00:00:00Z"}}, "2031-01-01T00:00:00Z", ("range",)),
        ({"type": "string", "pattern": "ORD-[0-9]{2}"}, "ORD-12", ()),
        ({"type": "string", "allowed": ["A"]}, ["A"], ("type",)),
        ({"type": "integer", "allowed": [1, 2]}, 3, ("allowed",)),
    ]

    def test_each_rule_on_json_values(self):
        for spec, value, expected in self.CASES:
            with self.subTest(spec=spec, value=value):
                self.assertEqual(column("jsonl", **spec).value_failures(value), expected)


class BatchScreenMatchesValueRulesTest(unittest.TestCase):
    """The C-level batch screen may only say "all pass" when every value passes."""

    SPECS = [
        {"type": "string", "required": True},
        {"type": "string", "pattern": "[a-z]+[0-9]?", "max_length": 4},
        {"type": "string", "allowed": ["a", "bb"], "required": True},
        {"type": "integer", "required": True, "range": {"min": 1, "max": 500}},
        {"type": "integer", "allowed": [1, 7, 42]},
        {"type": "integer", "pattern": "[0-9]{2}"},
        {"type": "decimal", "range": {"min": "-1.5", "max": "99.99"}},
        {"type": "decimal", "allowed": ["1.5", "2"], "range": {"max": 10}},
        {"type": "decimal", "range": {"min": "0.1"}},
        {"type": "boolean", "required": True},
        {"type": "date", "range": {"min": "2024-01-01", "max": "2024-12-31"}},
        {"type": "date", "allowed": ["2024-01-01"]},
        {"type": "timestamp", "range": {"min": "2024-01-01T00:00:00Z"}},
    ]
    ATOMS = [
        "", "0", "1", "7", "42", "+3", "-1", "-0", "007", "500", "501", "1_0", " 1", "١", "99.99", "99.990",
        "100", "1.5", "1.50", "2", ".", "1.", ".1", "0.1", "0.09", "-1.5", "-1.51", "1e2", "nan", "inf",
        "true", "false", "True", "a", "bb", "ab12", "abc", "abcd1", "A", "2024-01-01", "2024-12-31",
        "2025-01-01", "2023-12-31", "2024-02-30", "20240101", "2024-01-01T00:00:00Z", "2023-12-31T23:59:59Z",
        "2024-01-01T01:00:00+02:00", "2024-06-01 12:00", "2024-06-01T12:00:00.5", "x\ny",
    ]

    def test_screen_never_passes_a_batch_with_a_failing_value(self):
        rnd = random.Random(7)
        for spec in self.SPECS:
            check = column(**spec)
            with self.subTest(spec=spec):
                passed_batches = 0
                for size in [1, 2, 5, 40] * 150 + [1500, 3000]:
                    pool = rnd.sample(self.ATOMS, rnd.randint(1, 6))
                    values = [rnd.choice(pool) for _ in range(size)]
                    expected = [i for i, v in enumerate(values) if check.value_failures(v)]
                    if check.batch_passes(values):
                        passed_batches += 1
                        self.assertEqual(expected, [], values)
                    self.assertEqual([i for i, _ in check.failures(values)], expected)
                self.assertGreater(passed_batches, 0, "the screen should pass some clean batches")


class JsonBatchScreenMatchesValueRulesTest(unittest.TestCase):
    SPECS = [
        {"type": "string", "required": True},
        {"type": "string", "pattern": "[a-z]+[0-9]?", "max_length": 4, "allowed": ["ab1", "a", "bb"]},
        {"type": "integer", "required": True, "range": {"min": 1, "max": 500}},
        {"type": "integer", "allowed": [1, 7, 42]},
        {"type": "integer", "max_length": 2},
        {"type": "decimal", "range": {"min": "0.1", "max": "99.99"}},
        {"type": "decimal", "range": {"min": -9007199254740993}},
        {"type": "decimal", "allowed": ["1.5", 2]},
        {"type": "boolean", "required": True},
        {"type": "boolean", "allowed": [True]},
        {"type": "date", "range": {"min": "2024-01-01"}},
        {"type": "timestamp", "required": True},
    ]
    ATOMS = [
        None, "", "a", "bb", "ab1", "abcd1", "1.5", "0.1", "0.09", "99.99", "1e2", "2024-01-01", "2023-12-31",
        "2024-01-01T00:00:00Z", "2024-13-01", 0, 1, 2, 7, 42, 500, 501, -1, True, False, 0.1, 0.09999, 99.99,
        99.990001, 1.5, 2.0, float("inf"), float("nan"), 1e308, -9007199254740993, [1], {"a": 1},
    ]

    def test_screen_never_passes_a_batch_with_a_failing_value(self):
        rnd = random.Random(8)
        for spec in self.SPECS:
            check = column("jsonl", **spec)
            with self.subTest(spec=spec):
                passed_batches = 0
                for size in [1, 2, 5, 40] * 200 + [1500]:
                    pool = rnd.sample(self.ATOMS, rnd.randint(1, 4))
                    values = [rnd.choice(pool) for _ in range(size)]
                    expected = [i for i, v in enumerate(values) if check.value_failures(v)]
                    if check.batch_passes(values):
                        passed_batches += 1
                        self.assertEqual(expected, [], values[:10])
                    self.assertEqual([i for i, _ in check.failures(values)], expected)
                self.assertGreater(passed_batches, 0, "the screen should pass some clean batches")


class NumberTextScreenTest(unittest.TestCase):
    """The digit-count screen proves type and range from the text alone: it
    may only accept a batch whose every value passes the per-value rules."""

    SPECS = [
        {"type": "integer", "range": {"min": 1}},
        {"type": "integer", "range": {"min": 1, "max": 500}},
        {"type": "integer", "range": {"min": -5, "max": 99}},
        {"type": "integer", "range": {"min": 100, "max": 99999}},
        {"type": "integer", "range": {"max": 100000}},
        {"type": "integer", "range": {"min": 0}},
        {"type": "decimal"},
        {"type": "decimal", "range": {"min": 0, "max": 100000}},
        {"type": "decimal", "range": {"min": "0.1", "max": "99.99"}},
        {"type": "decimal", "range": {"max": "99999.99"}},
        {"type": "decimal", "range": {"min": 10}},
        {"type": "decimal", "range": {"min": "-1.5", "max": 10}},
    ]
    ATOMS = [
        "0", "00", "1", "9", "10", "99", "100", "101", "499", "500", "501", "999", "1000", "99999", "100000",
        "100001", "0099", "007", "99.99", "99.990", "99.991", "0.1", "0.09", ".5", "5.", ".", "10.0", "9.999",
        "99999.99", "99999.990000001", "100000.0", "-0", "-1", "+1", "-1.5", "-1.51", "1e5", "1.2.3", "\u0661\u0662",
        " 1", "1\n2", "12\n", "1" * 4301, "1" * 60, "0." + "9" * 40,
    ]

    def test_accepts_only_batches_that_pass_value_by_value(self):
        rnd = random.Random(11)
        for spec in self.SPECS:
            check = column(**spec)
            screen = _number_text_screen(check.column)
            self.assertIsNotNone(screen, spec)
            with self.subTest(spec=spec):
                accepted = 0
                for size in [1, 2, 3, 8] * 300:
                    values = [rnd.choice(self.ATOMS) for _ in range(size)]
                    if screen(values):
                        accepted += 1
                        self.assertEqual([v for v in values if check.value_failures(v)], [], values)
                self.assertGreater(accepted, 0, "the screen should prove some clean batches")

    def test_bounds_are_as_tight_as_the_digit_counts(self):
        cases = [
            # (range, values the screen proves, clean values it leaves to the typed screen)
            ("integer", {"min": 1}, ["1", "9", "12345678"], ["01", "+1"]),
            ("integer", {"min": 1, "max": 500}, ["1", "99"], ["100", "500"]),
            ("integer", {"min": 100, "max": 99999}, ["100", "99999"], ["099999"]),
            ("integer", {"min": 101}, ["1000"], ["101", "999"]),
            ("decimal", {"min": 0, "max": 100000}, ["0", "0.5", ".5", "99999.999"], ["100000", "-0"]),
            ("decimal", {"min": "0.1", "max": "99.99"}, ["1", "9.99"], ["10", "0.5", "99.99"]),
        ]
        for kind, bounds, proven, left in cases:
            with self.subTest(bounds=bounds):
                check = column(type=kind, range=bounds)
                screen = _number_text_screen(check.column)
                for value in proven + left:
                    self.assertEqual(check.value_failures(value), (), value)
                self.assertTrue(screen(proven))
                for value in left:
                    self.assertFalse(screen([value]), value)

    def test_no_screen_where_the_text_cannot_prove_the_rules(self):
        for spec in [
            {"type": "integer"},  # isdigit() is cheaper
            {"type": "integer", "allowed": [1, 2], "range": {"min": 1}},
            {"type": "decimal", "range": {"max": "0.5"}},  # no digit count stays below 0.5
            {"type": "integer", "range": {"min": 1000, "max": 5000}},  # 4 digits can exceed 5000
            {"type": "string"},
        ]:
            with self.subTest(spec=spec):
                self.assertIsNone(_number_text_screen(column(**spec).column))


if __name__ == "__main__":
    unittest.main()
