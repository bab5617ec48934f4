import { booleanEnv, integerEnv, InvalidConfigError, optionalEnv, requireEnv } from '../shared/config';

export interface GlueTriggerConfig {
  /** GLUE_JOB_NAME: the validation job. */
  glueJobName: string;
  /** STATE_TABLE_NAME: idempotency claims (`glue-run#<correlationId>`). */
  stateTableName: string;
  /** DEAD_LETTER_QUEUE_URL: where records that retrying cannot fix are parked with an `error` attribute. */
  deadLetterQueueUrl: string;
  /** QUEUE_URL: the queue this function consumes, for ChangeMessageVisibility on retries. */
  queueUrl: string;
  /** INCOMING_PREFIX: only keys under it are validated. @default 'incoming/' */
  incomingPrefix: string;
  /** DATA_BUCKET_NAME: the stage's data bucket; objects in any other bucket are skipped. */
  dataBucketName: string;
  /** BATCH_MAX_OBJECTS: most objects one job run validates. @default 100 */
  maxObjects: number;
  /** BATCH_MAX_BYTES: most bytes (sum of object sizes) one job run validates. @default 10 GiB */
  maxBytes: number;
  /** MAX_CONCURRENT_RUNS: the job's concurrency; at it, the trigger waits instead of claiming. */
  maxConcurrentRuns: number;
  /** PROBE_CAPACITY: count running runs before claiming (off when Glue queues runs itself). @default true */
  probeCapacity: boolean;
  /** WAIT_MIN_SECONDS / WAIT_MAX_SECONDS: visibility of a record handed back because Glue is full. */
  waitSeconds: { min: number; max: number };
  /** MAX_RECEIVE_COUNT: the queue's redrive bound; a record failing on its last receive is parked with the reason. */
  maxReceiveCount: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): GlueTriggerConfig {
  const positive = (name: string, fallback: number) => {
    const value = integerEnv(name, fallback, env);
    if (value < 1) throw new InvalidConfigError(name, String(value), 'a positive integer');
    return value;
  };
  const waitMin = positive('WAIT_MIN_SECONDS', 300);
  const waitMax = positive('WAIT_MAX_SECONDS', 600);
  // SQS visibility timeouts are at most 12 hours.
  if (waitMax < waitMin || waitMax > 43_200) {
    throw new InvalidConfigError('WAIT_MAX_SECONDS', String(waitMax), `from WAIT_MIN_SECONDS (${waitMin}) to 43200`);
  }
  return {
    glueJobName: requireEnv('GLUE_JOB_NAME', env),
    stateTableName: requireEnv('STATE_TABLE_NAME', env),
    deadLetterQueueUrl: requireEnv('DEAD_LETTER_QUEUE_URL', env),
    queueUrl: requireEnv('QUEUE_URL', env),
    incomingPrefix: optionalEnv('INCOMING_PREFIX', env) ?? 'incoming/',
    dataBucketName: requireEnv('DATA_BUCKET_NAME', env),
    maxObjects: positive('BATCH_MAX_OBJECTS', 100),
    maxBytes: positive('BATCH_MAX_BYTES', 10 * 1024 ** 3),
    maxConcurrentRuns: positive('MAX_CONCURRENT_RUNS', 10),
    probeCapacity: booleanEnv('PROBE_CAPACITY', true, env),
    waitSeconds: { min: waitMin, max: waitMax },
    maxReceiveCount: positive('MAX_RECEIVE_COUNT', 25),
  };
}
