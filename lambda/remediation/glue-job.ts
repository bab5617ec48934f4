import { GetJobRunCommand, StartJobRunCommand } from '@aws-sdk/client-glue';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { cloudWatchLogsUrl, s3ObjectUrl } from '../shared/console-links';
import { describeError, hasErrorName } from '../shared/errors';
import { findJobRun, GLUE_ARGUMENTS } from '../shared/glue-runs';
import { logger, metrics } from '../shared/powertools';
import type { Action } from './classify';
import { glue, s3 } from './clients';
import { ATTEMPTS_TTL_SECONDS, type Outcome, type RemediationContext, sendAlert } from './context';
import { copyToQuarantine, quarantineKeyFor } from './quarantine';

type GlueAction = Extract<Action, { type: 'retry-glue-job' }>;

/** Arguments Glue sets on a run itself; passing them to StartJobRun is an error. */
const SYSTEM_ARGUMENTS = new Set(['--JOB_NAME', '--JOB_ID', '--JOB_RUN_ID']);
const RUN_SEARCH_SLACK_MS = 5 * 60 * 1000;

function attemptOf(args: Record<string, string>): number {
  const parsed = Number.parseInt(args[GLUE_ARGUMENTS.remediationAttempt] ?? '0', 10);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : 0;
}

/**
 * A failed or timed-out validation run: run it again with the same arguments and `--remediation_attempt`
 * one higher, up to MAX_ATTEMPTS re-runs. The attempt number travels in the run's arguments and is also
 * recorded per correlation id in the state table; the higher of the two counts, so a hand-started run with
 * the original arguments cannot reset the bound. The record is advanced by a conditional write before the
 * re-run starts, and only the invocation whose write won starts it. At the bound the object is copied to
 * quarantine and one alert says what happened.
 *
 * A FAILED attempt that Glue itself will retry (JobRun.Attempt below the job's MaxRetries) is left to Glue.
 * A TIMEOUT always counts: Glue does not restart a run that reached its timeout.
 */
export async function remediateGlueJob(action: GlueAction, ctx: RemediationContext): Promise<Outcome> {
  const { config } = ctx;
  const out = await glue.send(new GetJobRunCommand({ JobName: action.jobName, RunId: action.jobRunId }));
  const run = out.JobRun;
  if (run === undefined) throw new Error(`GetJobRun returned no run for ${action.jobName}/${action.jobRunId}`);
  const args = run.Arguments ?? {};
  // A batch run (docs/bursts.md) is identified by its --batch_id and counts its attempts as one piece of work.
  const batch = batchOf(args);
  const correlationId = batch !== undefined ? `batch-${batch.batchId}` : args[GLUE_ARGUMENTS.correlationId];
  const runIdentity: Record<string, string> =
    batch !== undefined
      ? { [GLUE_ARGUMENTS.batchId]: batch.batchId }
      : { [GLUE_ARGUMENTS.correlationId]: correlationId ?? '' };
  const bucket = args[GLUE_ARGUMENTS.bucket];
  const key = args[GLUE_ARGUMENTS.key];
  const versionId = args[GLUE_ARGUMENTS.versionId];
  const lastError = run.ErrorMessage ?? action.message ?? `Job run ${action.state}`;
  if (correlationId !== undefined) logger.appendKeys({ correlationId });
  const logs = cloudWatchLogsUrl(config.region, config.glueLogGroup, action.jobRunId);

  if (action.state === 'FAILED' && run.Attempt !== undefined && run.Attempt < config.glueJobMaxRetries) {
    logger.info('Glue retries this run itself; only the failure of its last attempt is remediated', {
      jobRunId: action.jobRunId,
      glueAttempt: run.Attempt,
      glueJobMaxRetries: config.glueJobMaxRetries,
    });
    return {
      result: 'ignored',
      detail: {
        reason: 'Glue will retry the run',
        glueAttempt: run.Attempt,
        glueJobMaxRetries: config.glueJobMaxRetries,
      },
    };
  }

  if (batch === undefined && (correlationId === undefined || bucket === undefined || key === undefined)) {
    // Not a run the Glue trigger started (no object identity): a person started it and should look at it.
    await sendAlert(ctx, {
      type: 'glue-job-failed-unidentified',
      title: `Glue job ${action.jobName} run ${action.state} (not retried: run has no object arguments)`,
      summary: `The run lacks ${GLUE_ARGUMENTS.bucket}, ${GLUE_ARGUMENTS.key} or ${GLUE_ARGUMENTS.correlationId}, so it was not started by the pipeline; it is not retried automatically.`,
      resource: { jobName: action.jobName, jobRunId: action.jobRunId },
      attempts: 0,
      maxAttempts: config.maxAttempts,
      lastError,
      links: { logs },
    });
    return { result: 'alerted', detail: { reason: 'run has no object arguments' } };
  }

  const attemptsKey = `glue-attempts#${correlationId}`;
  const record = await ctx.state.readAttemptRecord(attemptsKey);
  const rerun = (next: number, lookFirstSince?: Date) =>
    startRerun(action, ctx, { args, runIdentity, failedJobRunId: action.jobRunId, next, lookFirstSince });

  if (record.claimedBy === ctx.lease.key && record.attempts > 0) {
    // An earlier try at this same event took this attempt and then failed or died, perhaps after starting
    // the re-run: finish its work rather than take another attempt.
    const since = new Date((record.claimedAt ?? ctx.invocation.now()) - RUN_SEARCH_SLACK_MS);
    return rerun(record.attempts, since);
  }

  const attempt = Math.max(attemptOf(args), record.attempts);
  if (attempt < config.maxAttempts) {
    const next = attempt + 1;
    const won = await ctx.state.advanceAttempts(attemptsKey, {
      from: record.attempts,
      to: next,
      claimedBy: ctx.lease.key,
      now: ctx.invocation.now(),
      ttlSeconds: ATTEMPTS_TTL_SECONDS,
    });
    if (!won) {
      // Another failure of the same object took the attempt between our read and our write; it starts the re-run.
      logger.info('Another remediation took this attempt; not starting a second re-run', { attempt: next });
      return { result: 'ignored', detail: { reason: 'attempt taken by another remediation', attempt: next } };
    }
    return rerun(next);
  }

  if (batch !== undefined) return quarantineBatch(action, ctx, { batch, attempt, lastError, logs });

  // Bound reached: keep a copy of exactly the version that failed where people look for bad data.
  if (bucket === undefined || key === undefined) throw new Error('unreachable: a single-object run names its object');
  const quarantineKey = quarantineKeyFor(key, config.incomingPrefix, config.quarantinePrefix);
  let quarantined = false;
  let quarantineError: string | undefined;
  try {
    await copyToQuarantine(s3, { bucket, key, versionId }, quarantineKey);
    quarantined = true;
    metrics.addMetric('ObjectsQuarantined', MetricUnit.Count, 1);
  } catch (error) {
    // An object that is gone cannot be copied; say so in the alert rather than fail it.
    if (!hasErrorName(error, 'NoSuchKey', 'NoSuchVersion', 'NotFound')) throw error;
    quarantineError = describeError(error);
  }
  await sendAlert(ctx, {
    type: 'glue-job-retries-exhausted',
    title: `Validation of ${key} failed ${attempt + 1} times; ${quarantined ? 'quarantined' : 'NOT quarantined'}`,
    summary: quarantined
      ? `The Glue job ${action.jobName} failed on every one of ${attempt} automatic re-runs. The object was copied to ${quarantineKey}; the original stays where it arrived.`
      : `The Glue job ${action.jobName} failed on every one of ${attempt} automatic re-runs, and the object could not be copied to quarantine (${quarantineError ?? 'unknown error'}).`,
    resource: { jobName: action.jobName, jobRunId: action.jobRunId, bucket, key, versionId: versionId ?? 'null' },
    correlationId,
    attempts: attempt,
    maxAttempts: config.maxAttempts,
    lastError,
    links: {
      logs,
      ...(quarantined ? { quarantinedObject: s3ObjectUrl(config.region, bucket, quarantineKey) } : {}),
    },
  });
  return { result: 'quarantined', detail: { quarantineKey, quarantined } };
}

/** Starts re-run `next`, unless `lookFirstSince` is given and such a run was already started since then. */
async function startRerun(
  action: GlueAction,
  ctx: RemediationContext,
  options: {
    args: Record<string, string>;
    /** The arguments that identify the work: --correlation_id of one object, or --batch_id of a batch. */
    runIdentity: Record<string, string>;
    failedJobRunId: string;
    next: number;
    lookFirstSince?: Date;
  },
): Promise<Outcome> {
  const { args, runIdentity, next } = options;
  const nextArguments: Record<string, string> = {};
  for (const [name, value] of Object.entries(args)) if (!SYSTEM_ARGUMENTS.has(name)) nextArguments[name] = value;
  nextArguments[GLUE_ARGUMENTS.remediationAttempt] = String(next);

  let jobRunId: string | undefined;
  if (options.lookFirstSince !== undefined) {
    const existing = await findJobRun(
      glue,
      action.jobName,
      { ...runIdentity, [GLUE_ARGUMENTS.remediationAttempt]: String(next) },
      options.lookFirstSince,
    );
    jobRunId = existing?.Id;
  }
  if (jobRunId === undefined) {
    const started = await glue.send(new StartJobRunCommand({ JobName: action.jobName, Arguments: nextArguments }));
    jobRunId = started.JobRunId;
  }
  logger.info('Restarted the validation job', {
    failedJobRunId: options.failedJobRunId,
    jobRunId,
    attempt: next,
    maxAttempts: ctx.config.maxAttempts,
  });
  metrics.addMetric('GlueRunsRetried', MetricUnit.Count, 1);
  return { result: 'retried', detail: { jobRunId, attempt: next } };
}

interface BatchRun {
  batchId: string;
  objects: { bucket: string; key: string; versionId: string | null; correlationId: string }[];
}

/** The batch a run validates (`--batch_id` and `--objects`, as the Glue trigger starts it), if it is one. */
function batchOf(args: Record<string, string>): BatchRun | undefined {
  const batchId = args[GLUE_ARGUMENTS.batchId];
  const raw = args[GLUE_ARGUMENTS.objects];
  if (batchId === undefined || raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return undefined;
  const objects: BatchRun['objects'] = [];
  for (const o of parsed as unknown[]) {
    if (typeof o !== 'object' || o === null) return undefined;
    const { bucket, key, versionId, correlationId } = o as Record<string, unknown>;
    if (typeof bucket !== 'string' || typeof key !== 'string' || typeof correlationId !== 'string') return undefined;
    objects.push({ bucket, key, versionId: typeof versionId === 'string' ? versionId : null, correlationId });
  }
  return { batchId, objects };
}

/** Objects named in a batch alert; the rest are counted. */
const ALERT_OBJECTS_MAX = 20;

/**
 * A batch run failed on every re-run: copy each of its objects to quarantine/ (a missing one is reported, not
 * fatal) and send one alert for the batch, not one per object.
 */
async function quarantineBatch(
  action: GlueAction,
  ctx: RemediationContext,
  options: { batch: BatchRun; attempt: number; lastError: string; logs: string },
): Promise<Outcome> {
  const { config } = ctx;
  const { batch, attempt } = options;
  const quarantined: string[] = [];
  const notQuarantined: string[] = [];
  for (const object of batch.objects) {
    const quarantineKey = quarantineKeyFor(object.key, config.incomingPrefix, config.quarantinePrefix);
    try {
      await copyToQuarantine(
        s3,
        { bucket: object.bucket, key: object.key, versionId: object.versionId ?? undefined },
        quarantineKey,
      );
      quarantined.push(quarantineKey);
      metrics.addMetric('ObjectsQuarantined', MetricUnit.Count, 1);
    } catch (error) {
      if (!hasErrorName(error, 'NoSuchKey', 'NoSuchVersion', 'NotFound')) throw error;
      notQuarantined.push(`${object.key}: ${describeError(error)}`);
    }
  }
  await sendAlert(ctx, {
    type: 'glue-batch-retries-exhausted',
    title: `Validation of a batch of ${batch.objects.length} objects failed ${attempt + 1} times; ${quarantined.length} quarantined`,
    summary: `The Glue job ${action.jobName} failed on every one of ${attempt} automatic re-runs of batch ${batch.batchId}. ${quarantined.length} of its ${batch.objects.length} objects were copied to ${config.quarantinePrefix}; the originals stay where they arrived.${notQuarantined.length > 0 ? ` ${notQuarantined.length} could not be copied.` : ''}`,
    resource: { jobName: action.jobName, jobRunId: action.jobRunId, batchId: batch.batchId },
    correlationId: `batch-${batch.batchId}`,
    attempts: attempt,
    maxAttempts: config.maxAttempts,
    lastError: options.lastError,
    links: { logs: options.logs },
    details: {
      objects: batch.objects.length,
      correlationIds: batch.objects.slice(0, ALERT_OBJECTS_MAX).map((o) => o.correlationId),
      quarantinedKeys: quarantined.slice(0, ALERT_OBJECTS_MAX),
      notQuarantined: notQuarantined.slice(0, ALERT_OBJECTS_MAX),
    },
  });
  return { result: 'quarantined', detail: { batchId: batch.batchId, quarantined: quarantined.length } };
}
