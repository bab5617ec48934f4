import type { GlueConfig, ValidationBatchConfig } from './environment-config';

/** Defaults of `glue.batch` (docs/bursts.md). */
export const DEFAULT_VALIDATION_BATCH: Required<ValidationBatchConfig> = {
  maxObjects: 100,
  maxBytes: 10 * 1024 ** 3,
  maxBatchingWindowSeconds: 30,
  maxTriggerConcurrency: 2,
  runMinutes: 10,
  designBurstObjects: 10_000,
  executions: 'per-dataset-batch',
};

/** The Glue trigger's timeout: a batch of claims, one StartJobRun and the completions fit with room to spare. */
export const GLUE_TRIGGER_TIMEOUT_SECONDS = 60;

/** Receives kept for transient errors on top of those the drain time needs. */
export const TRANSIENT_RECEIVES = 5;

/** SQS allows a maxReceiveCount of 1 to 1000. */
const MAX_RECEIVE_COUNT = 1000;

/**
 * Glue queues runs of a job only when the job has no Glue retries (CloudFormation `JobRunQueuingEnabled`
 * requires `MaxRetries` 0), so queuing is on exactly when `glue.maxRetries` is 0 (ADR 0020).
 */
export function jobRunQueuingFor(glue: Pick<GlueConfig, 'maxRetries'>): boolean {
  return glue.maxRetries === 0;
}

export function resolveValidationBatch(glue: Pick<GlueConfig, 'batch'>): Required<ValidationBatchConfig> {
  return { ...DEFAULT_VALIDATION_BATCH, ...stripUndefined(glue.batch ?? {}) };
}

/** What the trigger's queue and event source are set to, all derived from the configured concurrency. */
export interface QueueSizing {
  /** Job runs a design burst needs. */
  readonly runs: number;
  /** Rounds of `maxConcurrentRuns` runs that takes. */
  readonly waves: number;
  /** Worst-case time for the configured concurrency to validate a design burst. */
  readonly drainSeconds: number;
  /** 6 × the function timeout + the batching window, as Lambda advises for SQS event sources. */
  readonly visibilityTimeoutSeconds: number;
  /** Visibility after "Glue is full": uniform in [min, max] = [T/2, T]. */
  readonly waitSeconds: { readonly min: number; readonly max: number };
  /** Enough "full" answers to outlast the drain time, plus TRANSIENT_RECEIVES. */
  readonly maxReceiveCount: number;
  /** At least 4 days and twice the drain time. */
  readonly retentionSeconds: number;
  /** Oldest message older than this: the queue is not draining as the configured concurrency should. */
  readonly oldestMessageAlarmSeconds: number;
}

export function queueSizing(
  glue: Pick<GlueConfig, 'batch' | 'maxConcurrentRuns'>,
  functionTimeoutSeconds = GLUE_TRIGGER_TIMEOUT_SECONDS,
): QueueSizing {
  const batch = resolveValidationBatch(glue);
  const runSeconds = batch.runMinutes * 60;
  const runs = Math.ceil(batch.designBurstObjects / batch.maxObjects);
  const waves = Math.ceil(runs / glue.maxConcurrentRuns);
  const drainSeconds = waves * runSeconds;
  const visibilityTimeoutSeconds = 6 * functionTimeoutSeconds + batch.maxBatchingWindowSeconds;
  const waitSeconds = { min: Math.ceil(runSeconds / 2), max: runSeconds };
  const maxReceiveCount = Math.min(MAX_RECEIVE_COUNT, Math.ceil(drainSeconds / waitSeconds.min) + TRANSIENT_RECEIVES);
  return {
    runs,
    waves,
    drainSeconds,
    visibilityTimeoutSeconds,
    waitSeconds,
    maxReceiveCount,
    retentionSeconds: Math.max(4 * 24 * 3600, 2 * drainSeconds),
    oldestMessageAlarmSeconds: drainSeconds + batch.maxBatchingWindowSeconds + visibilityTimeoutSeconds,
  };
}

/** Problems with `glue.batch`, each naming the field, what it is and what it should be. */
export function validationBatchProblems(glue: Pick<GlueConfig, 'batch'>): string[] {
  const problems: string[] = [];
  const b = glue.batch ?? {};
  const int = (name: keyof ValidationBatchConfig, min: number, max: number) => {
    const value = b[name];
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`glue.batch.${name} is ${JSON.stringify(value)}: expected an integer from ${min} to ${max}`);
    }
  };
  // Lambda reads at most 10 000 messages from a standard queue per batch.
  int('maxObjects', 1, 10_000);
  int('maxBytes', 1, 1024 ** 4);
  int('maxBatchingWindowSeconds', 0, 300);
  int('maxTriggerConcurrency', 2, 1000);
  int('runMinutes', 1, 60);
  int('designBurstObjects', 1, 10_000_000);
  // Lambda requires a batching window of at least 1 s for a batch size above 10.
  if ((b.maxObjects ?? DEFAULT_VALIDATION_BATCH.maxObjects) > 10 && b.maxBatchingWindowSeconds === 0) {
    problems.push(
      'glue.batch.maxBatchingWindowSeconds is 0: Lambda needs a batching window of at least 1 s when glue.batch.maxObjects is above 10',
    );
  }
  if (b.executions !== undefined && b.executions !== 'per-dataset-batch' && b.executions !== 'per-object') {
    problems.push(
      `glue.batch.executions is ${JSON.stringify(b.executions)}: expected 'per-dataset-batch' or 'per-object'`,
    );
  }
  return problems;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
