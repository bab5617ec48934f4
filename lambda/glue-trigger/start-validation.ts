import { GetJobRunsCommand, type JobRun, StartJobRunCommand } from '@aws-sdk/client-glue';
import { ChangeMessageVisibilityBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import { describeError, hasErrorName } from '../shared/errors';
import { MalformedEventError, parseS3ObjectCreatedEvent, type S3ObjectCreatedEvent } from '../shared/events';
import { findJobRun, GLUE_ARGUMENTS } from '../shared/glue-runs';
import type { Invocation } from '../shared/invocation';
import { logger, metrics } from '../shared/powertools';
import { type Lease, StateTable } from '../shared/state-table';
import { type BatchObject, batchIdFor, chunkObjects, correlationIdsOf, mapLimit, MAX_ARGUMENT_CHARS } from './batches';
import { glue, sqs } from './clients';
import type { GlueTriggerConfig } from './config';
import { correlationIdFor } from './correlation';
import { retryVisibilitySeconds, waitVisibilitySeconds } from './retry-delay';

/**
 * Glue trigger: S3 "Object Created" (EventBridge → SQS, in batches) → one validation job run per batch of
 * objects, each object exactly once (docs/bursts.md).
 *
 * Duplicate deliveries are the normal case (S3, EventBridge and SQS are each at-least-once), so each object is
 * claimed in the state table under `glue-run#<correlationId>` before its run starts, with the `batchId` of that
 * run, and the claim is completed with the JobRunId afterwards. The claim's lease ends at this invocation's
 * deadline:
 * - a later delivery that finds a completed claim skips;
 * - one that finds a live lease is retried later (the holder may yet fail);
 * - one that finds an expired, uncompleted lease takes it over. The holder died between claiming and recording;
 *   if it got as far as starting the run, that run carries the claim's `--batch_id` and names the object in its
 *   `--objects`, so the taker looks for it with GetJobRuns before starting another. That closes the crash window
 *   between StartJobRun and the record without an idempotency token, which StartJobRun does not offer.
 *
 * While Glue is full the trigger waits rather than cycling: it hands records back with a visibility of about one
 * run time, and the queue's receive count is sized from the drain time of the configured concurrency.
 *
 * The loop is ours, not Powertools Batch's: BatchProcessor runs one handler per record and reports the records
 * whose handler threw. Here the unit of work is a group of records across the batch (duplicates of one object
 * merged, up to `maxObjects` objects per Glue run), a record handed back gets its own visibility timeout
 * (ChangeMessageVisibilityBatch: about a run time when Glue is full, backoff otherwise), and a record at its
 * last receive is parked with its reason; the processor has no cross-record step and no visibility control,
 * which would leave it only the final `{ batchItemFailures }` list.
 */

/** Claims live long enough to absorb replays of old events (EventBridge archives, SQS redrives). */
export const CLAIM_TTL_SECONDS = 90 * 24 * 3600;
/**
 * How far before a dead holder's lease to look for a run that names the object: a holder can have found an
 * earlier holder's run and died before recording it, so the run may predate its lease by one redelivery delay
 * (at most 15 minutes) per such hop; an hour covers several.
 */
const RUN_SEARCH_WINDOW_MS = 60 * 60 * 1000;
/** When looking for the runs of a dead holder's batch, allow for clock differences. */
const CLOCK_SLACK_MS = 5 * 60 * 1000;
/** GetJobRuns pages read when looking for such a run (200 runs each). */
const RUN_SEARCH_PAGES = 10;
/** State-table calls in flight at once within one invocation. */
const STATE_CONCURRENCY = 16;
/** Run states that hold one of the job's concurrent-run slots. */
const ACTIVE_RUN_STATES = new Set(['STARTING', 'RUNNING', 'STOPPING', 'WAITING']);

/** Glue is at its concurrency: wait about a run time, not the exponential backoff. */
const GLUE_FULL_ERRORS = ['ConcurrentRunsExceededException'] as const;
const THROTTLING_ERRORS = ['ThrottlingException', 'ResourceNumberLimitExceededException'] as const;
/** StartJobRun errors after which the run certainly does not exist: Glue refused the request. */
const RUN_NOT_STARTED_ERRORS = [
  ...GLUE_FULL_ERRORS,
  ...THROTTLING_ERRORS,
  'InvalidInputException',
  'EntityNotFoundException',
] as const;

export type RecordOutcome =
  | { result: 'started'; correlationId: string; jobRunId: string; batchId: string }
  | { result: 'duplicate'; correlationId: string; jobRunId?: string }
  | { result: 'ignored'; reason: string }
  | { result: 'skipped'; correlationId: string; reason: string }
  | { result: 'malformed'; error: string }
  | { result: 'retry'; error: string; visibilitySeconds: number }
  | { result: 'parked'; error: string };

export interface BatchDeps {
  invocation: Invocation;
  random?: () => number;
}

/** One object of the event batch, with every record that delivered it. */
interface Pending {
  object: BatchObject;
  size: number;
  records: SQSRecord[];
}

/** Why a group must be delivered again, and after how long. */
interface Retry {
  error: string;
  glueFull: boolean;
}

type GroupOutcome = Exclude<RecordOutcome, { result: 'retry' | 'parked' | 'malformed' | 'ignored' }> | Retry;

/** Processes every record; returns the ones SQS must deliver again. Never throws for a single record. */
export async function processBatch(
  records: SQSRecord[],
  config: GlueTriggerConfig,
  deps: BatchDeps,
): Promise<{ batchItemFailures: SQSBatchItemFailure[]; outcomes: Map<string, RecordOutcome> }> {
  const outcomes = new Map<string, RecordOutcome>();
  const pending = new Map<string, Pending>();
  const retries: { record: SQSRecord; retry: Retry }[] = [];
  for (const record of records) {
    let parsed: Awaited<ReturnType<typeof parseRecord>>;
    try {
      parsed = await parseRecord(record, config);
    } catch (error) {
      // e.g. the dead-letter queue refused a malformed record: try the record again later.
      retries.push({ record, retry: { error: describeError(error), glueFull: false } });
      continue;
    }
    if ('outcome' in parsed) outcomes.set(record.messageId, parsed.outcome);
    else {
      const group = pending.get(parsed.object.correlationId);
      if (group) group.records.push(record);
      else pending.set(parsed.object.correlationId, { ...parsed, records: [record] });
    }
  }

  const groups = [...pending.values()];
  const results = await startInBatches(groups, config, deps);
  groups.forEach((group, i) => {
    const result = results[i] as GroupOutcome;
    for (const record of group.records) {
      if ('result' in result) outcomes.set(record.messageId, result);
      else retries.push({ record, retry: result });
    }
  });

  const batchItemFailures: SQSBatchItemFailure[] = [];
  const handBack: { record: SQSRecord; visibilitySeconds: number }[] = [];
  for (const { record, retry } of retries) {
    const receiveCount = Number.parseInt(record.attributes.ApproximateReceiveCount, 10) || 1;
    if (receiveCount >= config.maxReceiveCount) {
      // SQS would move it to the dead-letter queue without a word; park it here with the reason instead.
      const error = `retries exhausted after ${receiveCount} receives: ${retry.error}`;
      await park(record, config, error);
      metrics.addMetric('RecordsParked', MetricUnit.Count, 1);
      outcomes.set(record.messageId, { result: 'parked', error });
      continue;
    }
    const visibilitySeconds = retry.glueFull
      ? waitVisibilitySeconds(config.waitSeconds, deps.random)
      : retryVisibilitySeconds(receiveCount, deps.random);
    handBack.push({ record, visibilitySeconds });
    batchItemFailures.push({ itemIdentifier: record.messageId });
    outcomes.set(record.messageId, { result: 'retry', error: retry.error, visibilitySeconds });
  }
  if (handBack.length > 0) {
    logger.info('Records handed back to the queue', {
      records: handBack.length,
      glueFull: retries.filter((r) => r.retry.glueFull).length,
      firstError: retries[0]?.retry.error,
    });
    await setVisibility(handBack, config);
  }
  return { batchItemFailures, outcomes };
}

async function parseRecord(
  record: SQSRecord,
  config: GlueTriggerConfig,
): Promise<{ outcome: RecordOutcome } | { object: BatchObject; size: number }> {
  let event: S3ObjectCreatedEvent;
  try {
    event = parseS3ObjectCreatedEvent(parseJson(record.body));
  } catch (error) {
    if (!(error instanceof MalformedEventError)) throw error;
    // Malformed input will never succeed: park it with the reason instead of letting SQS retry it.
    logger.error('Malformed record sent to the dead-letter queue', {
      messageId: record.messageId,
      error: error.message,
    });
    await park(record, config, error.message);
    metrics.addMetric('MalformedEvents', MetricUnit.Count, 1);
    return { outcome: { result: 'malformed', error: error.message } };
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
    return { outcome: { result: 'ignored', reason: `bucket ${bucket.name} is not the stage's data bucket` } };
  }
  if (!object.key.startsWith(config.incomingPrefix)) {
    logger.info('Ignoring object outside the incoming prefix', {
      key: object.key,
      incomingPrefix: config.incomingPrefix,
    });
    return { outcome: { result: 'ignored', reason: `key is not under ${config.incomingPrefix}` } };
  }
  const correlationId = correlationIdFor({
    bucket: bucket.name,
    key: object.key,
    versionId: object['version-id'],
    etag: object.etag,
    sequencer: object.sequencer,
  });
  // A zero-byte file is validated like any other: the job gives it a FAILED report (`empty_file`), which is
  // what the uploader needs to hear. Only a folder marker is not a file at all. DataSync writes one per
  // directory, so it is logged and counted, not alerted.
  if (object.key.endsWith('/')) {
    logger.info('Skipping a folder marker: there is nothing to validate', { key: object.key, correlationId });
    metrics.addMetric('FolderMarkersSkipped', MetricUnit.Count, 1);
    return { outcome: { result: 'skipped', correlationId, reason: 'folder marker (key ends with /)' } };
  }
  const versionId = object['version-id'];
  return {
    object: {
      bucket: bucket.name,
      key: object.key,
      versionId: versionId === undefined || versionId === 'null' ? null : versionId,
      correlationId,
    },
    size: object.size,
  };
}

/** Probes capacity, cuts the objects into runs, claims and starts each run; one outcome per group. */
async function startInBatches(groups: Pending[], config: GlueTriggerConfig, deps: BatchDeps): Promise<GroupOutcome[]> {
  const results = new Map<Pending, GroupOutcome>();
  if (groups.length === 0) return [];
  if (config.probeCapacity) {
    let active: number | undefined;
    try {
      active = await activeRuns(config);
    } catch (error) {
      // The probe is an optimisation; StartJobRun still says whether there is room.
      logger.warn('Could not count the running job runs; trying to start anyway', { error: describeError(error) });
    }
    if (active !== undefined && active >= config.maxConcurrentRuns) {
      metrics.addMetric('GlueFull', MetricUnit.Count, 1);
      const error = `the validation job already has ${active} of ${config.maxConcurrentRuns} runs going`;
      return groups.map(() => ({ error, glueFull: true }));
    }
  }
  const state = new StateTable(config.stateTableName);
  const chunks = chunkObjects(groups, {
    maxObjects: config.maxObjects,
    maxBytes: config.maxBytes,
    maxArgumentChars: MAX_ARGUMENT_CHARS,
  });
  let glueFull: Retry | undefined;
  for (const [index, chunk] of chunks.entries()) {
    if (glueFull !== undefined) {
      // Glue refused a run for lack of room: the rest waits too instead of being claimed and released.
      for (const group of chunk) results.set(group, glueFull);
      continue;
    }
    const outcomes = await startChunk(chunk, batchIdFor(deps.invocation.owner, index), state, config, deps);
    chunk.forEach((group, i) => {
      const outcome = outcomes[i] as GroupOutcome;
      results.set(group, outcome);
      if (!('result' in outcome) && outcome.glueFull) glueFull = outcome;
    });
  }
  return groups.map((group) => results.get(group) as GroupOutcome);
}

async function activeRuns(config: GlueTriggerConfig): Promise<number> {
  const out = await glue.send(new GetJobRunsCommand({ JobName: config.glueJobName, MaxResults: 200 }));
  const runs = out.JobRuns ?? [];
  const running = runs.filter((r) => r.JobRunState !== 'WAITING' && ACTIVE_RUN_STATES.has(r.JobRunState ?? '')).length;
  const waiting = runs.filter((r) => r.JobRunState === 'WAITING').length;
  metrics.addMetric('GlueRunsRunning', MetricUnit.Count, running);
  metrics.addMetric('GlueRunsWaiting', MetricUnit.Count, waiting);
  return running + waiting;
}

type Claimed = { group: Pending; lease: Lease };

async function startChunk(
  chunk: Pending[],
  batchId: string,
  state: StateTable,
  config: GlueTriggerConfig,
  deps: BatchDeps,
): Promise<GroupOutcome[]> {
  const now = deps.invocation.now();
  // Lookups of runs a dead holder may have started, shared by the objects of this chunk.
  const byBatch = new Map<string, Promise<RecentRun | undefined>>();
  const byWindow = new Map<number, Promise<RecentRun[]>>();
  const claims = await mapLimit(chunk, STATE_CONCURRENCY, async (group): Promise<GroupOutcome | Claimed> => {
    const { correlationId } = group.object;
    try {
      const claim = await state.acquire(`glue-run#${correlationId}`, {
        owner: deps.invocation.owner,
        now,
        leaseExpiresAt: deps.invocation.leaseExpiresAt,
        ttlSeconds: CLAIM_TTL_SECONDS,
        attributes: { batchId },
      });
      if (claim.status === 'completed') {
        metrics.addMetric('DuplicateEvents', MetricUnit.Count, 1);
        return { result: 'duplicate', correlationId, jobRunId: claim.claim.attributes.jobRunId };
      }
      if (claim.status === 'in-progress') {
        // Another invocation is starting this object's run right now; retry later to learn whether it did.
        return {
          error: `object is being claimed by ${claim.claim.leaseOwner ?? 'another invocation'}`,
          glueFull: false,
        };
      }
      const previous = claim.lease.takenOverFrom;
      if (previous !== undefined) {
        logger.warn('Took over an expired claim; looking for a run its holder may have started', {
          correlationId,
          previousOwner: previous.leaseOwner,
          previousBatch: previous.attributes.batchId,
        });
        // First the holder's own batch, however long ago it was claimed (the claim may have waited for Glue for
        // hours); then any run naming the object shortly before the holder's lease, because a holder can have
        // found an earlier holder's run and died before recording it, leaving its own batch id on the claim.
        const leasedAt = previous.leasedAt ?? now;
        const batchId = previous.attributes.batchId;
        let run: RecentRun | undefined;
        if (batchId !== undefined) {
          let lookup = byBatch.get(batchId);
          if (lookup === undefined) {
            lookup = findJobRun(
              glue,
              config.glueJobName,
              { [GLUE_ARGUMENTS.batchId]: batchId },
              new Date(leasedAt - CLOCK_SLACK_MS),
            ).then((found) => (found?.Id === undefined ? undefined : toRecentRun(found)));
            byBatch.set(batchId, lookup);
          }
          run = await lookup;
          if (run !== undefined && !run.correlationIds.has(correlationId)) run = undefined;
        }
        if (run === undefined) {
          const since = Math.floor((leasedAt - RUN_SEARCH_WINDOW_MS) / RUN_SEARCH_WINDOW_MS) * RUN_SEARCH_WINDOW_MS;
          let window = byWindow.get(since);
          if (window === undefined) {
            window = runsSince(config, new Date(since));
            byWindow.set(since, window);
          }
          run = (await window).find((r) => r.startedOn >= since && r.correlationIds.has(correlationId));
        }
        if (run !== undefined) {
          await completeClaim(state, claim.lease, run.id, run.batchId, group.object, deps);
          logger.info('Found the run the previous holder started; not starting another', { jobRunId: run.id });
          metrics.addMetric('DuplicateEvents', MetricUnit.Count, 1);
          return { result: 'duplicate', correlationId, jobRunId: run.id };
        }
      }
      return { group, lease: claim.lease };
    } catch (error) {
      return { error: describeError(error), glueFull: false };
    }
  });

  const toStart = claims.filter((c): c is Claimed => 'lease' in c);
  if (toStart.length === 0) return claims as GroupOutcome[];

  let jobRunId: string;
  try {
    const out = await glue.send(
      new StartJobRunCommand({
        JobName: config.glueJobName,
        Arguments: {
          [GLUE_ARGUMENTS.objects]: JSON.stringify(toStart.map((c) => c.group.object)),
          [GLUE_ARGUMENTS.batchId]: batchId,
        },
      }),
    );
    if (out.JobRunId === undefined) throw new Error('StartJobRun returned no JobRunId');
    jobRunId = out.JobRunId;
  } catch (error) {
    const retry: Retry = { error: describeError(error), glueFull: hasErrorName(error, ...GLUE_FULL_ERRORS) };
    if (hasErrorName(error, ...RUN_NOT_STARTED_ERRORS)) {
      // The run certainly did not start: free the claims so the retry need not wait for the leases to expire.
      await mapLimit(toStart, STATE_CONCURRENCY, ({ lease }) =>
        state.release(lease).catch((releaseError: unknown) =>
          logger.warn('Could not release a claim; it will expire with the lease', {
            error: describeError(releaseError),
          }),
        ),
      );
    } else {
      // A timeout, a 5xx or a lost connection: the run may have started. Keep the claims; once their leases have
      // expired the next delivery takes them over and finds such a run by its --batch_id (GetJobRuns).
      logger.warn('StartJobRun failed in a way that may have started the run; keeping the claims until they expire', {
        batchId,
        error: retry.error,
      });
    }
    if (retry.glueFull) metrics.addMetric('GlueFull', MetricUnit.Count, 1);
    if (hasErrorName(error, ...THROTTLING_ERRORS)) metrics.addMetric('GlueStartThrottled', MetricUnit.Count, 1);
    return claims.map((c) => ('lease' in c ? retry : c));
  }

  await mapLimit(toStart, STATE_CONCURRENCY, ({ lease, group }) =>
    completeClaim(state, lease, jobRunId, batchId, group.object, deps).catch((error: unknown) =>
      // The run exists; a later delivery takes the claim over and finds it by its --batch_id.
      logger.warn('Could not record the run on a claim', { jobRunId, error: describeError(error) }),
    ),
  );
  logger.info('Started the validation job for a batch', {
    jobRunId,
    batchId,
    objects: toStart.length,
    // So that a search of the logs by an object's correlation id finds the run that validates it.
    correlationIds: toStart.map((c) => c.group.object.correlationId),
  });
  metrics.addMetric('GlueRunsStarted', MetricUnit.Count, 1);
  metrics.addMetric('ObjectsStarted', MetricUnit.Count, toStart.length);
  return claims.map((c) =>
    'lease' in c ? { result: 'started', correlationId: c.group.object.correlationId, jobRunId, batchId } : c,
  );
}

interface RecentRun {
  id: string;
  batchId: string;
  startedOn: number;
  correlationIds: Set<string>;
}

function toRecentRun(run: JobRun): RecentRun {
  return {
    id: run.Id ?? '',
    batchId: run.Arguments?.[GLUE_ARGUMENTS.batchId] ?? '',
    startedOn: run.StartedOn?.getTime() ?? Number.POSITIVE_INFINITY,
    correlationIds: correlationIdsOf(run.Arguments?.[GLUE_ARGUMENTS.objects]),
  };
}

/** Runs of the job started since `since` (newest first, as GetJobRuns lists them), with the objects each names. */
async function runsSince(config: GlueTriggerConfig, since: Date): Promise<RecentRun[]> {
  const found: RecentRun[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < RUN_SEARCH_PAGES; page++) {
    const out = await glue.send(
      new GetJobRunsCommand({ JobName: config.glueJobName, NextToken: nextToken, MaxResults: 200 }),
    );
    const runs = out.JobRuns ?? [];
    for (const run of runs) if (run.Id !== undefined) found.push(toRecentRun(run));
    nextToken = out.NextToken;
    if (nextToken === undefined || runs.some((r) => r.StartedOn !== undefined && r.StartedOn < since)) break;
  }
  return found;
}

async function completeClaim(
  state: StateTable,
  lease: Lease,
  jobRunId: string,
  batchId: string,
  object: BatchObject,
  deps: BatchDeps,
): Promise<void> {
  const recorded = await state.complete(
    lease,
    { jobRunId, batchId, bucket: object.bucket, objectKey: object.key, versionId: object.versionId ?? 'null' },
    deps.invocation.now(),
  );
  // Only possible past our own deadline; the run exists either way, and a taker will find it by its arguments.
  if (!recorded)
    logger.warn('Lost the claim before recording the run', { jobRunId, correlationId: object.correlationId });
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new MalformedEventError('body is not JSON: expected an S3 Object Created event from EventBridge');
  }
}

/** Sends a record retrying cannot help to the dead-letter queue, with the reason as the `error` attribute. */
async function park(record: SQSRecord, config: GlueTriggerConfig, error: string): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: config.deadLetterQueueUrl,
      MessageBody: record.body,
      MessageAttributes: {
        // SQS attribute values are limited to the message size; a reason is short, but keep it bounded.
        error: { DataType: 'String', StringValue: error.slice(0, 1000) },
        sourceMessageId: { DataType: 'String', StringValue: record.messageId },
      },
    }),
  );
}

/** Hands records back with their visibility timeouts, ten per call (the batch API's limit). */
async function setVisibility(
  items: { record: SQSRecord; visibilitySeconds: number }[],
  config: GlueTriggerConfig,
): Promise<void> {
  for (let i = 0; i < items.length; i += 10) {
    const slice = items.slice(i, i + 10);
    try {
      const out = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: config.queueUrl,
          Entries: slice.map(({ record, visibilitySeconds }, j) => ({
            Id: String(j),
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: visibilitySeconds,
          })),
        }),
      );
      if ((out.Failed ?? []).length > 0) {
        logger.warn('Could not set the visibility of some records', { failed: out.Failed?.length });
      }
    } catch (error) {
      // The records still come back after the queue's own visibility timeout; only the delay is lost.
      logger.warn('Could not set the visibility timeout', { error: describeError(error) });
    }
  }
}
