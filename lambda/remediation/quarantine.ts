import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';

/** CopyObject copies up to 5 GiB in one request; larger objects need a multipart copy. */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;
const MIN_PART_BYTES = 512 * 1024 ** 2;
const MAX_PARTS = 10_000;
const PART_CONCURRENCY = 8;

export interface ObjectVersion {
  bucket: string;
  key: string;
  /** Absent or 'null' for the null version of an object in an unversioned bucket. */
  versionId?: string;
}

/** The quarantine key for an incoming key: the prefix swapped, the rest kept so people can find it. */
export function quarantineKeyFor(key: string, incomingPrefix: string, quarantinePrefix: string): string {
  const relative = key.startsWith(incomingPrefix) ? key.slice(incomingPrefix.length) : key;
  return `${quarantinePrefix}${relative}`;
}

function copySourceOf(source: ObjectVersion): string {
  const version =
    source.versionId !== undefined && source.versionId !== 'null'
      ? `?versionId=${encodeURIComponent(source.versionId)}`
      : '';
  return `${source.bucket}/${encodeURIComponent(source.key)}${version}`;
}

/**
 * Copies exactly the given version to `destinationKey` in the same bucket. The source is never deleted:
 * it is the evidence of what arrived, the bucket is versioned and lifecycle-managed, and deleting it would
 * also raise a new S3 event into the pipeline. Copying is idempotent, so a retried remediation may repeat it.
 */
export async function copyToQuarantine(
  s3: S3Client,
  source: ObjectVersion,
  destinationKey: string,
): Promise<{ versionId?: string }> {
  const versionId = source.versionId !== undefined && source.versionId !== 'null' ? source.versionId : undefined;
  const head = await s3.send(new HeadObjectCommand({ Bucket: source.bucket, Key: source.key, VersionId: versionId }));
  const size = head.ContentLength ?? 0;
  const copySource = copySourceOf(source);
  if (size <= MAX_SINGLE_COPY_BYTES) {
    const out = await s3.send(
      new CopyObjectCommand({ Bucket: source.bucket, Key: destinationKey, CopySource: copySource }),
    );
    return { versionId: out.VersionId };
  }

  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: source.bucket,
      Key: destinationKey,
      ContentType: head.ContentType,
      Metadata: head.Metadata,
    }),
  );
  const uploadId = created.UploadId;
  if (uploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId');
  try {
    const partSize = Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS));
    const ranges: Array<{ partNumber: number; start: number; end: number }> = [];
    for (let start = 0, partNumber = 1; start < size; start += partSize, partNumber++) {
      ranges.push({ partNumber, start, end: Math.min(start + partSize, size) - 1 });
    }
    const parts: Array<{ PartNumber: number; ETag: string }> = [];
    for (let i = 0; i < ranges.length; i += PART_CONCURRENCY) {
      const batch = ranges.slice(i, i + PART_CONCURRENCY);
      const copied = await Promise.all(
        batch.map(async (range) => {
          const out = await s3.send(
            new UploadPartCopyCommand({
              Bucket: source.bucket,
              Key: destinationKey,
              UploadId: uploadId,
              PartNumber: range.partNumber,
              CopySource: copySource,
              CopySourceRange: `bytes=${range.start}-${range.end}`,
            }),
          );
          const etag = out.CopyPartResult?.ETag;
          if (etag === undefined) throw new Error(`UploadPartCopy returned no ETag for part ${range.partNumber}`);
          return { PartNumber: range.partNumber, ETag: etag };
        }),
      );
      parts.push(...copied);
    }
    const out = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: source.bucket,
        Key: destinationKey,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return { versionId: out.VersionId };
  } catch (error) {
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: source.bucket, Key: destinationKey, UploadId: uploadId }))
      .catch(() => undefined);
    throw error;
  }
}
