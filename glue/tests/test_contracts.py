import copy
import io
import json
import unittest
import zipfile
from fractions import Fraction

from glue.tests.helpers import CONTRACTS, FIXTURE_CONTRACTS, contracts_zip, shipped_contracts
from migration_validation import ContractError, load_contracts_dir, load_contracts_zip, match_contracts, parse_contract
from migration_validation.validator import resolve_contract

BASE = json.loads((CONTRACTS / "customers.json").read_text())


def variant(change):
    doc = copy.deepcopy(BASE)
    change(doc)
    return doc


class ShippedContractsTest(unittest.TestCase):
    def test_shipped_contracts_load_and_match_their_keys(self):
        contracts = {c.name: c for c in shipped_contracts()}
        self.assertEqual(set(contracts), {"customers", "orders", "smoke"})
        self.assertTrue(contracts["customers"].matches("incoming/customers/2026/11/export.csv"))
        self.assertTrue(contracts["smoke"].matches("incoming/smoke/20261122-abc/good.csv"))
        self.assertFalse(contracts["smoke"].matches("incoming/customers/export.csv"))
        self.assertTrue(contracts["orders"].matches("incoming/orders/day-1.jsonl"))
        self.assertFalse(contracts["orders"].matches("incoming/customers/export.csv"))

    def test_samples_together_use_every_rule_type_and_format(self):
        contracts = shipped_contracts() + load_contracts_dir(FIXTURE_CONTRACTS)
        shipped = shipped_contracts()
        columns = [col for c in shipped for col in c.columns]
        self.assertEqual({c.format.type for c in shipped}, {"csv", "jsonl"})
        self.assertEqual({col.type for col in columns}, {"string", "integer", "decimal", "boolean", "date", "timestamp"})
        rules = {rule for col in columns for rule in col.rules()}
        self.assertEqual(rules, {"required", "type", "pattern", "max_length", "allowed", "range", "unique"})
        self.assertTrue(all(c.max_rows and c.min_rows >= 1 for c in shipped))
        self.assertIn(Fraction(0), {c.max_error_ratio for c in shipped})
        self.assertTrue(any(c.format.multiline for c in contracts))

    def test_error_ratio_is_exact_not_binary_float(self):
        self.assertEqual(parse_contract(variant(lambda d: d.update(max_error_ratio=0.1))).max_error_ratio, Fraction(1, 10))


class ContractValidationTest(unittest.TestCase):
    BAD = {
        "unknown top-level field": (lambda d: d.update(min_row=1), "unknown field(s) 'min_row'"),
        "typo in a column rule": (lambda d: d["columns"][0].update(requird=True), "'requird'"),
        "bad name": (lambda d: d.update(name="Customers!"), "name"),
        "no keys": (lambda d: d.update(keys=[]), "keys"),
        "bad format type": (lambda d: d["format"].update(type="xml"), "'csv' or 'jsonl'"),
        "two-char delimiter": (lambda d: d["format"].update(delimiter=";;"), "delimiter"),
        "unsupported encoding": (lambda d: d["format"].update(encoding="latin-1"), "utf-8"),
        "multiline without quotes": (lambda d: d["format"].update(multiline=True, quote_char=None), "multiline"),
        "unknown type": (lambda d: d["columns"][0].update(type="float"), "type must be one of"),
        "range on a string": (lambda d: d["columns"][2].update(range={"min": 1}), "range applies to"),
        "range min above max": (lambda d: d["columns"][0].update(range={"min": 5, "max": 1}), "min is above max"),
        "range bound of wrong type": (lambda d: d["columns"][6].update(range={"min": "01/01/2000"}), "not a valid date"),
        "pattern does not compile": (lambda d: d["columns"][1].update(pattern="[a-"), "does not compile"),
        "allowed of wrong type": (lambda d: d["columns"][0].update(allowed=["1"]), "not a valid integer"),
        "duplicate column": (lambda d: d["columns"].append({"name": "email", "type": "string"}), "duplicate column"),
        "reserved column name": (lambda d: d["columns"][0].update(name="_row"), "reserved"),
        "max_rows below min_rows": (lambda d: d.update(min_rows=10, max_rows=5), "max_rows"),
        "ratio above one": (lambda d: d.update(max_error_ratio=1.5), "max_error_ratio"),
        "boolean as required": (lambda d: d["columns"][0].update(required="yes"), "required must be true or false"),
        "true_values on a string": (lambda d: d["columns"][1].update(true_values=["y"]), "true_values"),
        "tiny max_line_bytes": (lambda d: d.update(max_line_bytes=4), "max_line_bytes"),
        "additional_columns on csv": (lambda d: d.update(additional_columns=True), "jsonl only"),
    }

    def test_malformed_contracts_fail_with_a_message_naming_the_problem(self):
        for label, (change, expected) in self.BAD.items():
            with self.subTest(label):
                with self.assertRaises(ContractError) as caught:
                    parse_contract(variant(change), "customers.json")
                self.assertIn(expected, str(caught.exception))
                self.assertIn("customers.json", str(caught.exception))

    def test_not_json(self):
        with self.assertRaisesRegex(ContractError, "not valid JSON"):
            load_contracts_zip(_zip({"broken.json": "{"}), "s3://b/contracts.zip")


class ZipLoadingTest(unittest.TestCase):
    def test_zip_gives_the_same_contracts_as_the_folder(self):
        from_zip = load_contracts_zip(contracts_zip(CONTRACTS), "s3://assets/contracts.zip")
        self.assertEqual(from_zip, load_contracts_dir(CONTRACTS))

    def test_nested_json_is_loaded_and_other_files_ignored(self):
        doc = (CONTRACTS / "orders.json").read_text()
        data = _zip({"nested/orders.json": doc, "README.md": "# notes", "__MACOSX/._orders.json": "junk"})
        self.assertEqual([c.name for c in load_contracts_zip(data)], ["orders"])

    def test_empty_or_broken_zip_is_an_error(self):
        with self.assertRaisesRegex(ContractError, "no contracts"):
            load_contracts_zip(_zip({"README.md": "x"}))
        with self.assertRaisesRegex(ContractError, "not a ZIP"):
            load_contracts_zip(b"not a zip")

    def test_duplicate_names_across_files_are_an_error(self):
        doc = (CONTRACTS / "orders.json").read_text()
        with self.assertRaisesRegex(ContractError, "duplicate contract name"):
            load_contracts_zip(_zip({"a.json": doc, "b.json": doc}))


class MatchingTest(unittest.TestCase):
    def test_no_match_and_ambiguous_match_give_failed_reports(self):
        contracts = shipped_contracts()
        contract, failed = resolve_contract(contracts, "incoming/unknown/file.csv")
        self.assertIsNone(contract)
        self.assertEqual(failed.to_dict()["dataset"], "unknown")
        self.assertIn("no dataset contract matches key 'incoming/unknown/file.csv'", failed.reasons()[0])
        twin = parse_contract(variant(lambda d: d.update(name="customers-copy")))
        contract, failed = resolve_contract(contracts + [twin], "incoming/customers/a.csv")
        self.assertIsNone(contract)
        self.assertIn("more than one contract", failed.reasons()[0])
        self.assertEqual(len(match_contracts(contracts, "incoming/customers/a.csv")), 1)


def _zip(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


if __name__ == "__main__":
    unittest.main()
