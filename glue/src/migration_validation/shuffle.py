"""``unique`` across partitions without sending the keys to the driver.

Collecting every partition's digest table to the driver costs about 28 bytes
per key per unique column on one machine (past Spark's 1 GiB result limit
near 19 M rows). Instead the key digests are shuffled by hash to the
executors, duplicates are found there, and the driver receives per
partition only its report (without tables), counts, and the failing rows
with the lowest line numbers: at most ``sample_size`` rows a partition.

The plan is three keyed reductions, written as plain functions so the Glue
entry runs them with ``reduceByKey`` and the tests (and the local job
runner) run them on lists with :func:`run_plan`:

1. ``emit(p, report)`` (executor, after validating range ``p``): the report,
   its tables stripped, keyed ``(REPORT, p)``; and for each distinct key of a
   unique column ``ci`` in the range, ``(KEY, object, ci, digest) -> ((p, line, flag),)``
   where ``line`` is the key's first line in the range and ``flag`` says that
   row already failed a rule there.
2. ``combine_occurrences`` gathers the ranges that hold a key. ``outcomes``
   then keeps the lowest range as the key's first occurrence (one distinct
   key, counted ``(DISTINCT, p, ci)``) and turns every later range's first
   occurrence into a ``unique`` failure of that row, ``(FAILED_ROW, p, line)``.
   Later occurrences inside one range were already counted by the range.
3. ``combine_rows`` joins the columns a row fails on (a row failing on two
   columns is one error row); ``summarize`` and ``combine_summaries`` fold
   everything of range ``p`` into one :class:`PartSummary`, keeping only the
   ``sample_size`` lowest failing rows (no row beyond those can reach the
   merged sample: the range's own sample already holds the lowest lines).

``finish`` (driver) merges the reports in range order and applies each
range's counts and rows, shifted by the lines before it. The result equals
the sequential merge of reports with tables (``Report.merge``) and the
one-pass report of the whole file; the tests check all three agree.
"""

from __future__ import annotations

from itertools import chain
from typing import Iterable, Iterator, List, Optional, Tuple

from .report import Report, failure_order, merge_reports
from .rules import RULE_RANK

# Record kinds are small ints (and keys hold ints, None and tuples only) so
# PySpark's portable_hash partitions them the same in every worker, without
# depending on string hash seeds. ERROR is never a row flag (0 or 1).
REPORT, KEY, DISTINCT, FAILED_ROW, ERROR = 10, 11, 12, 13, 14
_UNIQUE_RANK = RULE_RANK["unique"]


class BoundaryMismatch(Exception):
    """Multiline CSV: range ``index`` did not start where the previous range's
    last record ended (``expected``); the caller re-runs it from there."""

    def __init__(self, index: int, expected: int):
        super().__init__(f"range {index} must start at byte {expected}")
        self.index = index
        self.expected = expected


class RangeFailed(RuntimeError):
    """A range raised on its executor (an S3 error, for example)."""


class PartSummary:
    """What the driver receives for one range."""

    __slots__ = ("report", "distinct", "counts", "new_error_rows", "rows", "errors")

    def __init__(self, report: Optional[Report] = None):
        self.report = report
        self.errors = ()  # a range that raised (batch runs: only its object fails)
        self.distinct = {}  # column index -> keys whose first occurrence is here
        self.counts = {}  # column index -> unique failures added here
        self.new_error_rows = 0  # rows that had not failed before
        self.rows = []  # (line, columns, flag), lowest lines, at most sample_size

    def __getstate__(self):
        return (self.report, self.distinct, self.counts, self.new_error_rows, self.rows, self.errors)

    def __setstate__(self, state):
        self.report, self.distinct, self.counts, self.new_error_rows, self.rows, self.errors = state


class UniqueShuffle:
    """The functions the Spark job maps and reduces with (picklable)."""

    def __init__(self, sample_limit: int):
        self.sample_limit = sample_limit

    # -- stage 1: executor ----------------------------------------------------

    def emit(self, p, report: Report) -> Iterator[tuple]:
        """``p`` is the range index, or ``(object, range index)`` in a batch:
        keys are then compared within their object only."""
        tables = report.unique
        report.strip_unique_tables()
        group = p[0] if isinstance(p, tuple) else None
        yield (REPORT, p), report
        for ci, table in tables.items():
            for d, packed in table.items():
                yield (KEY, group, ci, d), ((p, packed >> 1, packed & 1),)

    @staticmethod
    def failed(p, message: str) -> list:
        """The record of a range that raised instead of producing a report."""
        return [((ERROR, p), ((message,),))]

    @staticmethod
    def combine_occurrences(a: tuple, b: tuple) -> tuple:
        return tuple(sorted(a + b))

    # -- stage 2: per key ------------------------------------------------------

    @staticmethod
    def outcomes(item: tuple) -> Iterator[tuple]:
        key, value = item
        if key[0] == REPORT:
            yield key, value
            return
        if key[0] == ERROR:
            yield key, (ERROR, value[0])
            return
        ci = key[2]
        first, *later = sorted(value)
        yield (DISTINCT, first[0], ci), 1
        for p, line, flag in later:
            yield (FAILED_ROW, p, line), (flag, (ci,))

    @staticmethod
    def combine_rows(a, b):
        if isinstance(a, int):
            return a + b  # distinct key counts
        if a[0] == ERROR:
            return (ERROR, a[1] + b[1])
        return (a[0] | b[0], a[1] + b[1])

    # -- stage 3: per range ------------------------------------------------------

    def summarize(self, item: tuple) -> Tuple[int, PartSummary]:
        key, value = item
        kind, p = key[0], key[1]
        if kind == REPORT:
            return p, PartSummary(value)
        summary = PartSummary()
        if kind == ERROR:
            summary.errors = value[1]
            return p, summary
        if kind == DISTINCT:
            summary.distinct[key[2]] = value
            return p, summary
        flag, columns = value
        columns = tuple(sorted(columns))
        for ci in columns:
            summary.counts[ci] = 1
        summary.new_error_rows = 0 if flag else 1
        if self.sample_limit:
            summary.rows.append((key[2], columns, flag))
        return p, summary

    def combine_summaries(self, a: PartSummary, b: PartSummary) -> PartSummary:
        a.report = a.report if a.report is not None else b.report
        a.errors = a.errors + b.errors
        for ci, n in b.distinct.items():
            a.distinct[ci] = a.distinct.get(ci, 0) + n
        for ci, n in b.counts.items():
            a.counts[ci] = a.counts.get(ci, 0) + n
        a.new_error_rows += b.new_error_rows
        if b.rows:
            a.rows = sorted(a.rows + b.rows)[: self.sample_limit]
        return a

    # -- driver ----------------------------------------------------------------

    def finish(self, collected: Iterable[tuple]) -> Report:
        """The merged report of one object from its ranges' summaries."""
        parts = sorted(((p[1] if isinstance(p, tuple) else p), s) for p, s in collected)
        errors = [message for _, s in parts for message in s.errors]
        if errors:
            raise RangeFailed("; ".join(errors))
        if [p for p, _ in parts] != list(range(len(parts))) or any(s.report is None for _, s in parts):
            raise ValueError("every range must send exactly one report")
        expected = 0
        for p, summary in parts:
            start = summary.report.record_start
            if start is not None and start != expected:
                raise BoundaryMismatch(p, expected)
            expected = summary.report.record_end
        shifts, lines = [], 0
        for _, summary in parts:
            shifts.append(lines)
            lines += summary.report.lines
        merged = merge_reports(summary.report for _, summary in parts)
        distinct = dict.fromkeys(merged.unique_keys or (), 0)
        by_line = {entry[0]: entry for entry in merged.sample}
        for (_, summary), shift in zip(parts, shifts):
            for ci, n in summary.distinct.items():
                distinct[ci] = distinct.get(ci, 0) + n
            for ci, n in summary.counts.items():
                merged.counts[ci]["unique"] += n
            merged.error_rows += summary.new_error_rows
            for line, columns, flag in summary.rows:
                line += shift
                failures = [(ci, _UNIQUE_RANK, "unique", None) for ci in columns]
                entry = by_line.get(line)
                if entry is not None:
                    entry[1] = sorted(entry[1] + failures, key=failure_order)
                elif not flag:
                    by_line[line] = [line, failures]
        merged.sample = sorted(by_line.values(), key=lambda entry: entry[0])[: merged.sample_limit]
        merged.unique_keys = distinct
        return merged


def by_object(collected: Iterable[tuple]) -> dict:
    """Batch runs: the collected summaries grouped by object index."""
    groups = {}
    for p, summary in collected:
        groups.setdefault(p[0], []).append((p, summary))
    return groups


def reduce_by_key(pairs: Iterable[tuple], combine) -> List[tuple]:
    """``rdd.reduceByKey(combine)`` on a list, in one process."""
    out = {}
    for key, value in pairs:
        out[key] = combine(out[key], value) if key in out else value
    return list(out.items())


def run_plan(shuffle: UniqueShuffle, records: Iterable[tuple]) -> list:
    """The reductions on lists, in one process, from the records of every
    range; returns what the driver receives (``finish`` merges it)."""
    stage1 = reduce_by_key(records, shuffle.combine_occurrences)
    stage2 = reduce_by_key(chain.from_iterable(map(shuffle.outcomes, stage1)), shuffle.combine_rows)
    return reduce_by_key(map(shuffle.summarize, stage2), shuffle.combine_summaries)


def run_spark(sc, records, indexed_ranges: list, shuffle: UniqueShuffle) -> list:
    """The same plan on a SparkContext: one task per range, then the keyed
    reductions spread over as many shuffle partitions; returns what the
    driver collects."""
    n = max(1, len(indexed_ranges))
    return (
        sc.parallelize(indexed_ranges, n)
        .flatMap(records)
        .reduceByKey(shuffle.combine_occurrences, n)
        .flatMap(shuffle.outcomes)
        .reduceByKey(shuffle.combine_rows, n)
        .map(shuffle.summarize)
        .reduceByKey(shuffle.combine_summaries, n)
        .collect()
    )
