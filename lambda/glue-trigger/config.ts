import { InvalidConfigError, variablesOf } from '../shared/config';

/**
 * The variables IncomingObjectTrigger (lib/constructs/incoming-object-trigger.ts) sets, by name. Every value
 * comes from the stack; the handler keeps no default of its own.
 */
export interface GlueTriggerEnvironment {
  readonly GLUE_JOB_NAME: string;
  readonly STATE_TABLE_NAME: string;
  readonly QUEUE_URL: string;
  readonly DEAD_LETTER_QUEUE_URL: string;
  readonly INCOMING_PREFIX: string;
  readonly DATA_BUCKET_NAME: string;
  readonly BATCH_MAX_OBJECTS: string;
  readonly BATCH_MAX_BYTES: string;
  readonly MAX_CONCURRENT_RUNS: string;
  readonly PROBE_CAPACITY: string;
  readonly WAIT_MIN_SECONDS: string;
  readonly WAIT_MAX_SECONDS: string;
  readonly MAX_RECEIVE_COUNT: string;
}

export interface GlueTriggerConfig {
  /** GLUE_JOB_NAME: the validation job. */
  glueJobName: string;
  /** STATE_TABLE_NAME: idempotency claims (`glue-run#<correlationId>`). */
  stateTableName: string;
  /** DEAD_LETTER_QUEUE_URL: where records that retrying cannot fix are parked with an `error` attribute. */
  deadLetterQueueUrl: string;
  /** QUEUE_URL: the queue this function consumes, for ChangeMessageVisibility on retries. */
  queueUrl: string;
  /** INCOMING_PREFIX: only keys under it are validated. */
  incomingPrefix: string;
  /** DATA_BUCKET_NAME: the stage's data bucket; objects in any other bucket are skipped. */
  dataBucketName: string;
  /** BATCH_MAX_OBJECTS: most objects one job run validates. */
  maxObjects: number;
  /** BATCH_MAX_BYTES: most bytes (sum of object sizes) one job run validates. */
  maxBytes: number;
  /** MAX_CONCURRENT_RUNS: the job's concurrency; at it, the trigger waits instead of claiming. */
  maxConcurrentRuns: number;
  /** PROBE_CAPACITY: count running runs before claiming (off when Glue queues runs itself). */
  probeCapacity: boolean;
  /** WAIT_MIN_SECONDS / WAIT_MAX_SECONDS: visibility of a record handed back because Glue is full. */
  waitSeconds: { min: number; max: number };
  /** MAX_RECEIVE_COUNT: the queue's redrive bound; a record failing on its last receive is parked with the reason. */
  maxReceiveCount: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): GlueTriggerConfig {
  const v = variablesOf<GlueTriggerEnvironment>(env);
  const positive = (name: keyof GlueTriggerEnvironment) => {
    const value = v.integer(name);
    if (value < 1) throw new InvalidConfigError(name, String(value), 'a positive integer');
    return value;
  };
  const waitMin = positive('WAIT_MIN_SECONDS');
  const waitMax = positive('WAIT_MAX_SECONDS');
  // SQS visibility timeouts are at most 12 hours.
  if (waitMax < waitMin || waitMax > 43_200) {
    throw new InvalidConfigError('WAIT_MAX_SECONDS', String(waitMax), `from WAIT_MIN_SECONDS (${waitMin}) to 43200`);
  }
  return {
    glueJobName: v.required('GLUE_JOB_NAME'),
    stateTableName: v.required('STATE_TABLE_NAME'),
    deadLetterQueueUrl: v.required('DEAD_LETTER_QUEUE_URL'),
    queueUrl: v.required('QUEUE_URL'),
    incomingPrefix: v.required('INCOMING_PREFIX'),
    dataBucketName: v.required('DATA_BUCKET_NAME'),
    maxObjects: positive('BATCH_MAX_OBJECTS'),
    maxBytes: positive('BATCH_MAX_BYTES'),
    maxConcurrentRuns: positive('MAX_CONCURRENT_RUNS'),
    probeCapacity: v.boolean('PROBE_CAPACITY'),
    waitSeconds: { min: waitMin, max: waitMax },
    maxReceiveCount: positive('MAX_RECEIVE_COUNT'),
  };
}
