import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type ObjectIdentifier,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Where this run's objects live; everything under `smoke/<runId>/` is this run's alone. */
export interface SmokeKeys {
  goodIncoming: string;
  badIncoming: string;
  goodValidated: string;
  goodQuarantined: string;
  badValidated: string;
  badQuarantined: string;
  /**
   * The validation job's reports for the `smoke` dataset: `reports/smoke/<correlationId>.json`, one per
   * upload, found by the keys they name (see README.md, "Where the job puts its report").
   */
  reportsPrefix: string;
  /** Every key above: what a report of this run can name. */
  all: string[];
  /** Prefixes cleaned up after the run. */
  runPrefixes: string[];
}

export function smokeKeys(runId: string): SmokeKeys {
  const base = `smoke/${runId}`;
  const objects = {
    goodIncoming: `incoming/${base}/good.csv`,
    badIncoming: `incoming/${base}/bad.csv`,
    goodValidated: `validated/${base}/good.csv`,
    goodQuarantined: `quarantine/${base}/good.csv`,
    badValidated: `validated/${base}/bad.csv`,
    badQuarantined: `quarantine/${base}/bad.csv`,
  };
  return {
    ...objects,
    reportsPrefix: 'reports/smoke/',
    all: Object.values(objects),
    runPrefixes: ['incoming', 'validated', 'quarantine', 'reports'].map((p) => `${p}/${base}/`),
  };
}

export async function putObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string | Uint8Array,
): Promise<{ versionId?: string }> {
  const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/csv' }));
  // 'null' is the version every upload gets while versioning is suspended: it identifies nothing.
  return out.VersionId && out.VersionId !== 'null' ? { versionId: out.VersionId } : {};
}

export async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e) {
    if (httpStatus(e) === 404 || errorName(e) === 'NotFound' || errorName(e) === 'NoSuchKey') return false;
    throw e;
  }
}

/**
 * The fields of a validation report the smoke test reads. The job writes it to
 * `reports/<dataset>/<correlationId>.json` (glue/src/migration_validation/actions.py, `full_report`) with the
 * object's identity at the top level, named as in the published summary, and again under `source`.
 */
export interface ValidationReport {
  status?: string;
  correlationId?: string;
  dataset?: string | null;
  bucket?: string;
  key?: string;
  versionId?: string | null;
  destinationKey?: string;
  reasons?: unknown;
  source?: { bucket?: unknown; key?: unknown; versionId?: unknown; correlationId?: unknown };
  [field: string]: unknown;
}

/** The report's correlation id: top-level, or under `source` as reports written before it was lifted carry it. */
export function reportCorrelationId(report: ValidationReport): string | undefined {
  const candidates = [report.correlationId, report.source?.correlationId];
  return candidates.find((c): c is string => typeof c === 'string' && c.trim() !== '');
}

export interface FoundReport {
  reportKey: string;
  report: ValidationReport;
}

/**
 * Finds the report that names one of `objectKeys` (the source key, or where the object was copied)
 * among reports written since `sinceMs`. Remembers reports already read in `seen`.
 */
export async function findReport(
  s3: S3Client,
  bucket: string,
  prefix: string,
  objectKeys: readonly string[],
  sinceMs: number,
  seen: Map<string, ValidationReport | null>,
): Promise<FoundReport | undefined> {
  for await (const found of reportsNaming(s3, bucket, prefix, objectKeys, sinceMs, seen)) return found;
  return undefined;
}

/** Every report under `prefix` written since `sinceMs` that names one of `objectKeys`. */
export async function findReports(
  s3: S3Client,
  bucket: string,
  prefix: string,
  objectKeys: readonly string[],
  sinceMs: number,
  seen: Map<string, ValidationReport | null>,
): Promise<FoundReport[]> {
  const all: FoundReport[] = [];
  for await (const found of reportsNaming(s3, bucket, prefix, objectKeys, sinceMs, seen)) all.push(found);
  return all;
}

async function* reportsNaming(
  s3: S3Client,
  bucket: string,
  prefix: string,
  objectKeys: readonly string[],
  sinceMs: number,
  seen: Map<string, ValidationReport | null>,
): AsyncGenerator<FoundReport> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const obj of page.Contents ?? []) {
      if (!obj.Key || (obj.LastModified && obj.LastModified.getTime() < sinceMs)) continue;
      let report = seen.get(obj.Key);
      if (report === undefined) {
        report = await readJson(s3, bucket, obj.Key);
        seen.set(obj.Key, report);
      }
      if (report && reportNames(report, bucket, objectKeys)) yield { reportKey: obj.Key, report };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

function reportNames(report: ValidationReport, bucket: string, objectKeys: readonly string[]): boolean {
  const bucketNamed = [report.bucket, report.source?.bucket].find((b) => typeof b === 'string');
  if (bucketNamed !== undefined && bucketNamed !== bucket) return false;
  const named = [report.key, report.sourceKey, report.destinationKey, report.source?.key];
  return named.some((k) => typeof k === 'string' && objectKeys.includes(k));
}

async function readJson(s3: S3Client, bucket: string, key: string): Promise<ValidationReport | null> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = (await out.Body?.transformToString('utf-8')) ?? '';
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as ValidationReport)
      : null;
  } catch {
    return null; // not a report we can read; it cannot be ours
  }
}

export interface CleanupResult {
  deleted: number;
  errors: string[];
  /** False when the endpoint has no version listing (a local S3 stand-in); then only current objects go. */
  versioned: boolean;
}

/**
 * Deletes every version and delete marker under each prefix, and of each exact key. A versioned
 * bucket keeps noncurrent versions of deleted objects, so deleting current objects alone would
 * leave the smoke data behind.
 */
export async function deleteEverything(
  s3: S3Client,
  bucket: string,
  targets: { prefixes: readonly string[]; keys: readonly string[] },
): Promise<CleanupResult> {
  const result: CleanupResult = { deleted: 0, errors: [], versioned: true };
  const identifiers: ObjectIdentifier[] = [];
  const wanted = [
    ...targets.prefixes.map((p) => ({ prefix: p, exact: false })),
    ...targets.keys
      .filter((k) => !targets.prefixes.some((p) => k.startsWith(p)))
      .map((k) => ({ prefix: k, exact: true })),
  ];
  for (const { prefix, exact } of wanted) {
    const found = result.versioned ? await listVersions(s3, bucket, prefix) : undefined;
    if (found === undefined) {
      result.versioned = false;
      identifiers.push(...(await listCurrent(s3, bucket, prefix)).filter((o) => !exact || o.Key === prefix));
    } else {
      identifiers.push(...found.filter((o) => !exact || o.Key === prefix));
    }
  }
  for (let i = 0; i < identifiers.length; i += 1000) {
    const batch = identifiers.slice(i, i + 1000);
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
    const errors = out.Errors ?? [];
    result.errors.push(...errors.map((e) => `${e.Key}${e.VersionId ? `@${e.VersionId}` : ''}: ${e.Code} ${e.Message}`));
    result.deleted += batch.length - errors.length;
  }
  return result;
}

/** All versions and delete markers under a prefix, or undefined when the endpoint cannot list versions. */
async function listVersions(s3: S3Client, bucket: string, prefix: string): Promise<ObjectIdentifier[] | undefined> {
  const ids: ObjectIdentifier[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  try {
    do {
      const page = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
        if (v.Key) ids.push({ Key: v.Key, ...(v.VersionId ? { VersionId: v.VersionId } : {}) });
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
  } catch (e) {
    const status = httpStatus(e);
    if (status === 405 || status === 501 || errorName(e) === 'NotImplemented' || errorName(e) === 'MethodNotAllowed') {
      return undefined;
    }
    throw e;
  }
  return ids;
}

async function listCurrent(s3: S3Client, bucket: string, prefix: string): Promise<ObjectIdentifier[]> {
  const ids: ObjectIdentifier[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) ids.push({ Key: o.Key });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return ids;
}

function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function errorName(e: unknown): string | undefined {
  return (e as { name?: string }).name;
}
