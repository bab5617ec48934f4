import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RemediationEnvironment } from '../../lambda/remediation/config';
import { acknowledgeGrantActionGroups, REF } from '../compliance/nag';
import { DATA_PREFIXES } from '../stacks/storage-stack';
import { DeadLetterQueue } from './dead-letter-queue';
import type { ReplicationTaskReference } from './managed-replication-task';
import { handlerEnvironment, type HopFunctionProps, MigrationFunction } from './migration-function';

/** Failure event patterns, kept as data so tests can run documented sample events through them. */
export const FAILURE_PATTERNS = {
  /** Glue emits FAILED and TIMEOUT for job runs (there is no ERROR state for jobs). */
  glue: (jobName: string): events.EventPattern => ({
    source: ['aws.glue'],
    detailType: ['Glue Job State Change'],
    detail: { jobName: [jobName], state: ['FAILED', 'TIMEOUT'] },
  }),
  /** Classic DMS tasks: the task ARN is in `resources`, the failure in `detail.eventType`. */
  dmsTask: (taskArn: string): events.EventPattern => ({
    source: ['aws.dms'],
    detailType: ['DMS Replication Task State Change'],
    resources: [taskArn],
    detail: { eventType: ['REPLICATION_TASK_FAILED'] },
  }),
  stepFunctions: (stateMachineArn: string): events.EventPattern => ({
    source: ['aws.states'],
    detailType: ['Step Functions Execution Status Change'],
    detail: { stateMachineArn: [stateMachineArn], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
  }),
  /** DataSync executions of this stage's task (execution ARNs start with the task ARN). */
  dataSync: (taskArn: string): events.EventPattern => ({
    source: ['aws.datasync'],
    detailType: ['DataSync Task Execution State Change'],
    resources: [{ prefix: `${taskArn}/execution/` }] as unknown as string[],
    detail: { State: ['ERROR'] },
  }),
} as const;

/** The failure rules, by the pattern each one uses. */
export type FailureRules = Record<keyof typeof FAILURE_PATTERNS, events.Rule>;

export interface RemediationProps extends HopFunctionProps {
  /** Validation results; messages with `status=FAILED` reach remediation. */
  readonly resultsTopic: sns.ITopic;
  /** Keeps results SNS could not deliver to remediation. */
  readonly subscriptionDeadLetterQueue: sqs.IQueue;
  /** Where remediation alerts people, and where DataSync errors go. */
  readonly alertsTopic: sns.ITopic;
  /** Event de-duplication, attempt records and alert-once markers, and the key that encrypts them. */
  readonly stateTable: { readonly table: dynamodb.ITableV2; readonly key: kms.IKey };
  /** Failed objects are read from `incoming/` and copied to `quarantine/` here. */
  readonly dataBucket: s3.IBucket;
  /** The validation job whose failed runs are retried. */
  readonly validationJob: glue.IJob;
  /** Retries Glue itself makes for a failed run; remediation acts only after the last one. */
  readonly glueJobMaxRetries: number;
  /** The replication workflow whose failed executions are started again. */
  readonly stateMachine: sfn.IStateMachine;
  /** Name of the state machine (a resource attribute): scopes the execution permissions to its executions. */
  readonly stateMachineName: string;
  /** The DMS task remediation may resume; it reads the current ARN from the parameter at run time. */
  readonly replicationTask: ReplicationTaskReference;
  /** Whether a DMS task whose checkpoint is gone may be reloaded (full load again). */
  readonly allowReloadTarget: boolean;
  /** Automatic retries per failure before giving up and alerting. */
  readonly maxAttempts: number;
  /** The DataSync task whose failed executions are sent to the alerts topic (an empty ARN matches nothing). */
  readonly dataSyncTask: {
    readonly taskArn: string;
    /** Changes whenever the task ARN can change; written into the rule so its stack is updated. */
    readonly generation: string;
  };
  /** Log groups linked from alerts. */
  readonly logGroups: {
    readonly glue: logs.ILogGroup;
    readonly stateMachine: logs.ILogGroup;
    readonly dms: logs.ILogGroup;
  };
  /** Encrypts the dead-letter queue of the failure rules. */
  readonly queueKey: kms.IKey;
}

/**
 * Side hop that repairs the data path: failure rules (Glue job, DMS task, workflow) and `status=FAILED` results
 * invoke the remediation function, which retries, redrives, resumes or quarantines and alerts; DataSync errors
 * go straight to the alerts topic (the next scheduled run retries). What EventBridge cannot deliver is kept in
 * `eventsDeadLetterQueue`.
 */
export class Remediation extends Construct {
  /** The remediation function. */
  public readonly handler: MigrationFunction;
  /** Where EventBridge puts failure events it could not deliver to remediation or the alerts topic. */
  public readonly eventsDeadLetterQueue: sqs.Queue;
  /** The failure rules; MonitoringStack counts their matched events. */
  public readonly failureRules: FailureRules;

  constructor(scope: Construct, id: string, props: RemediationProps) {
    super(scope, id);
    const { stateTable, dataBucket, replicationTask } = props;
    this.handler = new MigrationFunction(this, 'Handler', {
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      dlqKey: props.dlqKey,
      handlerName: 'remediation',
      description: 'Classifies Glue, DMS, workflow and validation failures; retries, quarantines, alerts',
      // Quarantining a multi-gigabyte object is a multipart copy.
      timeout: Duration.minutes(5),
      environment: handlerEnvironment<RemediationEnvironment>({
        ALERTS_TOPIC_ARN: props.alertsTopic.topicArn,
        STATE_TABLE_NAME: stateTable.table.tableName,
        GLUE_JOB_NAME: props.validationJob.jobName,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        REPLICATION_TASK_ARN_PARAMETER: replicationTask.taskArnParameter.parameterName,
        // Changes when the task can have been replaced, so this function and its policy are updated
        // with the stage and re-read the weak reference to the task ARN (ADR 0009).
        REPLICATION_TASK_GENERATION: replicationTask.generation,
        DATA_BUCKET_NAME: dataBucket.bucketName,
        QUARANTINE_PREFIX: DATA_PREFIXES.quarantine,
        MAX_ATTEMPTS: String(props.maxAttempts),
        ALLOW_RELOAD_TARGET: String(props.allowReloadTarget),
        INCOMING_PREFIX: DATA_PREFIXES.incoming,
        GLUE_JOB_MAX_RETRIES: String(props.glueJobMaxRetries),
        GLUE_LOG_GROUP: props.logGroups.glue.logGroupName,
        STATE_MACHINE_LOG_GROUP: props.logGroups.stateMachine.logGroupName,
        DMS_LOG_GROUP: props.logGroups.dms.logGroupName,
      }),
    });
    this.grantRepairs(props);
    props.resultsTopic.addSubscription(
      new subscriptions.LambdaSubscription(this.handler, {
        filterPolicy: { status: sns.SubscriptionFilter.stringFilter({ allowlist: ['FAILED'] }) },
        deadLetterQueue: props.subscriptionDeadLetterQueue,
      }),
    );

    this.eventsDeadLetterQueue = new DeadLetterQueue(this, 'EventsDeadLetterQueue', {
      key: props.queueKey,
      deadLetterOf: 'the failure rule targets',
      removalPolicy: props.logRemovalPolicy,
    });
    this.failureRules = this.failureRulesFor(props);
  }

  private failureRulesFor(props: RemediationProps): FailureRules {
    const deadLetterQueue = this.eventsDeadLetterQueue;
    const remediationTarget = new targets.LambdaFunction(this.handler, {
      deadLetterQueue,
      retryAttempts: 4,
      maxEventAge: Duration.hours(2),
    });
    const failureRule = (id: string, description: string, pattern: events.EventPattern) =>
      new events.Rule(this, id, { description, eventPattern: pattern, targets: [remediationTarget] });
    return {
      glue: failureRule(
        'GlueJobFailedRule',
        'Validation job run failed or timed out',
        FAILURE_PATTERNS.glue(props.validationJob.jobName),
      ),
      dmsTask: failureRule(
        'DmsTaskFailedRule',
        `DMS replication task failed (task generation ${props.replicationTask.generation})`,
        FAILURE_PATTERNS.dmsTask(props.replicationTask.taskArn),
      ),
      stepFunctions: failureRule(
        'ExecutionFailedRule',
        'Replication workflow failed, timed out or was aborted',
        FAILURE_PATTERNS.stepFunctions(props.stateMachine.stateMachineArn),
      ),
      // DataSync errors are for people, not for automatic retries: the next scheduled run retries.
      dataSync: new events.Rule(this, 'DataSyncErrorRule', {
        description: `DataSync task execution ended in ERROR (task generation ${props.dataSyncTask.generation})`,
        eventPattern: FAILURE_PATTERNS.dataSync(props.dataSyncTask.taskArn),
        targets: [new targets.SnsTopic(props.alertsTopic, { deadLetterQueue, retryAttempts: 4 })],
      }),
    };
  }

  /** What the function may do to repair each hop, each scoped to this stage's resources. */
  private grantRepairs(props: RemediationProps): void {
    const fn = this.handler;
    const stack = Stack.of(this);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetJobRun', 'glue:GetJobRuns', 'glue:StartJobRun'],
        resources: [props.validationJob.jobArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dms:StartReplicationTask'], resources: [props.replicationTask.taskArn] }),
    );
    props.replicationTask.taskArnParameter.grantRead(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        // DMS Serverless replications (DescribeReplications) are handled too, for stages that use them.
        actions: ['dms:DescribeReplicationTasks', 'dms:DescribeReplications'],
        // The DMS describe actions support no resource-level permissions.
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dms:StartReplication'],
        resources: [
          stack.formatArn({
            service: 'dms',
            resource: 'replication-config',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:RedriveExecution'],
        resources: [
          stack.formatArn({
            service: 'states',
            resource: 'execution',
            // Executions of this state machine only: execution:<state machine name>:<execution name>.
            resourceName: `${props.stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    // A FAILED run is started again as a new execution (a redrive would resume at its Fail state).
    props.stateMachine.grantStartExecution(fn);
    props.dataBucket.grantRead(fn, `${DATA_PREFIXES.incoming}*`);
    props.dataBucket.grantPut(fn, `${DATA_PREFIXES.quarantine}*`);
    props.stateTable.table.grant(
      fn,
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:GetItem',
      'dynamodb:DeleteItem',
    );
    props.stateTable.key.grantEncryptDecrypt(fn);
    props.alertsTopic.grantPublish(fn);

    const role = fn.role!;
    acknowledgeGrantActionGroups(role, 'incoming/ (read) and quarantine/ (write) of the data bucket and its key');
    Validations.of(role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${REF}/${DATA_PREFIXES.incoming}*]`,
        reason: 'Reads only the incoming/ prefix of the data bucket, to copy a failed object to quarantine.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${REF}/${DATA_PREFIXES.quarantine}*]`,
        reason: 'Writes only under quarantine/, where remediation copies objects it gives up on.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:${REF}:dms:${REF}:replication-config:*]`,
        reason:
          'Resuming a failed DMS Serverless replication of this account and region; config ids are assigned by DMS.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:${REF}:states:${REF}:execution:${REF}:*]`,
        reason: 'Executions of this one state machine: their names are not known before they run.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'dms:DescribeReplicationTasks and X-Ray support no resource-level permissions.',
      },
    );
  }
}
