"""Glue 5.x (PySpark, Python 3.11) entry of the validation job.

Arguments from the trigger Lambda (per run):
    --bucket --key --version_id --correlation_id
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
    "bucket",
    "key",
    "version_id",
    "correlation_id",
    "results_topic_arn",
    "contracts_uri",
    "reports_prefix",
    "validated_prefix",
    "quarantine_prefix",
]
OPTIONAL = ["incoming_prefix", "delete_source", "partition_bytes", "max_partitions"]


def optional_args(argv: list) -> list:
    """getResolvedOptions fails on a missing name, so only ask for those given."""
    return [name for name in OPTIONAL if f"--{name}" in argv]


def to_job_args(options: dict):
    from migration_validation.job import DEFAULT_MAX_PARTITIONS, DEFAULT_PARTITION_BYTES, JobArgs

    version_id = options.get("version_id") or None
    if version_id in ("null", "None"):
        version_id = None
    delete_source = str(options.get("delete_source", "false")).strip().lower()
    if delete_source not in ("true", "false"):
        raise ValueError(f"--delete_source must be true or false, got {options['delete_source']!r}")
    return JobArgs(
        bucket=options["bucket"],
        key=options["key"],
        version_id=version_id,
        correlation_id=options["correlation_id"],
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


def main(argv: list) -> dict:
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    from migration_validation.job import default_s3_client, run_job
    from migration_validation.shuffle import run_spark

    options = getResolvedOptions(argv, REQUIRED + optional_args(argv))
    args = to_job_args(options)
    sc = SparkContext.getOrCreate()
    glue_context = GlueContext(sc)
    job = Job(glue_context)
    job.init(options["JOB_NAME"], options)

    def run_partitions(records, indexed_ranges, shuffle):
        return run_spark(sc, records, indexed_ranges, shuffle)

    summary = run_job(
        args,
        s3=boto3.client("s3"),
        sns=boto3.client("sns"),
        run_partitions=run_partitions,
        client_factory=default_s3_client,
    )
    print(json.dumps({"validation": summary}))  # lands in the job's CloudWatch log
    job.commit()
    return summary


if __name__ == "__main__":
    main(sys.argv)
