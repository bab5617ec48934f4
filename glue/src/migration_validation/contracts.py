"""Dataset contracts: what a file under ``incoming/`` must look like.

A contract is a JSON document (schema in ``glue/contracts/README.md``). Parsing
is strict: an unknown field is an error, so a typo such as ``"requird"`` fails
loudly instead of silently switching a rule off.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from fnmatch import fnmatchcase
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Optional, Sequence

from .patterns import PatternError, compile_pattern
from .values import ORDERED_TYPES, TYPES, contract_value

DEFAULT_MAX_LINE_BYTES = 1024 * 1024
DEFAULT_SAMPLE_SIZE = 20
MAX_SAMPLE_SIZE = 1000
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
DELIMITER_CANDIDATES = (",", ";", "\t", "|")


class ContractError(ValueError):
    """A contract file is malformed; the message names the file and field."""


@dataclass(frozen=True)
class CsvFormat:
    delimiter: str = ","
    header: bool = True
    quote_char: Optional[str] = '"'
    multiline: bool = False
    encoding: str = "utf-8"
    type: str = "csv"
    min_fields: Optional[int] = None  # fewest fields a line may have (the rest are optional trailing columns)


@dataclass(frozen=True)
class JsonLinesFormat:
    encoding: str = "utf-8"
    type: str = "jsonl"
    multiline: bool = False


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    unique: bool = False
    pattern: Optional[str] = None
    min: object = None
    max: object = None
    allowed: Optional[frozenset] = None
    max_length: Optional[int] = None
    true_values: tuple = ("true",)
    false_values: tuple = ("false",)
    redact: bool = False

    @property
    def has_range(self) -> bool:
        return self.min is not None or self.max is not None

    def rules(self) -> tuple:
        """Rules this column checks, in the order failures are reported."""
        names = []
        if self.required:
            names.append("required")
        names.append("type")
        if self.pattern is not None:
            names.append("pattern")
        if self.max_length is not None:
            names.append("max_length")
        if self.allowed is not None:
            names.append("allowed")
        if self.has_range:
            names.append("range")
        if self.unique:
            names.append("unique")
        return tuple(names)


@dataclass(frozen=True)
class Contract:
    name: str
    keys: tuple
    format: object
    columns: tuple
    min_rows: int = 1
    max_rows: Optional[int] = None
    max_error_ratio: Fraction = Fraction(0)
    max_error_ratio_text: str = "0"
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    additional_columns: bool = False
    sample_size: int = DEFAULT_SAMPLE_SIZE
    description: str = ""
    source: str = field(default="", compare=False)

    @property
    def column_names(self) -> tuple:
        return tuple(c.name for c in self.columns)

    def matches(self, key: str) -> bool:
        return any(fnmatchcase(key, pattern) for pattern in self.keys)


_CONTRACT_FIELDS = {
    "$schema",
    "name",
    "description",
    "keys",
    "format",
    "columns",
    "min_rows",
    "max_rows",
    "max_error_ratio",
    "max_line_bytes",
    "additional_columns",
    "sample_size",
}
_CSV_FIELDS = {"type", "delimiter", "header", "quote_char", "encoding", "multiline", "min_fields"}
_JSONL_FIELDS = {"type", "encoding"}
_COLUMN_FIELDS = {
    "name",
    "type",
    "required",
    "unique",
    "pattern",
    "range",
    "allowed",
    "max_length",
    "true_values",
    "false_values",
    "redact",
    "description",
}


def parse_contract(doc: object, source: str = "<contract>") -> Contract:
    """Validate a decoded contract document and build a :class:`Contract`."""
    where = source
    obj = _object(doc, where)
    _no_unknown(obj, _CONTRACT_FIELDS, where)
    name = _string(obj, "name", where, required=True)
    if not NAME_RE.fullmatch(name):
        raise ContractError(f"{where}: name {name!r} must match {NAME_RE.pattern}")
    keys = obj.get("keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        raise ContractError(f"{where}: keys must be a non-empty list of glob patterns")
    fmt = _parse_format(obj.get("format"), f"{where}: format")
    columns = _parse_columns(obj.get("columns"), fmt, f"{where}: columns")
    if fmt.type == "csv" and fmt.min_fields is not None and fmt.min_fields > len(columns):
        raise ContractError(f"{where}: format.min_fields {fmt.min_fields} is more than the {len(columns)} columns")
    min_rows = _int(obj, "min_rows", where, default=1, minimum=0)
    max_rows = _int(obj, "max_rows", where, default=None, minimum=0)
    if max_rows is not None and max_rows < min_rows:
        raise ContractError(f"{where}: max_rows {max_rows} is below min_rows {min_rows}")
    ratio_raw = obj.get("max_error_ratio", 0)
    if type(ratio_raw) not in (int, float) or not 0 <= ratio_raw <= 1:
        raise ContractError(f"{where}: max_error_ratio must be a number between 0 and 1")
    # repr() of the JSON float is the shortest text that reads back to it, so
    # 0.05 stays exactly 1/20 instead of the binary float's neighbour.
    ratio_text = repr(ratio_raw)
    additional = obj.get("additional_columns", False)
    if type(additional) is not bool:
        raise ContractError(f"{where}: additional_columns must be true or false")
    if additional and fmt.type == "csv":
        raise ContractError(f"{where}: additional_columns applies to jsonl only (a CSV header must match)")
    return Contract(
        name=name,
        description=_string(obj, "description", where) or "",
        keys=tuple(keys),
        format=fmt,
        columns=columns,
        min_rows=min_rows,
        max_rows=max_rows,
        max_error_ratio=Fraction(Decimal(ratio_text)),
        max_error_ratio_text=ratio_text,
        max_line_bytes=_int(obj, "max_line_bytes", where, default=DEFAULT_MAX_LINE_BYTES, minimum=16),
        additional_columns=additional,
        sample_size=_int(obj, "sample_size", where, default=DEFAULT_SAMPLE_SIZE, minimum=0, maximum=MAX_SAMPLE_SIZE),
        source=source,
    )


def _parse_format(raw: object, where: str):
    obj = _object(raw, where)
    kind = obj.get("type")
    if kind == "csv":
        _no_unknown(obj, _CSV_FIELDS, where)
        delimiter = obj.get("delimiter", ",")
        if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n\"":
            raise ContractError(f"{where}: delimiter must be one character other than a quote or newline")
        quote = obj.get("quote_char", '"')
        if quote is not None and (not isinstance(quote, str) or len(quote) != 1 or quote in "\r\n" or quote == delimiter):
            raise ContractError(f"{where}: quote_char must be one character (not the delimiter) or null")
        multiline = obj.get("multiline", False)
        if type(multiline) is not bool:
            raise ContractError(f"{where}: multiline must be true or false")
        if multiline and quote is None:
            raise ContractError(f"{where}: multiline needs a quote_char (a newline can only sit inside quotes)")
        header = obj.get("header", True)
        if type(header) is not bool:
            raise ContractError(f"{where}: header must be true or false")
        min_fields = _int(obj, "min_fields", where, default=None, minimum=1)
        return CsvFormat(
            min_fields=min_fields,
            delimiter=delimiter,
            header=header,
            quote_char=quote,
            multiline=multiline,
            encoding=_encoding(obj, where),
        )
    if kind == "jsonl":
        _no_unknown(obj, _JSONL_FIELDS, where)
        return JsonLinesFormat(encoding=_encoding(obj, where))
    raise ContractError(f"{where}: type must be 'csv' or 'jsonl', got {kind!r}")


def _encoding(obj: dict, where: str) -> str:
    encoding = obj.get("encoding", "utf-8")
    if not isinstance(encoding, str) or encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ContractError(f"{where}: encoding must be 'utf-8' (the only one supported)")
    return "utf-8"


def _parse_columns(raw: object, fmt, where: str) -> tuple:
    if not isinstance(raw, list) or not raw:
        raise ContractError(f"{where}: must be a non-empty list")
    columns = []
    seen = set()
    for i, item in enumerate(raw):
        col_where = f"{where}[{i}]"
        obj = _object(item, col_where)
        _no_unknown(obj, _COLUMN_FIELDS, col_where)
        name = _string(obj, "name", col_where, required=True)
        if name in seen:
            raise ContractError(f"{col_where}: duplicate column name {name!r}")
        if name.startswith("_"):
            raise ContractError(f"{col_where}: column names starting with '_' are reserved")
        seen.add(name)
        col_where = f"{where}[{name}]"
        column_type = obj.get("type")
        if column_type not in TYPES:
            raise ContractError(f"{col_where}: type must be one of {', '.join(TYPES)}; got {column_type!r}")
        pattern = _string(obj, "pattern", col_where)
        if pattern is not None:
            try:
                compile_pattern(pattern)
            except PatternError as err:
                raise ContractError(f"{col_where}: pattern {pattern!r}: {err}") from None
        low = high = None
        if "range" in obj:
            if column_type not in ORDERED_TYPES:
                raise ContractError(f"{col_where}: range applies to {', '.join(ORDERED_TYPES)} only")
            rng = _object(obj["range"], f"{col_where}.range")
            _no_unknown(rng, {"min", "max"}, f"{col_where}.range")
            if "min" not in rng and "max" not in rng:
                raise ContractError(f"{col_where}.range: give min, max or both")
            low = _typed(column_type, rng.get("min"), f"{col_where}.range.min")
            high = _typed(column_type, rng.get("max"), f"{col_where}.range.max")
            if low is not None and high is not None and low > high:
                raise ContractError(f"{col_where}.range: min is above max")
        allowed = None
        if "allowed" in obj:
            values = obj["allowed"]
            if not isinstance(values, list) or not values:
                raise ContractError(f"{col_where}.allowed: must be a non-empty list")
            allowed = frozenset(_typed(column_type, v, f"{col_where}.allowed") for v in values)
        true_values, false_values = ("true",), ("false",)
        if "true_values" in obj or "false_values" in obj:
            if column_type != "boolean" or fmt.type != "csv":
                raise ContractError(f"{col_where}: true_values/false_values apply to CSV boolean columns only")
            true_values = _string_list(obj, "true_values", col_where, true_values)
            false_values = _string_list(obj, "false_values", col_where, false_values)
            if set(true_values) & set(false_values):
                raise ContractError(f"{col_where}: a value cannot be both true and false")
            if "" in true_values or "" in false_values:
                raise ContractError(f"{col_where}: the empty field means missing and cannot be a boolean")
        columns.append(
            Column(
                name=name,
                type=column_type,
                required=_bool(obj, "required", col_where),
                unique=_bool(obj, "unique", col_where),
                pattern=pattern,
                min=low,
                max=high,
                allowed=allowed,
                max_length=_int(obj, "max_length", col_where, default=None, minimum=1),
                true_values=true_values,
                false_values=false_values,
                redact=_bool(obj, "redact", col_where),
            )
        )
    return tuple(columns)


def _typed(column_type, raw, where):
    if raw is None:
        return None
    try:
        return contract_value(column_type, raw, where)
    except ValueError as err:
        raise ContractError(str(err)) from None


def _object(raw: object, where: str) -> dict:
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: must be a JSON object")
    return raw


def _no_unknown(obj: dict, allowed: set, where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ContractError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")


def _string(obj: dict, key: str, where: str, required: bool = False) -> Optional[str]:
    value = obj.get(key)
    if value is None:
        if required:
            raise ContractError(f"{where}: {key} is required")
        return None
    if not isinstance(value, str) or (required and not value):
        raise ContractError(f"{where}: {key} must be a non-empty string")
    return value


def _string_list(obj: dict, key: str, where: str, default: tuple) -> tuple:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ContractError(f"{where}: {key} must be a non-empty list of strings")
    return tuple(value)


def _bool(obj: dict, key: str, where: str) -> bool:
    value = obj.get(key, False)
    if type(value) is not bool:
        raise ContractError(f"{where}: {key} must be true or false")
    return value


def _int(obj: dict, key: str, where: str, default, minimum: int, maximum: Optional[int] = None):
    value = obj.get(key, default)
    if value is None:
        return None
    if type(value) is not int or value < minimum or (maximum is not None and value > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise ContractError(f"{where}: {key} must be an integer of at least {minimum}{bound}")
    return value


def load_contract_text(text: str, source: str) -> Contract:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ContractError(f"{source}: not valid JSON ({err})") from None
    return parse_contract(doc, source)


def load_contracts_dir(path) -> list:
    """Load every ``*.json`` directly inside ``path`` (sorted by file name)."""
    root = Path(path)
    if not root.is_dir():
        raise ContractError(f"{root}: contracts folder not found")
    contracts = [load_contract_text(p.read_text(encoding="utf-8"), str(p)) for p in sorted(root.glob("*.json"))]
    return _checked(contracts, str(root))


def load_contracts_zip(data: bytes, source: str = "<zip>") -> list:
    """Load every ``*.json`` in a ZIP (any folder depth), all in memory."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise ContractError(f"{source}: not a ZIP archive ({err})") from None
    contracts = []
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            name = info.filename
            if info.is_dir() or not name.endswith(".json") or name.startswith("__MACOSX/"):
                continue
            text = archive.read(info).decode("utf-8")
            contracts.append(load_contract_text(text, f"{source}!{name}"))
    return _checked(contracts, source)


def _checked(contracts: list, source: str) -> list:
    if not contracts:
        raise ContractError(f"{source}: no contracts (*.json) found")
    names = [c.name for c in contracts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ContractError(f"{source}: duplicate contract name(s) {', '.join(duplicates)}")
    return contracts


def match_contracts(contracts: Iterable[Contract], key: str) -> list:
    """Every contract whose ``keys`` patterns match ``key``."""
    return [c for c in contracts if c.matches(key)]


def describe_delimiter(delimiter: str) -> str:
    return {"\t": "TAB", " ": "SPACE"}.get(delimiter, repr(delimiter))


def other_delimiters(delimiter: str) -> Sequence[str]:
    return [d for d in DELIMITER_CANDIDATES if d != delimiter]
