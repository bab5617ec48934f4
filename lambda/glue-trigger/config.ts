import { optionalEnv, requireEnv } from '../shared/config';

export interface GlueTriggerConfig {
  /** GLUE_JOB_NAME: the validation job. */
  glueJobName: string;
  /** STATE_TABLE_NAME: idempotency claims (`glue-run#<correlationId>`). */
  stateTableName: string;
  /** DEAD_LETTER_QUEUE_URL: where malformed records are parked with an `error` attribute. */
  deadLetterQueueUrl: string;
  /** QUEUE_URL: the queue this function consumes, for ChangeMessageVisibility on retries. */
  queueUrl: string;
  /** INCOMING_PREFIX: only keys under it are validated. @default 'incoming/' */
  incomingPrefix: string;
  /** DATA_BUCKET_NAME: the stage's data bucket; objects in any other bucket are skipped. */
  dataBucketName: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): GlueTriggerConfig {
  return {
    glueJobName: requireEnv('GLUE_JOB_NAME', env),
    stateTableName: requireEnv('STATE_TABLE_NAME', env),
    deadLetterQueueUrl: requireEnv('DEAD_LETTER_QUEUE_URL', env),
    queueUrl: requireEnv('QUEUE_URL', env),
    incomingPrefix: optionalEnv('INCOMING_PREFIX', env) ?? 'incoming/',
    dataBucketName: requireEnv('DATA_BUCKET_NAME', env),
  };
}
