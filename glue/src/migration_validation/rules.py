"""Per-column checks, compiled once per contract.

Each column gets two implementations of the same rules:

* ``value_failures(value)``: the reference, one value at a time. It returns
  the failed rules (empty tuple when the value passes).
* ``batch_passes(values)``: a fast screen over a whole batch of CSV fields
  or JSON values built from C-level operations (``set``, ``map``, ``min``/``max``). It may
  only return ``True`` when every value would pass ``value_failures``; any
  doubt returns ``False`` and the batch is checked value by value. The tests
  compare both on random data.

``unique`` is not here: it needs state across batches (see ``digests``).
"""

from __future__ import annotations

import datetime as _dt
import re
import sys
from decimal import Decimal
from typing import Callable, Optional

from .contracts import Column
from .patterns import compile_pattern
from .values import DATE_RE, INTEGER_RE, TIMESTAMP_RE, as_utc, json_parser, json_text, text_parser

RULE_ORDER = ("required", "type", "pattern", "max_length", "allowed", "range", "unique")
RULE_RANK = {name: i for i, name in enumerate(RULE_ORDER)}
REQUIRED = ("required",)
TYPE = ("type",)
PASS = ()

_INT_CHARS = re.compile(r"[0-9+\-]*").fullmatch
_DEC_CHARS = re.compile(r"[0-9.+\-]*").fullmatch
_DEDUPE_PROBE = 1024  # batches this small are always deduplicated
_DEDUPE_SKIP = 7  # after a mostly-distinct batch, skip the set for this many
# int() refuses longer decimal strings (a type failure), so the digit screen
# never accepts more digits than this.
_MAX_SCREEN_DIGITS = min(getattr(sys, "get_int_max_str_digits", lambda: 0)() or 4300, 4300)


class ColumnCheck:
    __slots__ = ("index", "column", "rules", "value_failures", "batch_passes", "text_of")

    def __init__(self, index: int, column: Column, value_failures, batch_passes, text_of):
        self.index = index
        self.column = column
        self.rules = tuple(r for r in column.rules() if r != "unique")
        self.value_failures: Callable = value_failures
        self.batch_passes: Optional[Callable] = batch_passes
        self.text_of: Callable = text_of

    def failures(self, values) -> list:
        """``(i, rules)`` for each failing value of the batch."""
        if self.batch_passes is not None and self.batch_passes(values):
            return []
        check = self.value_failures
        return [(i, rules) for i, rules in enumerate(map(check, values)) if rules]


def compile_column(index: int, column: Column, fmt_type: str) -> ColumnCheck:
    if fmt_type == "csv":
        parse = text_parser(column.type, column.true_values, column.false_values)
        if column.type == "integer" and column.allowed is None and not column.has_range:
            # Nothing needs the number: the syntax is the whole check, so an
            # integer longer than int() converts is still an integer.
            parse = _integer_syntax
        return ColumnCheck(index, column, _value_check(column, parse, "", str), _csv_batch(column), str)
    parse = json_parser(column.type)
    return ColumnCheck(index, column, _value_check(column, parse, None, json_text), _json_batch(column), json_text)


def _integer_syntax(text: str) -> str:
    if not INTEGER_RE.fullmatch(text):
        raise ValueError("not an integer")
    return text


def _value_check(column: Column, parse, missing, text_of):
    required = column.required
    matcher = compile_pattern(column.pattern).fullmatch if column.pattern is not None else None
    max_length = column.max_length
    allowed = column.allowed
    low, high = column.min, column.max
    constrained = matcher is not None or max_length is not None or allowed is not None or column.has_range

    def value_failures(value):
        if value is missing or value == missing:
            return REQUIRED if required else PASS
        try:
            typed = parse(value)
        except (ValueError, ArithmeticError):
            return TYPE
        if not constrained:
            return PASS
        failed = []
        if matcher is not None or max_length is not None:
            text = text_of(value)
            if matcher is not None and not matcher(text):
                failed.append("pattern")
            if max_length is not None and len(text) > max_length:
                failed.append("max_length")
        if allowed is not None and typed not in allowed:
            failed.append("allowed")
        if (low is not None and typed < low) or (high is not None and typed > high):
            failed.append("range")
        return tuple(failed)

    return value_failures


def _csv_batch(column: Column):
    """Fast screen for CSV text fields (see module docstring)."""
    required = column.required
    matcher = compile_pattern(column.pattern) if column.pattern is not None else None
    max_length = column.max_length
    allowed = column.allowed
    low, high = column.min, column.max
    has_range = column.has_range
    column_type = column.type

    if column_type == "string" and matcher is None and max_length is None and allowed is None:
        if not required:
            return lambda values: True
        return all  # every field non-empty

    all_match = matcher.all_match if matcher is not None else None
    numbers_proven = _number_text_screen(column)
    typed_of = _csv_typed_screen(column, need_typed=allowed is not None or has_range)
    float_low = float(low) if has_range and low is not None and column_type == "decimal" else None
    float_high = float(high) if has_range and high is not None and column_type == "decimal" else None

    skip_dedupe = [0]  # batches left to screen without building a set

    def text_rules_pass(distinct) -> bool:
        """max_length and pattern (whose batch match, in bounded mode, needs the longest value too)."""
        longest = max(map(len, distinct)) if max_length is not None else None
        if longest is not None and longest > max_length:
            return False
        return matcher is None or all_match(distinct, longest)

    def batch_passes(values) -> bool:
        if skip_dedupe[0]:
            # The last measured batch was mostly distinct (ids, e-mails): a
            # set costs more than it saves, so screen the values as they are.
            skip_dedupe[0] -= 1
            distinct = values
            if not all(distinct):  # an empty field (all() is cheaper than `"" in`)
                if required:
                    return False
                distinct = list(filter(None, distinct))
        else:
            distinct = set(values)
            if len(values) >= _DEDUPE_PROBE and len(distinct) * 4 > len(values) * 3:
                skip_dedupe[0] = _DEDUPE_SKIP
            if "" in distinct:
                if required:
                    return False
                distinct.discard("")
        if not distinct:
            return True
        if numbers_proven is not None and numbers_proven(distinct):
            # Type and range are proven by the text alone; the text rules remain.
            return text_rules_pass(distinct)
        typed = typed_of(distinct)
        if typed is None:
            return False
        if not text_rules_pass(distinct):
            return False
        if column_type == "decimal":
            typed, floats = typed
        if allowed is not None and not allowed.issuperset(typed):
            return False
        if has_range:
            if column_type == "decimal":
                # Rounding to float is monotonic, so a float strictly inside
                # the float bounds proves the exact decimal is inside; a tie
                # goes to the exact per-value check.
                if float_low is not None and not min(floats) > float_low:
                    return False
                if float_high is not None and not max(floats) < float_high:
                    return False
            else:
                if low is not None and min(typed) < low:
                    return False
                if high is not None and max(typed) > high:
                    return False
        return True

    return batch_passes


def _number_text_screen(column: Column):
    """``f(nonempty_values) -> True`` only if every value is a number of the
    column's type inside its range, proven from the text with one regex over
    the newline-joined values (no int()/float() per value): an unsigned
    number with d integer digits lies in [10^(d-1), 10^d) without a leading
    zero and in [0, 10^d) with one. Only the digit counts that prove both
    bounds are accepted; anything else (signs, an exponent, a value near a
    bound, a newline inside a value) returns False and the batch takes the
    typed screen. None when the column has no such screen."""
    if column.type not in ("integer", "decimal") or column.allowed is not None:
        return None
    low, high = column.min, column.max
    if column.type == "integer":
        if not column.has_range:
            return None  # the isdigit() screen of _csv_typed_screen is cheaper
        # Integers: d digits are at most 10^d - 1.
        top = _most_digits(high, lambda d: 10**d - 1 <= high)
        fraction = ""
    else:
        if not column.has_range:
            # Syntax only (DECIMAL_RE, with possessive repeats).
            return _joined_screen(r"[+-]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)")
        # Decimals: d integer digits and any fraction are below 10^d.
        top = _most_digits(high, lambda d: 10**d <= high)
        fraction = r"(?:\.[0-9]*+)?+"
    if top < 1:
        return None
    if low is None or low <= 0:
        number = rf"[0-9]{{1,{top}}}+{fraction}"
        if fraction:
            number = rf"(?:{number}|\.[0-9]++)"
    else:
        if low >= 10**top:
            return None
        # A leading digit 1-9 makes d digits at least 10^(d-1): the fewest
        # digits that prove the lower bound.
        fewest = len(str(int(low)))
        if 10 ** (fewest - 1) < low:
            fewest += 1
        if fewest > top:
            return None
        number = rf"[1-9][0-9]{{{fewest - 1},{top - 1}}}+{fraction}"
    return _joined_screen(number)


def _most_digits(high, fits) -> int:
    """The most digits (up to _MAX_SCREEN_DIGITS) whose numbers all satisfy
    ``fits(d)``; every number is allowed when there is no upper bound."""
    if high is None or high >= 10**_MAX_SCREEN_DIGITS:
        return _MAX_SCREEN_DIGITS
    if high < 1:
        return 0
    digits = len(str(int(high)))  # high >= 10^(digits-1), so digits - 1 always fits
    return digits if fits(digits) else digits - 1


def _joined_screen(number: str):
    joined = re.compile(rf"{number}(?:\n{number})*+").fullmatch

    def proven(values) -> bool:
        text = "\n".join(values)
        # A value holding a newline would read as two values.
        return text.count("\n") == len(values) - 1 and joined(text) is not None

    return proven


def _csv_typed_screen(column: Column, need_typed: bool):
    """Return ``f(nonempty_values) -> typed values or None`` where
    None means "some value may not be of the type" (go value by value)."""
    column_type = column.type
    if column_type == "string":
        return lambda distinct: distinct
    if column_type == "integer":

        def integers(distinct):
            joined = "".join(distinct)
            if joined.isascii() and joined.isdigit():
                if not need_typed:
                    return distinct
            elif not _INT_CHARS(joined):
                return None
            try:
                # With only digits and signs, int() accepts exactly [+-]?[0-9]+
                # (and refuses more digits than it converts: a type failure).
                return list(map(int, distinct))
            except ValueError:
                return None

        return integers
    if column_type == "decimal":
        exact = column.allowed is not None

        def decimals(distinct):
            if not _DEC_CHARS("".join(distinct)):
                return None
            try:
                # With only digits, signs and dots, float() accepts exactly the
                # decimal syntax [+-]?(digits[.digits] | .digits).
                floats = list(map(float, distinct))
            except ValueError:
                return None
            # allowed needs exact values; range is screened on the floats.
            return (list(map(Decimal, distinct)) if exact else None, floats)

        return decimals
    if column_type == "boolean":
        mapping = {v: True for v in column.true_values}
        mapping.update({v: False for v in column.false_values})
        accepted = frozenset(mapping)

        def booleans(distinct):
            if not accepted.issuperset(distinct):
                return None
            return [mapping[v] for v in distinct] if need_typed else distinct

        return booleans
    if column_type in ("date", "timestamp"):
        matcher = (DATE_RE if column_type == "date" else TIMESTAMP_RE).fullmatch
        convert = _dt.date.fromisoformat if column_type == "date" else _dt.datetime.fromisoformat

        def temporals(distinct):
            if not all(map(matcher, distinct)):
                return None
            try:
                typed = list(map(convert, distinct))
            except ValueError:
                return None
            if column_type == "timestamp" and need_typed:
                typed = [as_utc(t) for t in typed]
            return typed

        return temporals
    raise ValueError(f"unknown type {column_type!r}")


_NONE = type(None)
_TEXT_TYPES = ("string", "date", "timestamp")
_FLOAT_EXACT_INT = 2**53  # every integer below this is a double


def _json_batch(column: Column):
    """Fast screen for JSON values. Strings go through the CSV screen (same
    text rules once the empty string, which is present in JSON but missing in
    CSV, is ruled out); numbers and booleans are screened by type and bounds.
    Anything else is checked value by value."""
    required = column.required
    column_type = column.type
    allowed = column.allowed
    low, high = column.min, column.max
    text_rules = column.pattern is not None or column.max_length is not None
    text_screen = _csv_batch(column) if column_type in _TEXT_TYPES or column_type == "decimal" else None
    number_bounds = [b for b in (low, high) if b is not None]
    # For a decimal column of JSON numbers, a float strictly inside the float
    # bounds is inside the exact bounds (rounding is monotonic); an integer
    # compares exactly with a float, and below 2**53 no integer can fall
    # between a bound and its nearest float.
    numbers_screenable = column_type == "decimal" and allowed is None and not text_rules and all(
        abs(b) < _FLOAT_EXACT_INT for b in number_bounds
    )
    float_low = float(low) if low is not None and column_type == "decimal" else None
    float_high = float(high) if high is not None and column_type == "decimal" else None

    def batch_passes(values) -> bool:
        types = set(map(type, values))
        if _NONE in types:
            if required:
                return False
            values = [v for v in values if v is not None]
            types.discard(_NONE)
        if not types:
            return True
        if types == {str}:
            if text_screen is None or not all(values):
                return False  # a non-text type given a string, or "" (not missing in JSON)
            return text_screen(values)
        if column_type == "integer" and types == {int} or column_type == "boolean" and types == {bool}:
            if text_rules:
                return False
            if allowed is not None and not allowed.issuperset(values):
                return False
            if low is not None and min(values) < low:
                return False
            return high is None or max(values) <= high
        if numbers_screenable and types <= {int, float}:
            total = sum(values)
            if total - total != 0:  # inf or nan somewhere (or an overflowing sum)
                return False
            if float_low is not None and not min(values) > float_low:
                return False
            return float_high is None or max(values) < float_high
        return False

    return batch_passes
