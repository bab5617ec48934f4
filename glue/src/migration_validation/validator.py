"""Stream the rows of a file, or of one byte range of it, through a contract.

``plan_file`` looks at the start of the file once (empty file, header,
delimiter) and either fails the file or returns a :class:`Plan` that every
partition shares. ``validate_range`` validates the lines one byte range owns
and returns a partition :class:`Report`; ``merge_reports`` combines them.
``validate_object`` does all of it in one process (the CLI, the tests).

Hot path (CSV without quotes in a block): the block is decoded once and cut
into columns with ``str.split`` instead of ``csv.reader``; an alignment check
proves each line has exactly the expected number of fields, otherwise the
block goes through ``csv.reader``. Blocks with quote characters, blank lines,
stray carriage returns or bad UTF-8 take that general path too. Both paths
give the same rows.
"""

from __future__ import annotations

import csv
import json
import json.scanner
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Iterable, Optional, Sequence

from .allocator import tune_allocator
from .contracts import Contract, describe_delimiter, match_contracts, other_delimiters
from .digests import canonical_integers, json_digests, text_digests
from .crc import crc32_combine
from .ranges import DEFAULT_CHUNK_BYTES, LINES, LineBlocks, Read, guess_record_start, read_first_line, split_ranges
from .report import ROW_RULE_RANK, Report, merge_reports, shown_value
from .rules import RULE_RANK, compile_column
from .values import json_text

BOM = b"\xef\xbb\xbf"
MULTILINE_BATCH = 4096
_UNIQUE_RANK = RULE_RANK["unique"]


@dataclass(frozen=True)
class Plan:
    """What every partition needs to know about the file."""

    contract: Contract
    positions: tuple = ()  # CSV: file column index of each contract column
    file_columns: int = 0  # CSV: fields per line in the file

    @property
    def multiline(self) -> bool:
        return bool(self.contract.format.multiline)


# -- choosing the contract and reading the start of the file ------------------


def resolve_contract(contracts: Sequence[Contract], key: str):
    """``(contract, None)`` or ``(None, failed report)``."""
    matches = match_contracts(contracts, key)
    if len(matches) == 1:
        return matches[0], None
    report = Report(None)
    if not matches:
        known = ", ".join(c.name for c in contracts) or "none loaded"
        report.add_file_issue("unknown_dataset", f"no dataset contract matches key {key!r} (contracts: {known})")
    else:
        names = ", ".join(c.name for c in matches)
        report.add_file_issue("ambiguous_dataset", f"key {key!r} matches more than one contract: {names}")
    return None, report


def plan_file(contract: Contract, read: Read, size: int):
    """``(plan, None)`` or ``(None, failed report)`` from the file's first line."""
    if size == 0:
        return None, _file_failure(contract, size, "empty_file", "the file is empty (0 bytes)")
    fmt = contract.format
    if fmt.type != "csv":
        return Plan(contract), None
    names = contract.column_names
    identity = Plan(contract, tuple(range(len(names))), len(names))
    what = "header" if fmt.header else "first line"
    line, fits = read_first_line(read, size, contract.max_line_bytes)
    if not fits:
        if fmt.header:
            return None, _file_failure(
                contract, size, "line_too_long", f"the header line is longer than max_line_bytes ({contract.max_line_bytes})"
            )
        return identity, None  # reported as an oversized row
    skipped = 0
    if line.startswith(BOM):
        line, skipped = line[len(BOM) :], len(BOM)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as err:
        if not fmt.header:
            return identity, None  # reported with the rows
        return None, _file_failure(
            contract,
            size,
            "invalid_utf8",
            f"the header is not valid UTF-8: byte 0x{line[err.start]:02x} at byte offset {skipped + err.start} (line 1)",
        )
    if text.endswith("\r"):
        text = text[:-1]
    fields = _split_one(text, fmt.delimiter, fmt.quote_char)
    if fmt.header:
        if fields == list(names):
            return identity, None
        if fields is not None and len(set(fields)) == len(fields) == len(names) and set(fields) == set(names):
            return Plan(contract, tuple(fields.index(n) for n in names), len(names)), None
    elif fields is None or len(fields) == len(names):
        return identity, None
    wrong = _wrong_delimiter(text, fields, contract, what)
    if wrong:
        return None, _file_failure(contract, size, "wrong_delimiter", wrong)
    if not fmt.header:
        return identity, None  # rows fail field_count
    return None, _file_failure(contract, size, "header_mismatch", _header_mismatch(fields, names))


def _split_one(text: str, delimiter: str, quote_char: Optional[str]):
    try:
        return next(csv.reader((text,), **_dialect(delimiter, quote_char)), [])
    except csv.Error:
        return None


def _wrong_delimiter(text: str, fields, contract: Contract, what: str) -> Optional[str]:
    fmt = contract.format
    names = contract.column_names
    found = len(fields) if fields is not None else 0
    for candidate in other_delimiters(fmt.delimiter):
        split = _split_one(text, candidate, fmt.quote_char)
        if not split or len(split) < 2 or len(split) != len(names):
            continue
        if set(split) == set(names) or found <= 1:
            return (
                f"wrong delimiter: the {what} splits into {len(split)} fields on {describe_delimiter(candidate)} "
                f"but into {found} on {describe_delimiter(fmt.delimiter)}, the contract's delimiter"
            )
    return None


def _header_mismatch(fields, names) -> str:
    if fields is None:
        return "the header line is not valid CSV"
    if not fields:
        return "the header line is empty"
    parts = []
    missing = [n for n in names if n not in fields]
    unexpected = [f for f in fields if f not in names]
    duplicated = sorted({f for f in fields if fields.count(f) > 1})
    if missing:
        parts.append("missing column(s) " + ", ".join(map(repr, missing)))
    if unexpected:
        parts.append("unexpected column(s) " + ", ".join(map(repr, unexpected)))
    if duplicated:
        parts.append("duplicate column(s) " + ", ".join(map(repr, duplicated)))
    return "header does not match the contract: " + "; ".join(parts)


def _file_failure(contract: Contract, size: int, kind: str, message: str) -> Report:
    report = Report(contract)
    report.nbytes = size
    report.add_file_issue(kind, message)
    return report


def _dialect(delimiter: str, quote_char: Optional[str]) -> dict:
    if quote_char is None:
        return {"delimiter": delimiter, "quoting": csv.QUOTE_NONE, "strict": True}
    return {"delimiter": delimiter, "quotechar": quote_char, "doublequote": True, "strict": True}


# -- validating the rows of one byte range -------------------------------------


def validate_range(
    plan: Plan,
    read: Read,
    size: int,
    start: int,
    end: int,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    first_record: Optional[int] = None,
) -> Report:
    """Validate the lines owned by ``[start, end)`` (see ``ranges``).

    Multiline CSV: the range owns the records that *start* in it, from its
    first record boundary (``first_record``, or ``guess_record_start``) to
    the end of the record holding byte ``end - 1``; the report's
    ``record_start``/``record_end`` say which bytes that was, so the caller
    can check that consecutive ranges meet (and re-run one from the
    previous range's ``record_end`` if they do not)."""
    tune_allocator()  # reuse block buffers instead of re-faulting them (see allocator)
    report = Report(plan.contract)
    report.read_file = True
    validator = _RangeValidator(plan, report)
    if plan.multiline:
        fmt = plan.contract.format
        if first_record is None:
            first_record = guess_record_start(read, size, start, fmt.quote_char.encode(), fmt.delimiter.encode())
        validator.run_records(read, size, first_record, end, chunk_bytes)
        return report
    blocks = LineBlocks(read, size, start, end, plan.contract.max_line_bytes, chunk_bytes)
    validator.run(blocks)
    report.lines = validator.line
    report.crc32 = blocks.crc32
    report.nbytes = blocks.nbytes
    return report


def validate_ranges(plan: Plan, read: Read, size: int, ranges: list, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> list:
    """Partition reports of consecutive ranges, in one process. For multiline
    CSV a range whose guessed first record is not where the previous range's
    last record ended is validated again from there (re-reading across the
    boundary), so the reports always meet exactly."""
    reports, expected = [], 0
    for start, end in ranges:
        report = validate_range(plan, read, size, start, end, chunk_bytes)
        if report.record_start is not None and report.record_start != expected:
            report = validate_range(plan, read, size, start, end, chunk_bytes, first_record=expected)
        reports.append(report)
        expected = report.record_end
    return reports


def validate_object(
    contracts: Sequence[Contract],
    key: str,
    read: Read,
    size: int,
    partitions: int = 1,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> Report:
    """The whole pipeline in one process: contract, plan, ranges, merge."""
    contract, failed = resolve_contract(contracts, key)
    if failed is not None:
        failed.nbytes = size
        return failed
    plan, failed = plan_file(contract, read, size)
    if failed is not None:
        return failed
    return merge_reports(validate_ranges(plan, read, size, split_ranges(size, partitions), chunk_bytes))


class _RangeValidator:
    def __init__(self, plan: Plan, report: Report):
        contract = plan.contract
        fmt = contract.format
        self.plan = plan
        self.report = report
        self.fmt = fmt
        self.checks = [compile_column(i, c, fmt.type) for i, c in enumerate(contract.columns)]
        self.text_of = str if fmt.type == "csv" else json_text
        self.redact = [c.redact for c in contract.columns]
        self.unique = list(report.unique.items())
        self.digest = text_digests if fmt.type == "csv" else json_digests
        # unique compares typed values for integers (CSV text "+1", "01" and "1"
        # are the same number); JSON integers are typed already.
        self.canonical = {
            i: canonical_integers for i, c in enumerate(contract.columns) if c.unique and c.type == "integer" and fmt.type == "csv"
        }
        self.names = contract.column_names
        self.name_set = frozenset(self.names)
        self.line = 0  # lines consumed so far, counted from this range's first line
        if fmt.type == "csv":
            self.min_fields = fmt.min_fields or plan.file_columns
            self.dialect = _dialect(fmt.delimiter, fmt.quote_char)
            # csv refuses fields over 128 KiB by default; lines up to
            # max_line_bytes are allowed, so their fields must be too.
            if csv.field_size_limit() < contract.max_line_bytes:
                csv.field_size_limit(contract.max_line_bytes)

    def run(self, blocks: Iterable) -> None:
        handle = self._csv_block if self.fmt.type == "csv" else self._json_block
        for kind, offset, payload in blocks:
            if kind == LINES:
                handle(offset, payload)
            else:
                self._oversized(offset, payload)

    # -- lines -----------------------------------------------------------

    def _oversized(self, offset: int, length: int) -> None:
        self.line += 1
        limit = self.plan.contract.max_line_bytes
        self.report.add_issue("line_too_long", self.line, offset, f"{length} bytes, max_line_bytes is {limit}")

    def _start_of_file(self, offset: int, data: bytes):
        """Drop the BOM and the header line (the plan already checked them)."""
        if offset == 0:
            if data.startswith(BOM):
                data, offset = data[len(BOM) :], len(BOM)
            if self.fmt.type == "csv" and self.fmt.header:
                cut = data.find(b"\n") + 1 or len(data)
                data, offset = data[cut:], offset + cut
                self.line += 1
        return offset, data

    def _decode_lines(self, offset: int, data: bytes):
        """Per-line decoding for a block that is not valid UTF-8 as a whole."""
        raws = data.split(b"\n")
        if data.endswith(b"\n"):
            raws.pop()
        texts, numbers = [], []
        first = self.line + 1
        pos = offset
        for k, raw in enumerate(raws):
            try:
                texts.append(raw.decode("utf-8"))
                numbers.append(first + k)
            except UnicodeDecodeError as err:
                self.report.add_issue(
                    "invalid_utf8",
                    first + k,
                    pos + err.start,
                    f"byte 0x{raw[err.start]:02x} at column {err.start + 1} is not valid UTF-8",
                )
            pos += len(raw) + 1
        self.line += len(raws)
        return texts, numbers

    def _split_block(self, offset: int, data: bytes):
        """``(texts, line numbers, decoded)`` of a block's lines."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            texts, numbers = self._decode_lines(offset, data)
            return texts, numbers, None
        if text.endswith("\n"):
            text = text[:-1]
        n = text.count("\n") + 1
        first = self.line + 1
        self.line += n
        return None, range(first, first + n), text

    def _drop_blank(self, texts: list, numbers):
        if "" not in texts and "\r" not in texts:
            return texts, numbers
        kept, kept_numbers = [], []
        for t, n in zip(texts, numbers):
            if t and t != "\r":
                kept.append(t)
                kept_numbers.append(n)
        self.report.blank_lines += len(texts) - len(kept)
        return kept, kept_numbers

    # -- CSV ---------------------------------------------------------------

    def _csv_block(self, offset: int, data: bytes) -> None:
        offset, data = self._start_of_file(offset, data)
        if not data:
            return
        texts, numbers, text = self._split_block(offset, data)
        if text is not None:
            if "\r" in text:
                # CRLF line ends; csv.reader drops a final CR the same way.
                text = text.replace("\r\n", "\n")
                if text.endswith("\r"):
                    text = text[:-1]
            if self._fast_csv(text, numbers):
                return
            texts = text.split("\n")
        texts, numbers = self._drop_blank(texts, numbers)
        records = None
        try:
            records = list(csv.reader(texts, **self.dialect))
        except csv.Error:
            pass
        if records is None or len(records) != len(texts):
            # A quote left open joins lines together: parse line by line.
            records = [self._parse_line(t) for t in texts]
        self._csv_records(records, numbers)

    def _fast_csv(self, text: str, numbers: range) -> bool:
        """Cut a quote-free block straight into columns; False if the block
        needs csv.reader (quotes, blank lines, bad field counts, stray CR)."""
        quote = self.fmt.quote_char
        if not text or "\r" in text or "\x00" in text or (quote is not None and quote in text):
            return False
        n = len(numbers)
        width = self.plan.file_columns
        if width == 1 and ("\n\n" in text or text.startswith("\n") or text.endswith("\n")):
            return False  # blank lines; with more columns the alignment check catches them
        delimiter = self.fmt.delimiter
        # Each line break becomes a field of its own holding NUL (absent from
        # the text, so no real field equals it). If the n-1 breaks sit exactly
        # every width+1 fields, every line has exactly `width` fields.
        flat = text.replace("\n", delimiter + "\x00" + delimiter).split(delimiter)
        stride = width + 1
        if len(flat) != n * stride - 1 or flat[width::stride].count("\x00") != n - 1:
            return False
        by_file = [flat[i::stride] for i in range(width)]
        self._check([by_file[p] for p in self.plan.positions], numbers)
        return True

    def _parse_line(self, text: str):
        try:
            return next(csv.reader((text,), **self.dialect), [])
        except csv.Error as err:
            return f"CSV parse error: {err}"

    def _csv_records(self, records: list, numbers) -> None:
        width = self.plan.file_columns
        row_failures = None
        if all(type(r) is list for r in records) and set(map(len, records)) <= {width}:
            good, good_numbers = records, numbers
        else:
            good, good_numbers, row_failures = [], [], {}
            for record, number in zip(records, numbers):
                if type(record) is str:
                    row_failures[number] = [(-1, ROW_RULE_RANK["parse"], "parse", record)]
                elif not record:
                    self.report.blank_lines += 1
                elif len(record) != width:
                    if self.min_fields <= len(record) < width:
                        # Optional trailing columns left out: missing values.
                        good.append(record + [""] * (width - len(record)))
                        good_numbers.append(number)
                        continue
                    expected = f"{width}" if self.min_fields == width else f"{self.min_fields} to {width}"
                    detail = f"expected {expected} fields, found {len(record)}"
                    row_failures[number] = [(-1, ROW_RULE_RANK["field_count"], "field_count", detail)]
                else:
                    good.append(record)
                    good_numbers.append(number)
        if good:
            by_file = list(zip(*good))
            columns = [by_file[p] for p in self.plan.positions]
        else:
            columns = [()] * len(self.checks)
        self._check(columns, good_numbers, row_failures)

    def run_records(self, read: Read, size: int, first: int, end: int, chunk_bytes: int) -> None:
        """Multiline CSV: csv.reader pulls physical lines and we note where
        each record starts. Records starting at ``first`` up to before
        ``end`` are validated; the last one may run past ``end``, its lines
        read one at a time until it closes."""
        report = self.report
        limit = self.plan.contract.max_line_bytes
        report.record_start = first
        pending = []  # physical line numbers read for the current record
        parts = []  # LineBlocks read, in order (each knows its bytes and CRC)

        def lines():
            if first >= end:
                return
            blocks = LineBlocks(read, size, first, end, limit, chunk_bytes)
            parts.append(blocks)
            pos = first
            while True:
                for kind, offset, payload in blocks:
                    if kind != LINES:
                        self._oversized(offset, payload)
                        continue
                    offset, data = self._start_of_file(offset, payload)
                    if not data:
                        continue
                    texts, numbers, text = self._split_block(offset, data)
                    if text is not None:
                        texts = text.split("\n")
                    for t, number in zip(texts, numbers):
                        pending.append(number)
                        yield t + "\n"
                pos += blocks.nbytes
                if not pending or pos >= size:
                    return  # at a record boundary (or the end of the file)
                # Inside a quoted field at the end of the range: one more line.
                blocks = LineBlocks(read, size, pos, pos + 1, limit, chunk_bytes)
                parts.append(blocks)

        reader = csv.reader(lines(), **self.dialect)
        batch, batch_numbers = [], []
        while True:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as err:
                record = f"CSV parse error: {err}"
            batch.append(record)
            batch_numbers.append(pending[0] if pending else self.line)
            pending.clear()
            if len(batch) >= MULTILINE_BATCH:
                self._csv_records(batch, batch_numbers)
                batch, batch_numbers = [], []
        if batch:
            self._csv_records(batch, batch_numbers)
        crc, nbytes = 0, 0
        for blocks in parts:
            crc = crc32_combine(crc, blocks.crc32, blocks.nbytes)
            nbytes += blocks.nbytes
        report.lines = self.line
        report.crc32 = crc
        report.nbytes = nbytes
        report.record_end = first + nbytes

    # -- JSON lines --------------------------------------------------------

    def _json_block(self, offset: int, data: bytes) -> None:
        offset, data = self._start_of_file(offset, data)
        if not data:
            return
        texts, numbers, text = self._split_block(offset, data)
        if text is not None:
            texts = text.split("\n")
        texts, numbers = self._drop_blank(texts, numbers)
        loads = json.loads
        objects = _scan_json_lines(texts)
        row_failures = None
        if objects is not None and all(type(o) is dict for o in objects):
            good, good_numbers = objects, numbers
        else:
            good, good_numbers, row_failures = [], [], {}
            for i, number in enumerate(numbers):
                if objects is not None:
                    obj = objects[i]
                else:
                    try:
                        obj = loads(texts[i])
                    except (ValueError, RecursionError) as err:
                        if isinstance(err, json.JSONDecodeError):
                            detail = f"invalid JSON: {err.msg} at column {err.colno}"
                        else:
                            detail = f"invalid JSON: {err}"
                        row_failures[number] = [(-1, ROW_RULE_RANK["parse"], "parse", detail)]
                        continue
                if type(obj) is not dict:
                    detail = f"expected a JSON object, found {_json_kind(obj)}"
                    row_failures[number] = [(-1, ROW_RULE_RANK["not_object"], "not_object", detail)]
                    continue
                good.append(obj)
                good_numbers.append(number)
        columns = [list(map(dict.get, good, repeat(name))) for name in self.names]
        extra = None
        if not self.plan.contract.additional_columns and not self.name_set.issuperset(chain.from_iterable(good)):
            extra = {}
            for i, obj in enumerate(good):
                unexpected = obj.keys() - self.name_set
                if unexpected:
                    detail = "unexpected field(s): " + ", ".join(sorted(unexpected))
                    extra[i] = (-1, ROW_RULE_RANK["unexpected_fields"], "unexpected_fields", detail)
        self._check(columns, good_numbers, row_failures, extra)

    # -- rules -------------------------------------------------------------

    def _check(self, columns: list, numbers, row_failures: Optional[dict] = None, extra: Optional[dict] = None) -> None:
        """Run the column rules over a batch of rows (``columns[i][k]`` is
        column i of the batch's k-th row, on line ``numbers[k]``)."""
        report = self.report
        failures = {}  # batch index -> [(column, rank, rule, value)]
        for check in self.checks:
            values = columns[check.index]
            found = check.failures(values)
            if not found:
                continue
            counts = report.counts[check.index]
            ci = check.index
            for k, rules in found:
                entry = failures.get(k)
                if entry is None:
                    entry = failures[k] = []
                value = values[k]
                for rule in rules:
                    counts[rule] += 1
                    entry.append((ci, RULE_RANK[rule], rule, value))
        if extra:
            for k, failure in extra.items():
                report.row_counts["unexpected_fields"] += 1
                failures.setdefault(k, []).append(failure)
        if self.unique:
            self._check_unique(columns, numbers, failures)
        report.rows += len(numbers)
        report.error_rows += len(failures)
        if row_failures:
            report.rows += len(row_failures)
            report.error_rows += len(row_failures)
            for entry in row_failures.values():
                report.row_counts[entry[0][2]] += 1
        room = report.sample_limit - len(report.sample)
        if room <= 0 or not (failures or row_failures):
            return
        entries = [(numbers[k], found) for k, found in failures.items()]
        if row_failures:
            entries.extend(row_failures.items())
        entries.sort(key=lambda e: e[0])
        for number, found in entries[:room]:
            report.sample.append([number, sorted(map(self._shown, found), key=lambda f: (f[0], f[1]))])

    def _shown(self, failure: tuple) -> tuple:
        ci, rank, rule, value = failure
        if ci < 0 or rule == "unique":
            return failure
        return ci, rank, rule, shown_value(self.text_of(value), self.redact[ci])

    def _check_unique(self, columns: list, numbers, failures: dict) -> None:
        """Insert this batch's keys; a key already known (earlier in this
        range or earlier in the batch) fails the row."""
        several = len(self.unique) > 1
        before = set(failures) if several else None
        if failures:
            packed = [(number << 1) | (k in failures) for k, number in enumerate(numbers)]
        elif type(numbers) is range:
            packed = range(numbers.start << 1, numbers.stop << 1, 2)
        else:
            packed = [number << 1 for number in numbers]
        seen = []
        for ci, table in self.unique:
            canonical = self.canonical.get(ci)
            digests = self.digest(canonical(columns[ci]) if canonical else columns[ci])
            duplicates = table.insert_batch(digests, packed)
            dup_rows = set()
            if duplicates:
                self.report.counts[ci]["unique"] += len(duplicates)
                for k, _ in duplicates:
                    dup_rows.add(k)
                    failures.setdefault(k, []).append((ci, _UNIQUE_RANK, "unique", None))
            seen.append((table, digests, dup_rows))
        if several:
            # A row failing only on another unique column is still the first
            # occurrence of its key here: flag it as failed for the merge.
            newly = set(failures) - before
            if newly:
                for table, digests, dup_rows in seen:
                    for k in newly - dup_rows:
                        if digests[k]:
                            table.set_flag(digests[k])


_SCAN_JSON = json.scanner.make_scanner(json.JSONDecoder())


def _scan_json_lines(texts: list) -> Optional[list]:
    """Decode each line with the C scanner behind json.loads, skipping its
    Python wrappers. None unless every line is exactly one JSON value with
    nothing after it; the caller then uses json.loads line by line, which
    also produces the error messages."""
    try:
        # The scanner signals "no value here" with StopIteration, which ends
        # map() early instead of propagating: the length check catches it.
        parsed = list(map(_SCAN_JSON, texts, repeat(0)))
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    if len(parsed) != len(texts):
        return None
    if not parsed:
        return []
    objects, ends = zip(*parsed)
    if list(ends) != list(map(len, texts)):
        return None  # trailing data or whitespace (CRLF): let json.loads decide
    return list(objects)


def _json_kind(value) -> str:
    if value is None:
        return "null"
    return {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
