"""What the Glue job does, with every AWS client and the Spark map injected.

``glue/jobs/validate_object.py`` only parses the job arguments, builds the
clients and passes a runner that executes the partition plan on Spark
(``shuffle.run_spark``: one task per byte range, ``unique`` keys shuffled to
the executors, only reports, counts and samples collected); the tests and the
default runner execute the very same functions on lists (``shuffle.run_plan``).

Partitioning: the driver reads the object size (HeadObject, which also pins
the version when the trigger gave none) and the first line (header checks),
then cuts ``[0, size)`` into byte ranges of about ``partition_bytes``. Each
executor opens one ranged GetObject on the same version, skips the partial
line it starts in and reads past its end to finish its last line (see
``ranges``). Reports come back in range order and are merged there, which is
what makes line numbers, samples, unique keys and the CRC-32 exact. A
contract with ``multiline: true`` (quoted newlines) is split too: each range
guesses its first record boundary, the driver checks the ranges meet, and
re-runs from the previous range's last record end where they do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from .actions import settle
from .contracts import load_contracts_zip
from .ranges import S3RangeReader, split_ranges
from .shuffle import BoundaryMismatch, RangeFailed, UniqueShuffle, by_object, run_plan
from .validator import Plan, plan_file, resolve_contract, validate_range

DEFAULT_PARTITION_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_PARTITIONS = 200


@dataclass(frozen=True)
class JobArgs:
    bucket: str
    key: str
    version_id: Optional[str]
    correlation_id: str
    results_topic_arn: str
    contracts_uri: str
    reports_prefix: str = "reports/"
    validated_prefix: str = "validated/"
    quarantine_prefix: str = "quarantine/"
    incoming_prefix: str = "incoming/"
    delete_source: bool = False
    partition_bytes: int = DEFAULT_PARTITION_BYTES
    max_partitions: int = DEFAULT_MAX_PARTITIONS


def parse_s3_uri(uri: str):
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"expected s3://bucket/key, got {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    if not bucket or not key:
        raise ValueError(f"expected s3://bucket/key, got {uri!r}")
    return bucket, key


def load_contracts(s3, uri: str) -> list:
    """All ``*.json`` contracts of the ZIP at ``uri``, read into memory."""
    bucket, key = parse_s3_uri(uri)
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return load_contracts_zip(data, uri)


def partition_count(size: int, partition_bytes: int, max_partitions: int) -> int:
    if partition_bytes < 1 or max_partitions < 1:
        raise ValueError("partition_bytes and max_partitions must be positive")
    return max(1, min(max_partitions, -(-size // partition_bytes)))


def default_s3_client():
    import boto3  # only on Glue; the core itself needs no third-party package

    return boto3.client("s3")


class RangeTask:
    """Validate one byte range; pickled to the Spark executors, so it holds
    plain data and a module-level client factory, never a client."""

    def __init__(self, plan: Plan, bucket: str, key: str, version_id: Optional[str], size: int, client_factory):
        self.plan = plan
        self.bucket = bucket
        self.key = key
        self.version_id = version_id
        self.size = size
        self.client_factory = client_factory

    def __call__(self, byte_range):
        start, end, *first_record = byte_range
        with S3RangeReader(self.client_factory(), self.bucket, self.key, self.version_id) as read:
            return validate_range(self.plan, read, self.size, start, end, first_record=(first_record or [None])[0])


class PartitionRecords:
    """``(index, range) -> records`` of the shuffle plan: validate the range,
    then emit its report and unique keys (see ``shuffle``)."""

    def __init__(self, task: RangeTask, shuffle: UniqueShuffle):
        self.task = task
        self.shuffle = shuffle

    def __call__(self, indexed_range):
        index, byte_range = indexed_range
        return self.shuffle.emit(index, self.task(byte_range))


def local_run(records: Callable, indexed_ranges: list, shuffle: UniqueShuffle) -> list:
    """Run the partition plan in this process (tests, a job without Spark);
    returns what the driver collects."""
    return run_plan(shuffle, (item for r in indexed_ranges for item in records(r)))


@dataclass
class Prepared:
    """What the driver learned about one object before Spark: its size and
    version, and either a finished (failed) report or the plan and ranges."""

    size: int
    version_id: Optional[str]
    report: Optional[object] = None
    task: Optional[RangeTask] = None
    ranges: tuple = ()


def prepare_object(bucket: str, key: str, version_id, s3, contracts: list, partition_bytes: int, max_partitions: int, client_factory) -> Prepared:
    head_params = {"Bucket": bucket, "Key": key}
    if version_id:
        head_params["VersionId"] = version_id
    head = s3.head_object(**head_params)
    size = int(head["ContentLength"])
    version_id = version_id or head.get("VersionId")
    contract, failed = resolve_contract(contracts, key)
    if failed is not None:
        failed.nbytes = size
        return Prepared(size, version_id, report=failed)
    with S3RangeReader(s3, bucket, key, version_id) as read:
        plan, failed = plan_file(contract, read, size)
    if failed is not None:
        return Prepared(size, version_id, report=failed)
    count = partition_count(size, partition_bytes, max_partitions)
    task = RangeTask(plan, bucket, key, version_id, size, client_factory)
    return Prepared(size, version_id, task=task, ranges=tuple(split_ranges(size, count)))


def validate_s3_object(args: JobArgs, s3, contracts: list, run_partitions=local_run, client_factory=default_s3_client):
    """``(report, size, version_id)`` for the object version named in ``args``."""
    prepared = prepare_object(
        args.bucket, args.key, args.version_id, s3, contracts, args.partition_bytes, args.max_partitions, client_factory
    )
    if prepared.report is not None:
        return prepared.report, prepared.size, prepared.version_id
    shuffle = UniqueShuffle(prepared.task.plan.contract.sample_size)
    report = run_ranges(run_partitions, PartitionRecords(prepared.task, shuffle), prepared.ranges, shuffle)
    return report, prepared.size, prepared.version_id


def run_ranges(run_partitions, records, ranges: list, shuffle: UniqueShuffle):
    """Run the plan; for multiline CSV, where a range guessed its first record
    wrong, run again with that range starting where the previous one ended
    (a second miss folds the rest of the file into that one range, which
    then cannot miss)."""
    ranges = [tuple(r) for r in ranges]
    for attempt in range(3):
        try:
            return shuffle.finish(run_partitions(records, list(enumerate(ranges)), shuffle))
        except BoundaryMismatch as miss:
            start, end = ranges[miss.index][:2]
            if attempt == 0:
                ranges[miss.index] = (start, end, miss.expected)
            else:
                ranges[miss.index :] = [(start, ranges[-1][1], miss.expected)]
    raise RuntimeError("multiline ranges did not meet after folding the tail into one range")


def run_job(args: JobArgs, s3, sns, run_partitions=local_run, client_factory=default_s3_client) -> dict:
    """Validate, then report, copy, confirm, publish (and delete if asked).
    Returns the published summary. Bad *data* never raises: it yields a
    FAILED report and a quarantined copy. Broken contracts or AWS errors do
    raise, so the job run fails and its retries and alarms take over."""
    contracts = load_contracts(s3, args.contracts_uri)
    report, size, version_id = validate_s3_object(args, s3, contracts, run_partitions, client_factory)
    return settle(
        s3,
        sns,
        report.to_dict(),
        bucket=args.bucket,
        key=args.key,
        version_id=version_id,
        size=size,
        correlation_id=args.correlation_id,
        topic_arn=args.results_topic_arn,
        reports_prefix=args.reports_prefix,
        incoming_prefix=args.incoming_prefix,
        validated_prefix=args.validated_prefix,
        quarantine_prefix=args.quarantine_prefix,
        delete_source=args.delete_source,
    )


# -- a batch of objects in one Spark job ----------------------------------------


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    version_id: Optional[str]
    correlation_id: str


@dataclass(frozen=True)
class BatchArgs:
    objects: tuple
    results_topic_arn: str
    contracts_uri: str
    reports_prefix: str = "reports/"
    validated_prefix: str = "validated/"
    quarantine_prefix: str = "quarantine/"
    incoming_prefix: str = "incoming/"
    delete_source: bool = False
    partition_bytes: int = DEFAULT_PARTITION_BYTES
    max_partitions: int = DEFAULT_MAX_PARTITIONS


def parse_objects(doc) -> tuple:
    """The batch from ``--objects``: a JSON list of ``{"bucket", "key",
    "versionId" (string or null), "correlationId"}``."""
    if not isinstance(doc, list) or not doc:
        raise ValueError("--objects must be a non-empty JSON list of {bucket, key, versionId, correlationId}")
    refs, seen = [], set()
    for i, item in enumerate(doc):
        if not isinstance(item, dict):
            raise ValueError(f"--objects[{i}] must be an object with bucket, key, versionId, correlationId")
        unknown = set(item) - {"bucket", "key", "versionId", "correlationId"}
        if unknown:
            raise ValueError(f"--objects[{i}] has unknown field(s) {', '.join(sorted(unknown))}")
        for name in ("bucket", "key", "correlationId"):
            if not isinstance(item.get(name), str) or not item[name]:
                raise ValueError(f"--objects[{i}].{name} must be a non-empty string")
        version = item.get("versionId")
        if version is not None and not isinstance(version, str):
            raise ValueError(f"--objects[{i}].versionId must be a string or null")
        if item["correlationId"] in seen:
            raise ValueError(f"--objects[{i}].correlationId {item['correlationId']!r} appears twice in the batch")
        seen.add(item["correlationId"])
        refs.append(ObjectRef(item["bucket"], item["key"], version if version not in ("", "null") else None, item["correlationId"]))
    return tuple(refs)


class BatchIncomplete(RuntimeError):
    """Some objects of a batch could not be validated (AWS errors, not bad
    data); every other object was settled before this is raised."""

    def __init__(self, summaries: list, errors: dict):
        listed = "; ".join(f"{cid}: {message}" for cid, message in errors.items())
        super().__init__(f"{len(errors)} of {len(summaries)} object(s) not validated: {listed}")
        self.summaries = summaries
        self.errors = errors


class BatchRecords:
    """``((object, range index), range) -> records``: like
    :class:`PartitionRecords` over many objects. A range that raises sends an
    error record instead, so only its own object fails."""

    def __init__(self, tasks: dict, shuffle: UniqueShuffle):
        self.tasks = tasks
        self.shuffle = shuffle

    def __call__(self, item):
        part, byte_range = item
        try:
            report = self.tasks[part[0]](byte_range)
        except Exception as err:  # noqa: BLE001 - reported per object, the batch goes on
            return self.shuffle.failed(part, f"{type(err).__name__}: {err}")
        return self.shuffle.emit(part, report)


def run_batch(args: BatchArgs, s3, sns, run_partitions=local_run, client_factory=default_s3_client) -> list:
    """Validate every object of the batch in one Spark job (each object's byte
    ranges are partitions of it), then settle each object on its own: its
    report, copy and result message under its own correlation id, exactly as
    a single-object run does. Bad data fails only its object (a FAILED
    report); an object that raises (missing, unreadable) is left out and
    named in :class:`BatchIncomplete`, raised after all others are settled.
    Returns the published summaries, in batch order."""
    contracts = load_contracts(s3, args.contracts_uri)
    n = len(args.objects)
    prepared, errors = [None] * n, {}
    for i, ref in enumerate(args.objects):
        try:
            prepared[i] = prepare_object(
                ref.bucket, ref.key, ref.version_id, s3, contracts, args.partition_bytes, args.max_partitions, client_factory
            )
        except Exception as err:  # noqa: BLE001
            errors[i] = f"{type(err).__name__}: {err}"
    planned = {i: p for i, p in enumerate(prepared) if p is not None and p.report is None}
    reports = {i: p.report for i, p in enumerate(prepared) if p is not None and p.report is not None}
    if planned:
        shuffle = UniqueShuffle(max(p.task.plan.contract.sample_size for p in planned.values()))
        items = [((i, r), rng) for i, p in planned.items() for r, rng in enumerate(p.ranges)]
        collected = run_partitions(BatchRecords({i: p.task for i, p in planned.items()}, shuffle), items, shuffle)
        groups = by_object(collected)
        for i in set(planned) - set(groups):
            errors[i] = "no report came back for this object"
        for i, parts in groups.items():
            p = planned[i]
            try:
                reports[i] = shuffle.finish(parts)
            except BoundaryMismatch:
                # Multiline guess missed: this object alone, with its re-runs.
                own = UniqueShuffle(p.task.plan.contract.sample_size)
                try:
                    reports[i] = run_ranges(run_partitions, PartitionRecords(p.task, own), p.ranges, own)
                except Exception as err:  # noqa: BLE001
                    errors[i] = f"{type(err).__name__}: {err}"
            except RangeFailed as err:
                errors[i] = str(err)
    summaries = [None] * n
    for i, ref in enumerate(args.objects):
        if i in errors:
            continue
        try:
            summaries[i] = settle(
                s3,
                sns,
                reports[i].to_dict(),
                bucket=ref.bucket,
                key=ref.key,
                version_id=prepared[i].version_id,
                size=prepared[i].size,
                correlation_id=ref.correlation_id,
                topic_arn=args.results_topic_arn,
                reports_prefix=args.reports_prefix,
                incoming_prefix=args.incoming_prefix,
                validated_prefix=args.validated_prefix,
                quarantine_prefix=args.quarantine_prefix,
                delete_source=args.delete_source,
            )
        except Exception as err:  # noqa: BLE001
            errors[i] = f"{type(err).__name__}: {err}"
    if errors:
        raise BatchIncomplete(summaries, {args.objects[i].correlation_id: m for i, m in sorted(errors.items())})
    return summaries
