"""The validation report: what a partition found, and how partitions merge.

A partition report counts lines from 1 at its first owned line. Merging
``a.merge(b)`` (``b`` being the partition right after ``a``) shifts ``b``'s
line numbers by ``a.lines`` and combines everything so that merging the
reports of any split of a file, in partition order, equals the report of the
whole file:

* counters add;
* the failing-row sample keeps the lowest line numbers, so it is ``a``'s
  sample followed by ``b``'s, cut to the limit;
* structural issues likewise (the first ones by position);
* the checksum is ``crc32_combine(a.crc, b.crc, b.bytes)``, which equals the
  CRC-32 of the whole file;
* a ``unique`` key first seen in ``a`` and again in ``b`` makes ``b``'s first
  occurrence a failure (the digest tables remember each key's first line and
  whether that row had already failed, see ``digests``).

The merge is associative, so partition reports can also be merged as a tree.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable, Optional

from .contracts import DEFAULT_SAMPLE_SIZE, Contract
from .crc import crc32_combine
from .digests import DigestTable
from .rules import RULE_RANK
from .values import printable

SCHEMA_VERSION = 1
PASSED = "PASSED"
FAILED = "FAILED"
UNKNOWN_DATASET = "unknown"
ROW = "_row"
ISSUE_LIMIT = 20
SHOWN_VALUE_CHARS = 80

CSV_ROW_RULES = ("parse", "field_count")
JSONL_ROW_RULES = ("parse", "not_object", "unexpected_fields")
ROW_RULE_RANK = {name: i for i, name in enumerate(("parse", "field_count", "not_object", "unexpected_fields"))}

# Structural kinds, in the order their reasons are listed.
STRUCTURAL_KINDS = (
    "unknown_dataset",
    "ambiguous_dataset",
    "empty_file",
    "header_mismatch",
    "wrong_delimiter",
    "invalid_utf8",
    "line_too_long",
)


class Report:
    """Mutable validation state of one partition (or of merged partitions)."""

    def __init__(self, contract: Optional[Contract], dataset: Optional[str] = None):
        self.contract = contract
        self.dataset = dataset or (contract.name if contract else UNKNOWN_DATASET)
        columns = contract.columns if contract else ()
        self.column_names = tuple(c.name for c in columns)
        self.lines = 0
        self.rows = 0
        self.blank_lines = 0
        self.error_rows = 0
        self.counts = [dict.fromkeys(c.rules(), 0) for c in columns]
        row_rules = () if contract is None else (CSV_ROW_RULES if contract.format.type == "csv" else JSONL_ROW_RULES)
        if contract is not None and contract.additional_columns:
            row_rules = tuple(r for r in row_rules if r != "unexpected_fields")
        self.row_counts = dict.fromkeys(row_rules, 0)
        self.structural = {}  # kind -> count of line-level issues
        self.issues = []  # (offset, line, kind, detail) for line-level issues, first ones by offset
        self.file_issues = []  # (kind, message) found before reading rows
        self.sample = []  # [line, failures]; failure = (column index or -1, rank, rule, shown)
        self.sample_limit = contract.sample_size if contract else DEFAULT_SAMPLE_SIZE
        self.crc32 = 0
        self.nbytes = 0
        self.read_file = False
        self.unique = {i: DigestTable() for i, c in enumerate(columns) if c.unique}
        self.record_start = None  # multiline CSV: bytes [record_start, record_end) of the records owned
        self.record_end = None
        self.unique_keys = None  # column -> distinct keys, once the tables went to the shuffle

    def strip_unique_tables(self) -> None:
        """Drop the digest tables (their keys went to the shuffle, see ``shuffle``)."""
        self.unique_keys = dict.fromkeys(self.unique, 0)
        self.unique = {}

    # -- recording (used by the validator) ---------------------------------

    def add_file_issue(self, kind: str, message: str) -> None:
        self.file_issues.append((kind, message))

    def add_issue(self, kind: str, line: int, offset: int, detail: str) -> None:
        self.structural[kind] = self.structural.get(kind, 0) + 1
        if len(self.issues) < ISSUE_LIMIT:
            self.issues.append((offset, line, kind, detail))

    # -- merging -----------------------------------------------------------

    def merge(self, other: "Report") -> "Report":
        """Fold in ``other``, the partition that follows this one. Mutates
        and returns ``self``; ``other`` must not be used afterwards."""
        if other.contract != self.contract:
            raise ValueError("cannot merge reports of different contracts")
        shift = self.lines
        self.lines += other.lines
        self.rows += other.rows
        self.blank_lines += other.blank_lines
        self.error_rows += other.error_rows
        for mine, theirs in zip(self.counts, other.counts):
            for rule, n in theirs.items():
                mine[rule] += n
        for rule, n in other.row_counts.items():
            self.row_counts[rule] += n
        for kind, n in other.structural.items():
            self.structural[kind] = self.structural.get(kind, 0) + n
        self.file_issues.extend(other.file_issues)
        room = ISSUE_LIMIT - len(self.issues)
        if room > 0:
            self.issues.extend((o, line + shift, k, d) for o, line, k, d in other.issues[:room])
        if self.record_end is not None:
            self.record_end = other.record_end
        self.crc32 = crc32_combine(self.crc32, other.crc32, other.nbytes)
        self.nbytes += other.nbytes
        self.read_file = self.read_file or other.read_file

        later_sample = [[line + shift, list(failures)] for line, failures in other.sample]
        if self.unique:
            later_sample = self._merge_unique(other, shift, later_sample)
        room = self.sample_limit - len(self.sample)
        if room > 0:
            self.sample.extend(later_sample[:room])
        return self

    def _merge_unique(self, other: "Report", shift: int, later_sample: list) -> list:
        unique_rank = RULE_RANK["unique"]
        newly = {}  # line in other -> [already_failing, [column indexes]]
        for ci, mine in self.unique.items():
            # Keys of other already held here: other's first occurrence fails.
            for _, packed in mine.absorb(other.unique[ci], shift):
                line = (packed >> 1) + shift
                entry = newly.get(line)
                if entry is None:
                    entry = newly[line] = [packed & 1, []]
                entry[1].append(ci)
        if not newly:
            return later_sample
        for line, (already_failing, columns) in newly.items():
            for ci in columns:
                self.counts[ci]["unique"] += 1
            if not already_failing:
                self.error_rows += 1
        if len(self.unique) > 1:
            # A row that now fails may be the first occurrence of a key of
            # another unique column (just inserted here from other): mark it
            # failed, for later merges. Only other's keys are visited, never
            # the whole accumulated table.
            for ci, mine in self.unique.items():
                for d, packed in other.unique[ci].items():
                    line = (packed >> 1) + shift
                    if not packed & 1 and line in newly and mine.get(d) == packed + (shift << 1):
                        mine.put(d, (line << 1) | 1)
        by_line = {entry[0]: entry for entry in later_sample}
        for line, (already_failing, columns) in newly.items():
            failures = [(ci, unique_rank, "unique", None) for ci in columns]
            entry = by_line.get(line)
            if entry is not None:
                entry[1] = sorted(entry[1] + failures, key=failure_order)
            elif not already_failing:
                # Had no failure before, so it was in no sample: it may now be
                # among the lowest failing lines.
                by_line[line] = [line, failures]
            # A row that already failed but is not in the sample has at least
            # a full sample of failing rows before it: it cannot enter.
        return sorted(by_line.values(), key=lambda entry: entry[0])

    # -- outcome -----------------------------------------------------------

    def error_ratio(self) -> Fraction:
        return Fraction(self.error_rows, self.rows) if self.rows else Fraction(0)

    def reasons(self) -> list:
        reasons = [message for _, message in self.file_issues]
        for kind in sorted(self.structural, key=_kind_order):
            first = next((i for i in self.issues if i[2] == kind), None)
            where = f"; first at line {first[1]}, byte {first[0]}: {first[3]}" if first else ""
            reasons.append(f"{_KIND_TEXT.get(kind, kind)} on {self.structural[kind]} line(s){where}")
        contract = self.contract
        if contract is None or self.file_issues:
            return reasons
        if self.rows < contract.min_rows:
            reasons.append(f"row count {self.rows} is below min_rows {contract.min_rows}")
        if contract.max_rows is not None and self.rows > contract.max_rows:
            reasons.append(f"row count {self.rows} is above max_rows {contract.max_rows}")
        if self.error_ratio() > contract.max_error_ratio:
            reasons.append(
                f"{self.error_rows} of {self.rows} rows failed validation ({float(self.error_ratio()):.2%}), "
                f"above max_error_ratio {contract.max_error_ratio_text}; most failed: {self._top_rules()}"
            )
        return reasons

    def _top_rules(self, limit: int = 5) -> str:
        found = [(n, f"{ROW}.{rule}") for rule, n in self.row_counts.items() if n]
        for name, counts in zip(self.column_names, self.counts):
            found.extend((n, f"{name}.{rule}") for rule, n in counts.items() if n)
        found.sort(key=lambda item: (-item[0], item[1]))
        return ", ".join(f"{label} {n}" for n, label in found[:limit])

    def status(self) -> str:
        return FAILED if self.reasons() else PASSED

    def to_dict(self) -> dict:
        reasons = self.reasons()
        contract = self.contract
        rule_counts = {}
        if self.row_counts:
            rule_counts[ROW] = dict(self.row_counts)
        for name, counts in zip(self.column_names, self.counts):
            rule_counts[name] = dict(counts)
        counts = dict(self.structural)
        for kind, _ in self.file_issues:
            counts[kind] = counts.get(kind, 0) + 1
        issues = [{"kind": kind, "message": message} for kind, message in self.file_issues]
        issues.extend(
            {"kind": kind, "line": line, "offset": offset, "message": detail}
            for offset, line, kind, detail in self.issues
        )
        return {
            "schemaVersion": SCHEMA_VERSION,
            "dataset": self.dataset,
            "status": FAILED if reasons else PASSED,
            "reasons": reasons,
            "rowCount": self.rows,
            "errorRows": self.error_rows,
            "errorRatio": round(float(self.error_ratio()), 6),
            "maxErrorRatio": float(contract.max_error_ratio) if contract else None,
            "lineCount": self.lines,
            "blankLines": self.blank_lines,
            "bytes": self.nbytes,
            "checksum": {"algorithm": "crc32", "value": f"{self.crc32:08x}"} if self.read_file else None,
            "ruleCounts": rule_counts,
            "uniqueKeys": self._unique_keys(),
            "structural": {"counts": dict(sorted(counts.items(), key=lambda kv: _kind_order(kv[0]))), "issues": issues},
            "sampleLimit": self.sample_limit,
            "sample": [self._sample_entry(line, failures) for line, failures in self.sample],
        }

    def _unique_keys(self) -> dict:
        if self.unique_keys is not None:
            return {self.column_names[i]: n for i, n in sorted(self.unique_keys.items())}
        return {self.column_names[i]: len(t) for i, t in self.unique.items()}

    def _sample_entry(self, line: int, failures: list) -> dict:
        out = []
        for ci, _, rule, shown in failures:
            if ci < 0:
                out.append({"column": None, "rule": rule, "detail": printable(shown)})
                continue
            item = {"column": self.column_names[ci], "rule": rule}
            if rule != "unique":
                item["value"] = shown
            out.append(item)
        return {"line": line, "failures": out}


def _kind_order(kind: str) -> tuple:
    return (STRUCTURAL_KINDS.index(kind) if kind in STRUCTURAL_KINDS else len(STRUCTURAL_KINDS), kind)


def failure_order(failure: tuple) -> tuple:
    return failure[0], failure[1]


_KIND_TEXT = {
    "invalid_utf8": "invalid UTF-8",
    "line_too_long": "line longer than max_line_bytes",
}


def merge_reports(reports: Iterable[Report]) -> Report:
    """Merge partition reports given in partition order."""
    merged = None
    for report in reports:
        merged = report if merged is None else merged.merge(report)
    if merged is None:
        raise ValueError("no reports to merge")
    return merged


def shown_value(text: str, redact: bool) -> str:
    if redact:
        return "<redacted>"
    if len(text) > SHOWN_VALUE_CHARS:
        text = text[:SHOWN_VALUE_CHARS] + "…"
    return printable(text)
