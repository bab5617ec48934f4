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
from .shuffle import BoundaryMismatch, UniqueShuffle, run_plan
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


def validate_s3_object(args: JobArgs, s3, contracts: list, run_partitions=local_run, client_factory=default_s3_client):
    """``(report, size, version_id)`` for the object version named in ``args``."""
    head_params = {"Bucket": args.bucket, "Key": args.key}
    if args.version_id:
        head_params["VersionId"] = args.version_id
    head = s3.head_object(**head_params)
    size = int(head["ContentLength"])
    version_id = args.version_id or head.get("VersionId")
    contract, failed = resolve_contract(contracts, args.key)
    if failed is not None:
        failed.nbytes = size
        return failed, size, version_id
    with S3RangeReader(s3, args.bucket, args.key, version_id) as read:
        plan, failed = plan_file(contract, read, size)
    if failed is not None:
        return failed, size, version_id
    count = partition_count(size, args.partition_bytes, args.max_partitions)
    shuffle = UniqueShuffle(contract.sample_size)
    records = PartitionRecords(RangeTask(plan, args.bucket, args.key, version_id, size, client_factory), shuffle)
    return run_ranges(run_partitions, records, split_ranges(size, count), shuffle), size, version_id


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
