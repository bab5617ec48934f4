"""Column types: how a text (CSV) or JSON value becomes a typed value.

Every parser raises ``ValueError`` for a value that is not of the type, so the
rules can treat "not parseable" as the single ``type`` failure.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from decimal import Decimal, InvalidOperation

TYPES = ("string", "integer", "decimal", "boolean", "date", "timestamp")
ORDERED_TYPES = ("integer", "decimal", "date", "timestamp")

INTEGER_RE = re.compile(r"[+-]?[0-9]+")
DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TIMESTAMP_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)

UTC = _dt.timezone.utc


def parse_integer(text: str) -> int:
    if not INTEGER_RE.fullmatch(text):
        raise ValueError("not an integer")
    return int(text)  # may still raise for more digits than int() allows


def parse_decimal(text: str) -> Decimal:
    if not DECIMAL_RE.fullmatch(text):
        raise ValueError("not a decimal")
    return Decimal(text)


def parse_date(text: str) -> _dt.date:
    # The regex keeps the strict YYYY-MM-DD form: fromisoformat alone also
    # accepts 20240101 and week dates.
    if not DATE_RE.fullmatch(text):
        raise ValueError("not a date")
    return _dt.date.fromisoformat(text)


def parse_timestamp(text: str) -> _dt.datetime:
    if not TIMESTAMP_RE.fullmatch(text):
        raise ValueError("not a timestamp")
    return as_utc(_dt.datetime.fromisoformat(text))


def as_utc(value: _dt.datetime) -> _dt.datetime:
    """Naive timestamps are read as UTC so that any two can be compared."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def text_parser(column_type: str, true_values=("true",), false_values=("false",)):
    """Parser for CSV fields (always text)."""
    if column_type == "string":
        return str
    if column_type == "integer":
        return parse_integer
    if column_type == "decimal":
        return parse_decimal
    if column_type == "date":
        return parse_date
    if column_type == "timestamp":
        return parse_timestamp
    if column_type == "boolean":
        mapping = {v: True for v in true_values}
        mapping.update({v: False for v in false_values})

        def parse_boolean(text: str) -> bool:
            try:
                return mapping[text]
            except KeyError:
                raise ValueError("not a boolean") from None

        return parse_boolean
    raise ValueError(f"unknown type {column_type!r}")


def json_parser(column_type: str):
    """Parser for JSON values: numbers and booleans must be JSON numbers and
    booleans; a decimal may also be a string in decimal syntax (money is often
    sent as a string to avoid binary floating point)."""
    if column_type == "string":

        def parse_string(value):
            if type(value) is not str:
                raise ValueError("not a string")
            return value

        return parse_string
    if column_type == "integer":

        def parse_int(value):
            if type(value) is not int:
                raise ValueError("not an integer")
            return value

        return parse_int
    if column_type == "decimal":

        def parse_dec(value):
            kind = type(value)
            if kind is int:
                return Decimal(value)
            if kind is float:
                if not math.isfinite(value):
                    raise ValueError("not a finite number")
                return Decimal(repr(value))
            if kind is str:
                return parse_decimal(value)
            raise ValueError("not a decimal")

        return parse_dec
    if column_type == "boolean":

        def parse_bool(value):
            if type(value) is not bool:
                raise ValueError("not a boolean")
            return value

        return parse_bool
    if column_type in ("date", "timestamp"):
        inner = parse_date if column_type == "date" else parse_timestamp

        def parse_temporal(value):
            if type(value) is not str:
                raise ValueError(f"not a {column_type} string")
            return inner(value)

        return parse_temporal
    raise ValueError(f"unknown type {column_type!r}")


def json_text(value) -> str:
    """The text a pattern, max_length or unique rule sees for a JSON value."""
    if type(value) is str:
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def contract_value(column_type: str, raw, where: str):
    """Turn a bound or allowed value written in a contract into a typed value."""
    try:
        if column_type == "string":
            if type(raw) is not str:
                raise ValueError("expected a string")
            return raw
        if column_type == "integer":
            if type(raw) is not int:
                raise ValueError("expected an integer")
            return raw
        if column_type == "decimal":
            if type(raw) in (int, float):
                return Decimal(repr(raw))
            if type(raw) is str:
                return parse_decimal(raw)
            raise ValueError("expected a number or a decimal string")
        if column_type == "boolean":
            if type(raw) is not bool:
                raise ValueError("expected true or false")
            return raw
        if column_type == "date":
            return parse_date(_require_str(raw))
        if column_type == "timestamp":
            return parse_timestamp(_require_str(raw))
    except (ValueError, InvalidOperation) as err:
        raise ValueError(f"{where}: {raw!r} is not a valid {column_type} value ({err})") from None
    raise ValueError(f"{where}: unknown type {column_type!r}")


def _require_str(raw) -> str:
    if type(raw) is not str:
        raise ValueError("expected an ISO 8601 string")
    return raw


def printable(text: str) -> str:
    """``text`` made safe to write as UTF-8: a lone surrogate (a JSON escape
    such as ``\\ud800``, or a file name that was not UTF-8) becomes its
    ``\\uXXXX`` escape text instead of making the encoder raise or write
    invalid UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def utf8_json(obj, **options) -> str:
    """``json.dumps`` with non-ASCII text kept readable, and always encodable
    as UTF-8: if some string still holds a lone surrogate, the whole document
    falls back to ASCII escapes (valid JSON either way)."""
    text = json.dumps(obj, ensure_ascii=False, **options)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj, ensure_ascii=True, **options)
    return text
