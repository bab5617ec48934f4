"""Runs the real validation job on one uploaded object, for test/smoke/smoke-e2e.test.ts.

The end-to-end smoke test needs what the deployed Glue job writes: the report (its
shape *and* its key), the validated/quarantined copy and the published summary.
Rather than imitate them, this calls ``migration_validation.job.run_job``, the
function the Glue entry calls, with the shipped contracts and an in-memory S3
(``glue/tests/helpers.FakeS3``) holding the one object. The caller copies what
the job wrote into its own S3 endpoint.

    stdin:  {"bucket", "key", "correlationId", "body": base64}
    stdout: {"summary": {...}, "writes": [{"key", "body": base64}, ...]}

Standard library only, like the job's core.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
for entry in (str(REPO), str(REPO / "glue" / "src")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from glue.tests.helpers import CONTRACTS, FakeS3, FakeSNS, contracts_zip  # noqa: E402
from migration_validation.job import JobArgs, run_job  # noqa: E402

ASSETS = "assets"
CONTRACTS_KEY = "contracts.zip"
TOPIC = "arn:aws:sns:us-west-2:111111111111:validation-results"


class UnversionedS3(FakeS3):
    """The e2e bucket (s3rver) keeps no versions: S3 then reports none, so neither does this."""

    def head_object(self, **params):
        head = super().head_object(**params)
        head.pop("VersionId", None)
        return head

    def put_object(self, **params):
        super().put_object(**params)
        return {}

    def copy_object(self, **params):
        super().copy_object(**params)
        return {}


def main() -> int:
    request = json.load(sys.stdin)
    bucket, key = request["bucket"], request["key"]
    s3 = UnversionedS3()
    s3.add(ASSETS, CONTRACTS_KEY, contracts_zip(CONTRACTS))
    s3.add(bucket, key, base64.b64decode(request["body"]))
    before = set(s3.objects)
    sns = FakeSNS()
    args = JobArgs(
        bucket=bucket,
        key=key,
        version_id=None,  # the Glue trigger passes "null" for an unversioned bucket; the entry turns it into None
        correlation_id=request["correlationId"],
        results_topic_arn=TOPIC,
        contracts_uri=f"s3://{ASSETS}/{CONTRACTS_KEY}",
    )
    summary = run_job(args, s3, sns, client_factory=lambda: s3)
    writes = [
        {"key": written_key, "body": base64.b64encode(s3.body(written_bucket, written_key)).decode("ascii")}
        for written_bucket, written_key in s3.objects
        if (written_bucket, written_key) not in before
    ]
    published = [json.loads(message["Message"]) for message in sns.published]
    if published != [summary]:
        raise SystemExit(f"expected the job to publish its summary once; it published {published}")
    json.dump({"summary": summary, "writes": writes}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
