import { gunzipSync } from 'node:zlib';
import type {
  CloudWatchLogsDecodedData,
  FirehoseTransformationEvent,
  FirehoseTransformationResult,
  FirehoseTransformationResultRecord,
} from 'aws-lambda';

/**
 * Turns CloudWatch Logs subscription records into OpenSearch documents.
 *
 * CloudWatch Logs hands Firehose one gzip-compressed record holding many log events, and the OpenSearch
 * destination indexes one record as one document. Firehose's built-in Decompression and
 * CloudWatchLogProcessing processors are documented as unsupported for the OpenSearch destination for
 * that reason (https://docs.aws.amazon.com/firehose/latest/dev/writing-with-cloudwatch-logs.html), and a
 * transform must answer each record id exactly once, so a record becomes one document that carries
 * its batch of events (`events[]`, each with its own timestamp and message).
 */
export interface LogBatchDocument {
  readonly '@timestamp': string;
  readonly owner: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly subscriptionFilters: readonly string[];
  readonly eventCount: number;
  readonly events: readonly { readonly id: string; readonly '@timestamp': string; readonly message: string }[];
}

/** Lambda's 6 MB response limit, less room for the envelope; records beyond it go to the S3 backup. */
export const MAX_RESPONSE_BYTES = 5_500_000;

export type RecordOutcome =
  | { readonly result: 'Ok'; readonly document: LogBatchDocument }
  | { readonly result: 'Dropped'; readonly reason: string }
  | { readonly result: 'ProcessingFailed'; readonly reason: string };

const GZIP_MAGIC = [0x1f, 0x8b];

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/** Validates a decoded payload; returns what is wrong, or the typed payload. */
export function parseLogsPayload(json: unknown): CloudWatchLogsDecodedData | string {
  if (json === null || typeof json !== 'object') return 'payload is not a JSON object';
  const p = json as Record<string, unknown>;
  if (typeof p.messageType !== 'string') return 'messageType is missing';
  for (const key of ['owner', 'logGroup', 'logStream'] as const) {
    if (typeof p[key] !== 'string') return `${key} is missing or not a string`;
  }
  if (!isStringArray(p.subscriptionFilters)) return 'subscriptionFilters is not a list of strings';
  if (!Array.isArray(p.logEvents)) return 'logEvents is not a list';
  for (const [i, e] of (p.logEvents as unknown[]).entries()) {
    const ev = e as Record<string, unknown> | null;
    if (
      ev === null ||
      typeof ev !== 'object' ||
      typeof ev.id !== 'string' ||
      typeof ev.timestamp !== 'number' ||
      typeof ev.message !== 'string'
    ) {
      return `logEvents[${i}] lacks a string id, numeric timestamp and string message`;
    }
  }
  return p as unknown as CloudWatchLogsDecodedData;
}

/** Decodes one Firehose record (base64 of gzip of the CloudWatch Logs JSON) into an outcome. */
export function transformRecord(base64: string): RecordOutcome {
  const raw = Buffer.from(base64, 'base64');
  if (raw.length < 2 || raw[0] !== GZIP_MAGIC[0] || raw[1] !== GZIP_MAGIC[1]) {
    return { result: 'ProcessingFailed', reason: 'record is not gzip data from a CloudWatch Logs subscription' };
  }
  let json: unknown;
  try {
    json = JSON.parse(gunzipSync(raw).toString('utf8'));
  } catch (err) {
    return { result: 'ProcessingFailed', reason: `record does not decompress to JSON: ${(err as Error).message}` };
  }
  const payload = parseLogsPayload(json);
  if (typeof payload === 'string') return { result: 'ProcessingFailed', reason: payload };
  // CloudWatch Logs checks the destination with CONTROL_MESSAGEs; they carry no log data.
  if (payload.messageType === 'CONTROL_MESSAGE') return { result: 'Dropped', reason: 'control message' };
  if (payload.messageType !== 'DATA_MESSAGE') {
    return { result: 'ProcessingFailed', reason: `unknown messageType ${JSON.stringify(payload.messageType)}` };
  }
  if (payload.logEvents.length === 0) return { result: 'Dropped', reason: 'no log events' };
  const events = payload.logEvents.map((e) => ({
    id: e.id,
    '@timestamp': new Date(e.timestamp).toISOString(),
    message: e.message,
  }));
  return {
    result: 'Ok',
    document: {
      '@timestamp': events[0]!['@timestamp'],
      owner: payload.owner,
      logGroup: payload.logGroup,
      logStream: payload.logStream,
      subscriptionFilters: payload.subscriptionFilters,
      eventCount: events.length,
      events,
    },
  };
}

export interface TransformSummary {
  readonly ok: number;
  readonly dropped: number;
  readonly failed: number;
  /** Distinct reasons for failed records (never their content: log lines may hold anything). */
  readonly failureReasons: readonly string[];
}

/** Answers every record id of the invocation exactly once, as Firehose requires. */
export function transformEvent(event: FirehoseTransformationEvent): {
  response: FirehoseTransformationResult;
  summary: TransformSummary;
} {
  if (event === null || typeof event !== 'object' || !Array.isArray(event.records)) {
    throw new Error('Expected a Firehose data-transformation event with a records list');
  }
  let budget = MAX_RESPONSE_BYTES;
  let ok = 0;
  let dropped = 0;
  let failed = 0;
  const reasons = new Set<string>();
  const records: FirehoseTransformationResultRecord[] = event.records.map((rec) => {
    if (typeof rec?.recordId !== 'string' || typeof rec.data !== 'string') {
      throw new Error('Every Firehose record needs a string recordId and base64 data');
    }
    let outcome = transformRecord(rec.data);
    let data = rec.data;
    if (outcome.result === 'Ok') {
      const encoded = Buffer.from(JSON.stringify(outcome.document), 'utf8').toString('base64');
      if (encoded.length > budget) {
        outcome = { result: 'ProcessingFailed', reason: 'transformed batch would exceed the Lambda response limit' };
      } else {
        data = encoded;
      }
    }
    budget -= data.length + rec.recordId.length + 64;
    if (outcome.result === 'Ok') ok++;
    else if (outcome.result === 'Dropped') dropped++;
    else {
      failed++;
      reasons.add(outcome.reason);
    }
    // Firehose requires recordId, result and data on every record, Dropped ones included (it ignores their
    // data). Failed and dropped records keep their original bytes, so the S3 backup holds exactly what arrived.
    return { recordId: rec.recordId, result: outcome.result, data };
  });
  return { response: { records }, summary: { ok, dropped, failed, failureReasons: [...reasons] } };
}
