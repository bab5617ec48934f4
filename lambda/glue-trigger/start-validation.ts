import { StartJobRunCommand } from '@aws-sdk/client-glue';
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import { describeError, hasErrorName } from '../shared/errors';
import { MalformedEventError, parseS3ObjectCreatedEvent, type S3ObjectCreatedEvent } from '../shared/events';
import { findJobRun, GLUE_ARGUMENTS } from '../shared/glue-runs';
import type { Invocation } from '../shared/invocation';
import { logger, metrics } from '../shared/powertools';
import { StateTable } from '../shared/state-table';
import { glue, sqs } from './clients';
import type { GlueTriggerConfig } from './config';
import { correlationIdFor } from './correlation';
import { retryVisibilitySeconds } from './retry-delay';

/**
 * Glue trigger: S3 "Object Created" (EventBridge → SQS) → one validation job run per object, exactly once.
 *
 * Duplicate deliveries are the normal case (S3, EventBridge and SQS are each at-least-once), so each object
 * is claimed in the state table under `glue-run#<correlationId>` before the job starts, and the claim is
 * completed with the JobRunId afterwards. The claim's lease ends at this invocation's deadline:
 * - a later delivery that finds a completed claim skips;
 * - one that finds a live lease is retried later (the holder may yet fail);
 * - one that finds an expired, uncompleted lease takes it over. The holder died somewhere between claiming
 *   and recording; if it got as far as starting the job, that run carries our --correlation_id, so the
 *   taker looks for it with GetJobRuns before starting another. That closes the crash window between
 *   StartJobRun and the record without an idempotency token, which StartJobRun does not offer.
 */

/** Claims live long enough to absorb replays of old events (EventBridge archives, SQS redrives). */
export const CLAIM_TTL_SECONDS = 90 * 24 * 3600;
/** When searching for a run a dead holder may have started, allow for clock differences. */
const RUN_SEARCH_SLACK_MS = 5 * 60 * 1000;

const THROTTLING_ERRORS = [
  'ConcurrentRunsExceededException',
  'ThrottlingException',
  'ResourceNumberLimitExceededException',
] as const;
/** StartJobRun errors after which the run certainly does not exist: Glue refused the request. */
const RUN_NOT_STARTED_ERRORS = [...THROTTLING_ERRORS, 'InvalidInputException', 'EntityNotFoundException'] as const;

export type RecordOutcome =
  | { result: 'started'; correlationId: string; jobRunId: string }
  | { result: 'duplicate'; correlationId: string; jobRunId?: string }
  | { result: 'ignored'; reason: string }
  | { result: 'skipped'; correlationId: string; reason: string }
  | { result: 'malformed'; error: string }
  | { result: 'retry'; error: string; visibilitySeconds: number };

export interface BatchDeps {
  invocation: Invocation;
  random?: () => number;
}

/** Processes every record; returns the ones SQS must deliver again. Never throws for a single record. */
export async function processBatch(
  records: SQSRecord[],
  config: GlueTriggerConfig,
  deps: BatchDeps,
): Promise<{ batchItemFailures: SQSBatchItemFailure[]; outcomes: RecordOutcome[] }> {
  const state = new StateTable(config.stateTableName);
  const batchItemFailures: SQSBatchItemFailure[] = [];
  const outcomes: RecordOutcome[] = [];
  // One at a time: a batch is small, and parallel starts would only hit Glue's concurrency limit sooner.
  for (const record of records) {
    logger.appendKeys({ messageId: record.messageId });
    let outcome: RecordOutcome;
    try {
      outcome = await processRecord(record, config, state, deps);
    } catch (error) {
      outcome = await scheduleRetry(record, config, error, deps.random);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    } finally {
      logger.removeKeys(['messageId', 'correlationId']);
    }
    outcomes.push(outcome);
  }
  return { batchItemFailures, outcomes };
}

async function processRecord(
  record: SQSRecord,
  config: GlueTriggerConfig,
  state: StateTable,
  deps: BatchDeps,
): Promise<RecordOutcome> {
  let event: S3ObjectCreatedEvent;
  try {
    event = parseS3ObjectCreatedEvent(parseJson(record.body));
  } catch (error) {
    if (error instanceof MalformedEventError) return parkMalformed(record, config, error);
    throw error;
  }
  const { bucket, object } = event.detail;

  // The rule filters on the bucket, but a rule is configuration (and a queue can be fed by hand):
  // the handler only ever starts the stage's job for the stage's own bucket.
  if (bucket.name !== config.dataBucketName) {
    logger.warn("Skipping an object in a bucket that is not this stage's data bucket", {
      bucket: bucket.name,
      key: object.key,
      dataBucketName: config.dataBucketName,
    });
    metrics.addMetric('ForeignObjectsSkipped', MetricUnit.Count, 1);
    return { result: 'ignored', reason: `bucket ${bucket.name} is not the stage's data bucket` };
  }
  if (!object.key.startsWith(config.incomingPrefix)) {
    logger.info('Ignoring object outside the incoming prefix', {
      bucket: bucket.name,
      key: object.key,
      incomingPrefix: config.incomingPrefix,
    });
    return { result: 'ignored', reason: `key is not under ${config.incomingPrefix}` };
  }

  const correlationId = correlationIdFor({
    bucket: bucket.name,
    key: object.key,
    versionId: object['version-id'],
    etag: object.etag,
    sequencer: object.sequencer,
  });
  logger.appendKeys({ correlationId });

  // A zero-byte file is validated like any other: the job gives it a FAILED report (`empty_file`), which is
  // what the uploader needs to hear. Only a folder marker is not a file at all.
  if (object.key.endsWith('/')) return skipFolderMarker(event, correlationId);

  const claimKey = `glue-run#${correlationId}`;
  const now = deps.invocation.now();
  const claim = await state.acquire(claimKey, {
    owner: deps.invocation.owner,
    now,
    leaseExpiresAt: deps.invocation.leaseExpiresAt,
    ttlSeconds: CLAIM_TTL_SECONDS,
  });
  if (claim.status === 'completed') {
    const jobRunId = claim.claim.attributes.jobRunId;
    logger.info('Duplicate event: the validation job already ran for this object', { jobRunId });
    metrics.addMetric('DuplicateEvents', MetricUnit.Count, 1);
    return { result: 'duplicate', correlationId, jobRunId };
  }
  if (claim.status === 'in-progress') {
    // Another invocation is starting this object's run right now; retry later to learn whether it succeeded.
    throw new Error(`Object is being claimed by ${claim.claim.leaseOwner ?? 'another invocation'}; retrying later`);
  }

  const lease = claim.lease;
  const versionId = object['version-id'] ?? 'null'; // S3's own name for the version of an unversioned object
  const jobArguments: Record<string, string> = {
    [GLUE_ARGUMENTS.bucket]: bucket.name,
    [GLUE_ARGUMENTS.key]: object.key,
    [GLUE_ARGUMENTS.versionId]: versionId,
    [GLUE_ARGUMENTS.correlationId]: correlationId,
  };

  if (lease.takenOverFrom !== undefined) {
    const since = new Date((lease.takenOverFrom.leasedAt ?? now) - RUN_SEARCH_SLACK_MS);
    logger.warn('Took over an expired claim; looking for a run its holder may have started', {
      previousOwner: lease.takenOverFrom.leaseOwner,
    });
    const existing = await findJobRun(
      glue,
      config.glueJobName,
      { [GLUE_ARGUMENTS.correlationId]: correlationId },
      since,
    );
    if (existing?.Id !== undefined) {
      await completeClaim(state, lease, existing.Id, jobArguments, deps);
      logger.info('Found the run the previous holder started; not starting another', { jobRunId: existing.Id });
      metrics.addMetric('DuplicateEvents', MetricUnit.Count, 1);
      return { result: 'duplicate', correlationId, jobRunId: existing.Id };
    }
  }

  let jobRunId: string;
  try {
    const out = await glue.send(new StartJobRunCommand({ JobName: config.glueJobName, Arguments: jobArguments }));
    if (out.JobRunId === undefined) throw new Error('StartJobRun returned no JobRunId');
    jobRunId = out.JobRunId;
  } catch (error) {
    if (hasErrorName(error, ...RUN_NOT_STARTED_ERRORS)) {
      // The run certainly did not start: free the claim so the retry need not wait for the lease to expire.
      await state.release(lease).catch((releaseError: unknown) =>
        logger.warn('Could not release the claim; it will expire with the lease', {
          error: describeError(releaseError),
        }),
      );
    } else {
      // A timeout, a 5xx or a lost connection: the run may have started. Keep the claim; once its lease has
      // expired the next delivery takes it over and finds such a run by its --correlation_id (GetJobRuns).
      logger.warn('StartJobRun failed in a way that may have started the run; keeping the claim until its lease ends', {
        error: describeError(error),
      });
    }
    if (hasErrorName(error, ...THROTTLING_ERRORS)) metrics.addMetric('GlueStartThrottled', MetricUnit.Count, 1);
    throw error;
  }
  await completeClaim(state, lease, jobRunId, jobArguments, deps);
  logger.info('Started the validation job', { jobRunId, bucket: bucket.name, key: object.key, versionId });
  metrics.addMetric('GlueRunsStarted', MetricUnit.Count, 1);
  return { result: 'started', correlationId, jobRunId };
}

async function completeClaim(
  state: StateTable,
  lease: Parameters<StateTable['complete']>[0],
  jobRunId: string,
  jobArguments: Record<string, string>,
  deps: BatchDeps,
): Promise<void> {
  const recorded = await state.complete(
    lease,
    {
      jobRunId,
      bucket: jobArguments[GLUE_ARGUMENTS.bucket] ?? '',
      objectKey: jobArguments[GLUE_ARGUMENTS.key] ?? '',
      versionId: jobArguments[GLUE_ARGUMENTS.versionId] ?? '',
    },
    deps.invocation.now(),
  );
  // Only possible past our own deadline; the run exists either way, and a taker will find it by its arguments.
  if (!recorded) logger.warn('Lost the claim before recording the run', { jobRunId });
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new MalformedEventError('body is not JSON: expected an S3 Object Created event from EventBridge');
  }
}

/** Malformed input will never succeed: park it with the reason instead of letting SQS retry it forever. */
async function parkMalformed(
  record: SQSRecord,
  config: GlueTriggerConfig,
  error: MalformedEventError,
): Promise<RecordOutcome> {
  logger.error('Malformed record sent to the dead-letter queue', { error: error.message });
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: config.deadLetterQueueUrl,
      MessageBody: record.body,
      MessageAttributes: {
        error: { DataType: 'String', StringValue: error.message },
        sourceMessageId: { DataType: 'String', StringValue: record.messageId },
      },
    }),
  );
  metrics.addMetric('MalformedEvents', MetricUnit.Count, 1);
  return { result: 'malformed', error: error.message };
}

/**
 * A folder marker (a key ending in '/', as the console's "Create folder" and DataSync's directory objects
 * write) holds no data to validate. It is logged and counted, not alerted: DataSync writes one per directory
 * it transfers, so an alert each would be noise, and a redelivered event would repeat it.
 */
function skipFolderMarker(event: S3ObjectCreatedEvent, correlationId: string): RecordOutcome {
  const { bucket, object } = event.detail;
  const reason = 'folder marker (key ends with /)';
  logger.info('Skipping a folder marker: there is nothing to validate', {
    bucket: bucket.name,
    key: object.key,
    size: object.size,
  });
  metrics.addMetric('FolderMarkersSkipped', MetricUnit.Count, 1);
  return { result: 'skipped', correlationId, reason };
}

async function scheduleRetry(
  record: SQSRecord,
  config: GlueTriggerConfig,
  error: unknown,
  random: (() => number) | undefined,
): Promise<RecordOutcome> {
  const receiveCount = Number.parseInt(record.attributes.ApproximateReceiveCount, 10) || 1;
  const visibilitySeconds = retryVisibilitySeconds(receiveCount, random);
  logger.warn('Record will be retried', { error: describeError(error), receiveCount, visibilitySeconds });
  try {
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: config.queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: visibilitySeconds,
      }),
    );
  } catch (visibilityError) {
    // The record still comes back after the queue's own visibility timeout; only the backoff is lost.
    logger.warn('Could not extend the visibility timeout', { error: describeError(visibilityError) });
  }
  return { result: 'retry', error: describeError(error), visibilitySeconds };
}
