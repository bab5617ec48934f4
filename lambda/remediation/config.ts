import { booleanEnv, integerEnv, optionalEnv, regionFromEnv, requireEnv } from '../shared/config';

export interface RemediationConfig {
  /** ALERTS_TOPIC_ARN: where alerts go. */
  alertsTopicArn: string;
  /** STATE_TABLE_NAME: event de-duplication, attempt records, alert-once markers. */
  stateTableName: string;
  /** MAX_ATTEMPTS: automatic retries per failure before giving up and alerting. @default 3 */
  maxAttempts: number;
  /**
   * GLUE_JOB_MAX_RETRIES: the validation job's own MaxRetries. Glue emits a FAILED event for every attempt of
   * a run and retries it itself until this many retries are used, so only the last attempt's failure counts.
   * @default 0
   */
  glueJobMaxRetries: number;
  /** STATE_MACHINE_ARN: the orchestration workflow, where a FAILED execution is started again. */
  stateMachineArn: string;
  /** QUARANTINE_PREFIX: where an object whose validation job keeps failing is copied. @default 'quarantine/' */
  quarantinePrefix: string;
  /** INCOMING_PREFIX: stripped from the key when building the quarantine key. @default 'incoming/' */
  incomingPrefix: string;
  /** ALLOW_RELOAD_TARGET: whether a DMS task whose checkpoint is gone may be reloaded (full load again). @default false */
  allowReloadTarget: boolean;
  /** AWS_REGION: for console links. */
  region: string;
  /** GLUE_LOG_GROUP: the validation job's error log group (streams are named by run id). @default '/aws-glue/jobs/error' */
  glueLogGroup: string;
  /** STATE_MACHINE_LOG_GROUP: the orchestration workflow's log group, linked from alerts when set. */
  stateMachineLogGroup?: string;
  /** DMS_LOG_GROUP: the replication task's log group, linked from alerts when set. */
  dmsLogGroup?: string;
  /** GLUE_JOB_NAME: the stage's validation job; runs of any other job are skipped. */
  glueJobName: string;
  /** DATA_BUCKET_NAME: the stage's data bucket; validation results for any other bucket are skipped. */
  dataBucketName: string;
  /** REPLICATION_TASK_ARN_PARAMETER: SSM parameter holding the current task ARN (follows a replacement). */
  replicationTaskArnParameter: string;
  /** REPLICATION_CONFIG_ARN: the stage's DMS Serverless replication, if it has one. @default none */
  replicationConfigArn?: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RemediationConfig {
  return {
    alertsTopicArn: requireEnv('ALERTS_TOPIC_ARN', env),
    stateTableName: requireEnv('STATE_TABLE_NAME', env),
    maxAttempts: integerEnv('MAX_ATTEMPTS', 3, env),
    glueJobMaxRetries: integerEnv('GLUE_JOB_MAX_RETRIES', 0, env),
    stateMachineArn: requireEnv('STATE_MACHINE_ARN', env),
    quarantinePrefix: optionalEnv('QUARANTINE_PREFIX', env) ?? 'quarantine/',
    incomingPrefix: optionalEnv('INCOMING_PREFIX', env) ?? 'incoming/',
    allowReloadTarget: booleanEnv('ALLOW_RELOAD_TARGET', false, env),
    region: regionFromEnv(env),
    glueLogGroup: optionalEnv('GLUE_LOG_GROUP', env) ?? '/aws-glue/jobs/error',
    stateMachineLogGroup: optionalEnv('STATE_MACHINE_LOG_GROUP', env),
    dmsLogGroup: optionalEnv('DMS_LOG_GROUP', env),
    glueJobName: requireEnv('GLUE_JOB_NAME', env),
    dataBucketName: requireEnv('DATA_BUCKET_NAME', env),
    replicationTaskArnParameter: requireEnv('REPLICATION_TASK_ARN_PARAMETER', env),
    replicationConfigArn: optionalEnv('REPLICATION_CONFIG_ARN', env),
  };
}
