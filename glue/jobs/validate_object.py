"""Glue 5.x (PySpark, Python 3.11) entry of the validation job.

Arguments from the trigger Lambda (per run), either one object:
    --bucket --key --version_id --correlation_id
or a batch validated in one Spark job (each object keeps its own report, copy
and result message; see docs/glue.md):
    --objects '[{"bucket": ..., "key": ..., "versionId": ..., "correlationId": ...}, ...]'
Default arguments (set on the job by the GlueStack):
    --results_topic_arn --contracts_uri --reports_prefix --validated_prefix --quarantine_prefix
Optional default arguments:
    --incoming_prefix (incoming/) --delete_source (false) --partition_bytes (67108864) --max_partitions (200)

The validation core comes from the ``migration_validation`` package shipped
with ``--extra-py-files`` (a ZIP of ``glue/src``). awsglue, pyspark and boto3
are imported inside ``main`` so this module imports on a laptop without them.
"""

from __future__ import annotations

import json
import sys

REQUIRED = [
    "JOB_NAME",
    "results_topic_arn",
    "contracts_uri",
    "reports_prefix",
    "validated_prefix",
    "quarantine_prefix",
]
SINGLE = ["bucket", "key", "version_id", "correlation_id"]
OPTIONAL = SINGLE + ["objects", "incoming_prefix", "delete_source", "partition_bytes", "max_partitions"]


def optional_args(argv: list) -> list:
    """getResolvedOptions fails on a missing name, so only ask for those given."""
    return [name for name in OPTIONAL if f"--{name}" in argv]


def is_batch(options: dict) -> bool:
    if "objects" in options:
        given = [name for name in SINGLE if name in options]
        if given:
            raise ValueError(f"give either --objects or --{', --'.join(SINGLE)}, not both (also got --{', --'.join(given)})")
        return True
    missing = [name for name in SINGLE if name not in options]
    if missing:
        raise ValueError(f"missing --{', --'.join(missing)} (or give a batch with --objects)")
    return False


def _common(options: dict) -> dict:
    from migration_validation.job import DEFAULT_MAX_PARTITIONS, DEFAULT_PARTITION_BYTES

    delete_source = str(options.get("delete_source", "false")).strip().lower()
    if delete_source not in ("true", "false"):
        raise ValueError(f"--delete_source must be true or false, got {options['delete_source']!r}")
    return dict(
        results_topic_arn=options["results_topic_arn"],
        contracts_uri=options["contracts_uri"],
        reports_prefix=options["reports_prefix"],
        validated_prefix=options["validated_prefix"],
        quarantine_prefix=options["quarantine_prefix"],
        incoming_prefix=options.get("incoming_prefix", "incoming/"),
        delete_source=delete_source == "true",
        partition_bytes=int(options.get("partition_bytes", DEFAULT_PARTITION_BYTES)),
        max_partitions=int(options.get("max_partitions", DEFAULT_MAX_PARTITIONS)),
    )


def to_batch_args(options: dict):
    from migration_validation.job import BatchArgs, parse_objects

    try:
        doc = json.loads(options["objects"])
    except json.JSONDecodeError as err:
        raise ValueError(f"--objects is not valid JSON: {err}") from None
    return BatchArgs(objects=parse_objects(doc), **_common(options))


def to_job_args(options: dict):
    from migration_validation.job import JobArgs

    version_id = options.get("version_id") or None
    if version_id in ("null", "None"):
        version_id = None
    return JobArgs(
        bucket=options["bucket"],
        key=options["key"],
        version_id=version_id,
        correlation_id=options["correlation_id"],
        **_common(options),
    )


def main(argv: list) -> dict:
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    from migration_validation.job import BatchIncomplete, default_s3_client, run_batch, run_job
    from migration_validation.shuffle import run_spark

    options = getResolvedOptions(argv, REQUIRED + optional_args(argv))
    batch = is_batch(options)
    args = to_batch_args(options) if batch else to_job_args(options)
    sc = SparkContext.getOrCreate()
    glue_context = GlueContext(sc)
    job = Job(glue_context)
    job.init(options["JOB_NAME"], options)

    def run_partitions(records, indexed_ranges, shuffle):
        return run_spark(sc, records, indexed_ranges, shuffle)

    try:
        summary = (run_batch if batch else run_job)(
            args,
            s3=boto3.client("s3"),
            sns=boto3.client("sns"),
            run_partitions=run_partitions,
            client_factory=default_s3_client,
        )
    except BatchIncomplete as err:
        # The settled objects are done; the run fails for the others (retried
        # objects that were settled just rewrite the same report and message).
        print(json.dumps({"validation": err.summaries, "notValidated": err.errors}))
        raise
    print(json.dumps({"validation": summary}))  # lands in the job's CloudWatch log
    job.commit()
    return summary


if __name__ == "__main__":
    main(sys.argv)
