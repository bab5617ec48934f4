"""S3 and SNS side effects of a validation, with duck-typed (boto3-like) clients.

Order, and why:

1. write the full report to ``reports/<dataset>/<correlation id>.json``
   (see :func:`full_report` for what it holds);
2. copy the exact object version to ``validated/`` or ``quarantine/``
   (same path below ``incoming/``);
3. confirm the copy with HeadObject (the copy exists and has the source size);
4. publish the summary to the results topic: downstream only hears about an
   object once its validated/quarantined copy is in place;
5. only if asked (``delete_source``), delete the incoming object *version*,
   never before step 3 succeeded. Off by default: DataSync re-sends files
   missing from its destination, so deleting from ``incoming/`` would make
   the next scheduled transfer copy (and validate) them again. Deleting the
   version, not the key, never hides a newer upload of the same key.

A repeat of the whole sequence (a retried job, a duplicate trigger) rewrites
the same report and copy keys and publishes the same summary again, which the
Step Functions trigger treats as a no-op.
"""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import quote, urlencode

from .report import PASSED, UNKNOWN_DATASET
from .values import utf8_json

SUMMARY_SCHEMA_VERSION = 1
MAX_SINGLE_COPY_BYTES = 5 * 1024**3  # CopyObject limit; larger objects use a multipart copy
MAX_SUMMARY_REASONS = 10
MAX_REASON_CHARS = 500
_CORRELATION_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


class CopyNotConfirmed(RuntimeError):
    """HeadObject of the copy did not show the object we copied."""


def report_key(reports_prefix: str, dataset: str, correlation_id: str) -> str:
    if not _CORRELATION_ID_RE.fullmatch(correlation_id):
        raise ValueError(
            f"correlation id {correlation_id!r} must be 1-128 characters of letters, digits, '.', '_', ':' or '-'"
        )
    return f"{_prefix(reports_prefix)}{dataset or UNKNOWN_DATASET}/{correlation_id}.json"


def destination_key(key: str, status: str, incoming_prefix: str, validated_prefix: str, quarantine_prefix: str) -> str:
    """Same path below ``incoming/``, under the validated or quarantine prefix."""
    incoming = _prefix(incoming_prefix)
    rest = key[len(incoming) :] if key.startswith(incoming) else key
    return _prefix(validated_prefix if status == PASSED else quarantine_prefix) + rest


def _prefix(prefix: str) -> str:
    if not prefix or prefix.startswith("/"):
        raise ValueError(f"prefix {prefix!r} must be a non-empty relative S3 prefix")
    return prefix if prefix.endswith("/") else prefix + "/"


def full_report(
    report: dict,
    *,
    bucket: str,
    key: str,
    version_id: Optional[str],
    correlation_id: str,
    destination_key: str,
) -> dict:
    """The report as written to ``reports/<dataset>/<correlation id>.json``.

    The object's identity is at the top level under the same names the
    published summary uses (``correlationId``, ``bucket``, ``key``,
    ``versionId``), so whoever reads a report (the smoke test, a person) finds
    it where the summary put it; ``source`` repeats it for older readers.
    """
    full = dict(report)
    full.update(
        {
            "correlationId": correlation_id,
            "bucket": bucket,
            "key": key,
            "versionId": version_id,
            "destinationKey": destination_key,
            "source": {"bucket": bucket, "key": key, "versionId": version_id, "correlationId": correlation_id},
        }
    )
    return full


def write_report(s3, bucket: str, key: str, report: dict) -> None:
    body = utf8_json(report, indent=2).encode("utf-8")
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


def copy_version(s3, bucket: str, key: str, version_id: Optional[str], dest_key: str, size: int) -> dict:
    """Copy one object version inside the bucket and return the HeadObject of
    the copy once it is confirmed; raise :class:`CopyNotConfirmed` otherwise."""
    source = {"Bucket": bucket, "Key": key}
    if version_id:
        source["VersionId"] = version_id
    copy_version_id = None
    if size <= MAX_SINGLE_COPY_BYTES:
        # Metadata and tags are copied by default (MetadataDirective/TaggingDirective COPY).
        response = s3.copy_object(CopySource=source, Bucket=bucket, Key=dest_key)
        copy_version_id = (response or {}).get("VersionId")
        expected = None
    else:
        # boto3's managed transfer splits the copy into UploadPartCopy calls
        # under a CreateMultipartUpload that starts with no metadata and no
        # tags: pass the source's explicitly (the role reads tags on
        # incoming/ and may put them on the destination prefixes).
        extra = multipart_copy_args(s3, source)
        s3.copy(source, bucket, dest_key, ExtraArgs=extra)
        expected = extra
    head_params = {"Bucket": bucket, "Key": dest_key}
    if copy_version_id:
        head_params["VersionId"] = copy_version_id
    head = s3.head_object(**head_params)
    if head.get("ContentLength") != size:
        raise CopyNotConfirmed(
            f"copy s3://{bucket}/{dest_key} has {head.get('ContentLength')} bytes, the source has {size}"
        )
    if expected is not None and (head.get("Metadata") or {}) != expected.get("Metadata", {}):
        raise CopyNotConfirmed(f"copy s3://{bucket}/{dest_key} lost the source's metadata")
    return head


_KEPT_HEADERS = ("ContentType", "ContentEncoding", "ContentDisposition", "ContentLanguage", "CacheControl", "Expires")


def multipart_copy_args(s3, source: dict) -> dict:
    """ExtraArgs that give a multipart copy the source version's metadata,
    content headers and tags, as CopyObject does by default."""
    head = s3.head_object(**source)
    extra = {name: head[name] for name in _KEPT_HEADERS if head.get(name)}
    extra["Metadata"] = dict(head.get("Metadata") or {})
    tags = s3.get_object_tagging(**source).get("TagSet", [])
    if tags:
        extra["Tagging"] = urlencode([(t["Key"], t["Value"]) for t in tags], quote_via=quote)  # %20, not +
    return extra


def delete_version(s3, bucket: str, key: str, version_id: Optional[str], confirmed_copy: dict) -> bool:
    """Delete the incoming version; ``confirmed_copy`` is the HeadObject that
    ``copy_version`` returned, so this cannot be called before a confirmed
    copy. Without a version id nothing is deleted (a key-level delete could
    remove a newer upload)."""
    if not confirmed_copy or "ContentLength" not in confirmed_copy:
        raise CopyNotConfirmed("refusing to delete: no confirmed copy")
    if not version_id:
        return False
    s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
    return True


def build_summary(
    report: dict,
    *,
    bucket: str,
    key: str,
    version_id: Optional[str],
    correlation_id: str,
    report_key: str,
    destination_key: str,
) -> dict:
    reasons = [r if len(r) <= MAX_REASON_CHARS else r[: MAX_REASON_CHARS - 1] + "…" for r in report["reasons"]]
    if len(reasons) > MAX_SUMMARY_REASONS:
        reasons = reasons[: MAX_SUMMARY_REASONS - 1] + [f"... and {len(reasons) - MAX_SUMMARY_REASONS + 1} more in the report"]
    return {
        "schemaVersion": SUMMARY_SCHEMA_VERSION,
        "status": report["status"],
        "dataset": report["dataset"],
        "correlationId": correlation_id,
        "bucket": bucket,
        "key": key,
        "versionId": version_id,
        "reportKey": report_key,
        "destinationKey": destination_key,
        "rowCount": report["rowCount"],
        "errorRows": report["errorRows"],
        "reasons": reasons,
    }


def publish_summary(sns, topic_arn: str, summary: dict) -> str:
    """Publish with the String attributes subscriptions filter on."""
    response = sns.publish(
        TopicArn=topic_arn,
        Message=utf8_json(summary),
        MessageAttributes={
            "status": {"DataType": "String", "StringValue": summary["status"]},
            "dataset": {"DataType": "String", "StringValue": summary["dataset"]},
            "correlationId": {"DataType": "String", "StringValue": summary["correlationId"]},
        },
    )
    return (response or {}).get("MessageId", "")


def settle(
    s3,
    sns,
    report: dict,
    *,
    bucket: str,
    key: str,
    version_id: Optional[str],
    size: int,
    correlation_id: str,
    topic_arn: str,
    reports_prefix: str = "reports/",
    incoming_prefix: str = "incoming/",
    validated_prefix: str = "validated/",
    quarantine_prefix: str = "quarantine/",
    delete_source: bool = False,
) -> dict:
    """Report, copy, confirm, publish, then (optionally) delete. Returns the
    published summary."""
    report_at = report_key(reports_prefix, report["dataset"], correlation_id)
    dest = destination_key(key, report["status"], incoming_prefix, validated_prefix, quarantine_prefix)
    full = full_report(report, bucket=bucket, key=key, version_id=version_id, correlation_id=correlation_id, destination_key=dest)
    write_report(s3, bucket, report_at, full)
    confirmed = copy_version(s3, bucket, key, version_id, dest, size)
    summary = build_summary(
        report,
        bucket=bucket,
        key=key,
        version_id=version_id,
        correlation_id=correlation_id,
        report_key=report_at,
        destination_key=dest,
    )
    publish_summary(sns, topic_arn, summary)
    if delete_source:
        delete_version(s3, bucket, key, version_id, confirmed)
    return summary
