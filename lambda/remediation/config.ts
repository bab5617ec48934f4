import { regionFromEnv, variablesOf } from '../shared/config';

/**
 * The variables Remediation (lib/constructs/remediation.ts) sets, by name. Every value comes from the stack;
 * the handler keeps no default of its own.
 */
export interface RemediationEnvironment {
  readonly ALERTS_TOPIC_ARN: string;
  readonly STATE_TABLE_NAME: string;
  readonly MAX_ATTEMPTS: string;
  readonly GLUE_JOB_MAX_RETRIES: string;
  readonly STATE_MACHINE_ARN: string;
  readonly QUARANTINE_PREFIX: string;
  readonly INCOMING_PREFIX: string;
  readonly ALLOW_RELOAD_TARGET: string;
  readonly GLUE_LOG_GROUP: string;
  readonly STATE_MACHINE_LOG_GROUP?: string;
  readonly DMS_LOG_GROUP?: string;
  readonly GLUE_JOB_NAME: string;
  readonly DATA_BUCKET_NAME: string;
  readonly REPLICATION_TASK_ARN_PARAMETER: string;
  /**
   * Not read: it changes when the task can have been replaced, so the function and its policy are updated
   * with the stage and re-read the weak reference to the task ARN (ADR 0009).
   */
  readonly REPLICATION_TASK_GENERATION?: string;
  readonly REPLICATION_CONFIG_ARN?: string;
}

export interface RemediationConfig {
  /** ALERTS_TOPIC_ARN: where alerts go. */
  alertsTopicArn: string;
  /** STATE_TABLE_NAME: event de-duplication, attempt records, alert-once markers. */
  stateTableName: string;
  /** MAX_ATTEMPTS: automatic retries per failure before giving up and alerting. */
  maxAttempts: number;
  /**
   * GLUE_JOB_MAX_RETRIES: the validation job's own MaxRetries. Glue emits a FAILED event for every attempt of
   * a run and retries it itself until this many retries are used, so only the last attempt's failure counts.
   */
  glueJobMaxRetries: number;
  /** STATE_MACHINE_ARN: the orchestration workflow, where a FAILED execution is started again. */
  stateMachineArn: string;
  /** QUARANTINE_PREFIX: where an object whose validation job keeps failing is copied. */
  quarantinePrefix: string;
  /** INCOMING_PREFIX: stripped from the key when building the quarantine key. */
  incomingPrefix: string;
  /** ALLOW_RELOAD_TARGET: whether a DMS task whose checkpoint is gone may be reloaded (full load again). */
  allowReloadTarget: boolean;
  /** AWS_REGION (set by Lambda): for console links. */
  region: string;
  /** GLUE_LOG_GROUP: the validation job's error log group (streams are named by run id). */
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
  const v = variablesOf<RemediationEnvironment>(env);
  return {
    alertsTopicArn: v.required('ALERTS_TOPIC_ARN'),
    stateTableName: v.required('STATE_TABLE_NAME'),
    maxAttempts: v.integer('MAX_ATTEMPTS'),
    glueJobMaxRetries: v.integer('GLUE_JOB_MAX_RETRIES'),
    stateMachineArn: v.required('STATE_MACHINE_ARN'),
    quarantinePrefix: v.required('QUARANTINE_PREFIX'),
    incomingPrefix: v.required('INCOMING_PREFIX'),
    allowReloadTarget: v.boolean('ALLOW_RELOAD_TARGET'),
    region: regionFromEnv(env),
    glueLogGroup: v.required('GLUE_LOG_GROUP'),
    stateMachineLogGroup: v.optional('STATE_MACHINE_LOG_GROUP'),
    dmsLogGroup: v.optional('DMS_LOG_GROUP'),
    glueJobName: v.required('GLUE_JOB_NAME'),
    dataBucketName: v.required('DATA_BUCKET_NAME'),
    replicationTaskArnParameter: v.required('REPLICATION_TASK_ARN_PARAMETER'),
    replicationConfigArn: v.optional('REPLICATION_CONFIG_ARN'),
  };
}
