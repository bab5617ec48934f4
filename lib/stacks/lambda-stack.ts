import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeGrantActionGroups, REF } from '../compliance/nag';
import {
  GLUE_TRIGGER_TIMEOUT_SECONDS,
  jobRunQueuingFor,
  type QueueSizing,
  queueSizing,
  resolveValidationBatch,
} from '../config/burst-sizing';
import type { ReplicationTaskReference } from '../constructs/managed-replication-task';
import { MigrationFunction } from '../constructs/migration-function';
import { logRetention, MigrationStackProps, statefulRemoval } from './migration-stack-props';
import { DATA_PREFIXES } from './storage-stack';

export interface LambdaStackProps extends MigrationStackProps {
  readonly dataBucket: s3.IBucket;
  readonly dataKey: kms.IKey;
  readonly messagingKey: kms.IKey;
  readonly validationJob: glue.IJob;
  readonly stateMachine: sfn.IStateMachine;
  /** Name of the state machine (a resource attribute), for its execution ARNs. */
  readonly stateMachineName: string;
  /** Retries Glue itself makes for a failed run; remediation acts only after the last one. */
  readonly glueJobMaxRetries: number;
  readonly resultsTopic: sns.ITopic;
  readonly alertsTopic: sns.ITopic;
  readonly subscriptionDeadLetterQueue: sqs.IQueue;
  /** The DMS task remediation may resume; it reads the current ARN from the parameter at run time. */
  readonly replicationTask: ReplicationTaskReference;
  /** Log groups remediation links to in its alerts. */
  readonly glueLogGroup: logs.ILogGroup;
  readonly stateMachineLogGroup: logs.ILogGroup;
  readonly dmsLogGroup: logs.ILogGroup;
  /** Log group removal. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The three data-path handlers and what feeds them:
 * - S3 `Object Created` under `incoming/` → EventBridge → queue → Glue trigger → validation job;
 * - results topic (status=PASSED) → Step Functions trigger → workflow;
 * - failure events (MonitoringStack) and results topic (status=FAILED) → remediation.
 */
export class LambdaStack extends Stack {
  public readonly glueTrigger: MigrationFunction;
  public readonly sfnTrigger: MigrationFunction;
  public readonly remediation: MigrationFunction;
  /** Idempotency records of the Glue trigger and attempt counts of remediation. */
  public readonly stateTable: dynamodb.TableV2;
  /** EventBridge delivers object events here; the Glue trigger drains it. */
  public readonly objectEventsQueue: sqs.Queue;
  public readonly objectEventsDeadLetterQueue: sqs.Queue;
  /** How the object events queue is sized, and the drain time its age alarm is measured against. */
  public readonly queueSizing: QueueSizing;

  constructor(scope: Construct, id: string, props: LambdaStackProps) {
    super(scope, id, props);
    const { config } = props;
    const common = {
      logRetention: logRetention(config.logRetentionDays),
      dlqKey: props.messagingKey,
      ...(props.logRemovalPolicy ? { logRemovalPolicy: props.logRemovalPolicy } : {}),
    };

    this.stateTable = new dynamodb.TableV2(this, 'StateTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(props.dataKey),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: statefulRemoval(config),
      deletionProtection: config.envName === 'prod',
    });

    // ---- S3 -> Glue trigger -------------------------------------------------------------------
    this.objectEventsDeadLetterQueue = new sqs.Queue(this, 'ObjectEventsDlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.messagingKey,
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
    });
    Validations.of(this.objectEventsDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the object events queue; its depth is alarmed.',
    });
    // Sized from the time the job's concurrency needs to drain a design burst (docs/bursts.md).
    const batch = resolveValidationBatch(config.glue);
    this.queueSizing = queueSizing(config.glue, GLUE_TRIGGER_TIMEOUT_SECONDS);
    this.objectEventsQueue = new sqs.Queue(this, 'ObjectEventsQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.messagingKey,
      // SQS keeps messages for at most 14 days.
      retentionPeriod: Duration.seconds(Math.min(this.queueSizing.retentionSeconds, 14 * 24 * 3600)),
      visibilityTimeout: Duration.seconds(this.queueSizing.visibilityTimeoutSeconds),
      enforceSSL: true,
      deadLetterQueue: {
        queue: this.objectEventsDeadLetterQueue,
        maxReceiveCount: this.queueSizing.maxReceiveCount,
      },
    });
    new events.Rule(this, 'IncomingObjectRule', {
      description: 'Every object created under incoming/ starts a validation',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.dataBucket.bucketName] },
          object: { key: [{ prefix: DATA_PREFIXES.incoming }] },
        },
      },
      targets: [
        new targets.SqsQueue(this.objectEventsQueue, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
          // An event EventBridge cannot deliver to the queue is kept, not dropped.
          deadLetterQueue: this.objectEventsDeadLetterQueue,
        }),
      ],
    });

    this.glueTrigger = new MigrationFunction(this, 'GlueTrigger', {
      ...common,
      handlerName: 'glue-trigger',
      description: 'Starts one validation job run per batch of objects created under incoming/',
      timeout: Duration.seconds(GLUE_TRIGGER_TIMEOUT_SECONDS),
      environment: {
        GLUE_JOB_NAME: props.validationJob.jobName,
        STATE_TABLE_NAME: this.stateTable.tableName,
        QUEUE_URL: this.objectEventsQueue.queueUrl,
        DEAD_LETTER_QUEUE_URL: this.objectEventsDeadLetterQueue.queueUrl,
        INCOMING_PREFIX: DATA_PREFIXES.incoming,
        DATA_BUCKET_NAME: props.dataBucket.bucketName,
        BATCH_MAX_OBJECTS: String(batch.maxObjects),
        BATCH_MAX_BYTES: String(batch.maxBytes),
        MAX_CONCURRENT_RUNS: String(config.glue.maxConcurrentRuns),
        // Glue holds runs itself when it queues them; counting running runs first is then pointless.
        PROBE_CAPACITY: String(!jobRunQueuingFor(config.glue)),
        WAIT_MIN_SECONDS: String(this.queueSizing.waitSeconds.min),
        WAIT_MAX_SECONDS: String(this.queueSizing.waitSeconds.max),
        MAX_RECEIVE_COUNT: String(this.queueSizing.maxReceiveCount),
      },
    });
    this.glueTrigger.addEventSource(
      new SqsEventSource(this.objectEventsQueue, {
        batchSize: batch.maxObjects,
        maxBatchingWindow: Duration.seconds(batch.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        // Few pollers: a burst waits in the queue (where it costs nothing) rather than in handed-back receives.
        maxConcurrency: batch.maxTriggerConcurrency,
      }),
    );
    this.glueTrigger.addToRolePolicy(
      // GetJobRuns finds a run started by an invocation that died before recording it.
      new iam.PolicyStatement({
        actions: ['glue:StartJobRun', 'glue:GetJobRuns'],
        resources: [props.validationJob.jobArn],
      }),
    );
    this.objectEventsQueue.grant(this.glueTrigger, 'sqs:ChangeMessageVisibility');
    this.objectEventsDeadLetterQueue.grantSendMessages(this.glueTrigger);
    this.stateTable.grant(
      this.glueTrigger,
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:GetItem',
      'dynamodb:DeleteItem',
    );
    // TableV2.grant covers table actions only; the table is encrypted with the data key.
    props.dataKey.grantEncryptDecrypt(this.glueTrigger);

    // ---- results topic -> Step Functions trigger -----------------------------------------------
    this.sfnTrigger = new MigrationFunction(this, 'SfnTrigger', {
      ...common,
      handlerName: 'sfn-trigger',
      description: 'Starts the replication workflow for each dataset batch of PASSED validation results',
      environment: {
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        EXECUTION_SCOPE: batch.executions,
        ...(batch.executions === 'per-dataset-batch' ? { STATE_TABLE_NAME: this.stateTable.tableName } : {}),
      },
    });
    props.stateMachine.grantStartExecution(this.sfnTrigger);
    if (batch.executions === 'per-dataset-batch') {
      // Reads the Glue trigger's claim of an object for the batch it was validated in.
      this.stateTable.grant(this.sfnTrigger, 'dynamodb:GetItem');
      props.dataKey.grantDecrypt(this.sfnTrigger);
    }
    props.resultsTopic.addSubscription(
      new subscriptions.LambdaSubscription(this.sfnTrigger, {
        filterPolicy: { status: sns.SubscriptionFilter.stringFilter({ allowlist: ['PASSED'] }) },
        deadLetterQueue: props.subscriptionDeadLetterQueue,
      }),
    );

    // ---- remediation --------------------------------------------------------------------------
    this.remediation = new MigrationFunction(this, 'Remediation', {
      ...common,
      handlerName: 'remediation',
      description: 'Classifies Glue, DMS, workflow and validation failures; retries, quarantines, alerts',
      // Quarantining a multi-gigabyte object is a multipart copy.
      timeout: Duration.minutes(5),
      environment: {
        ALERTS_TOPIC_ARN: props.alertsTopic.topicArn,
        STATE_TABLE_NAME: this.stateTable.tableName,
        GLUE_JOB_NAME: props.validationJob.jobName,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        REPLICATION_TASK_ARN_PARAMETER: props.replicationTask.taskArnParameter.parameterName,
        // Changes when the task can have been replaced, so this function and its policy are updated
        // with the stage and re-read the weak reference to the task ARN (ADR 0009).
        REPLICATION_TASK_GENERATION: props.replicationTask.generation,
        DATA_BUCKET_NAME: props.dataBucket.bucketName,
        QUARANTINE_PREFIX: DATA_PREFIXES.quarantine,
        REPORTS_PREFIX: DATA_PREFIXES.reports,
        MAX_ATTEMPTS: String(config.remediation.maxAttempts),
        ALLOW_RELOAD_TARGET: String(config.dms.allowReloadTarget),
        INCOMING_PREFIX: DATA_PREFIXES.incoming,
        GLUE_JOB_MAX_RETRIES: String(props.glueJobMaxRetries),
        GLUE_LOG_GROUP: props.glueLogGroup.logGroupName,
        STATE_MACHINE_LOG_GROUP: props.stateMachineLogGroup.logGroupName,
        DMS_LOG_GROUP: props.dmsLogGroup.logGroupName,
      },
    });
    this.remediation.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetJobRun', 'glue:GetJobRuns', 'glue:StartJobRun'],
        resources: [props.validationJob.jobArn],
      }),
    );
    this.remediation.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dms:StartReplicationTask'],
        resources: [props.replicationTask.taskArn],
      }),
    );
    props.replicationTask.taskArnParameter.grantRead(this.remediation);
    this.remediation.addToRolePolicy(
      new iam.PolicyStatement({
        // DMS Serverless replications (DescribeReplications) are handled too, for stages that use them.
        actions: ['dms:DescribeReplicationTasks', 'dms:DescribeReplications'],
        // The DMS describe actions support no resource-level permissions.
        resources: ['*'],
      }),
    );
    this.remediation.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dms:StartReplication'],
        resources: [
          Stack.of(this).formatArn({
            service: 'dms',
            resource: 'replication-config',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.remediation.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:RedriveExecution'],
        resources: [
          Stack.of(this).formatArn({
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
    props.stateMachine.grantStartExecution(this.remediation);
    props.dataBucket.grantRead(this.remediation, `${DATA_PREFIXES.incoming}*`);
    props.dataBucket.grantPut(this.remediation, `${DATA_PREFIXES.quarantine}*`);
    this.stateTable.grant(
      this.remediation,
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:GetItem',
      'dynamodb:DeleteItem',
    );
    props.dataKey.grantEncryptDecrypt(this.remediation);
    props.alertsTopic.grantPublish(this.remediation);
    props.resultsTopic.addSubscription(
      new subscriptions.LambdaSubscription(this.remediation, {
        filterPolicy: { status: sns.SubscriptionFilter.stringFilter({ allowlist: ['FAILED'] }) },
        deadLetterQueue: props.subscriptionDeadLetterQueue,
      }),
    );

    const kmsGrantAck = ['Action::kms:ReEncrypt*', 'Action::kms:GenerateDataKey*'].map((finding) => ({
      id: `AwsSolutions-IAM5[${finding}]`,
      reason: 'Added by the queue, topic and bucket grants for their KMS keys; scoped to those keys.',
    }));
    Validations.of(this.glueTrigger.role!).acknowledge(...kmsGrantAck);
    acknowledgeGrantActionGroups(
      this.remediation.role!,
      'incoming/ (read) and quarantine/ (write) of the data bucket and its key',
    );
    Validations.of(this.remediation.role!).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${REF}/incoming/*]`,
        reason: 'Reads only the incoming/ prefix of the data bucket, to copy a failed object to quarantine.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${REF}/quarantine/*]`,
        reason: 'Writes only under quarantine/, where remediation copies objects it gives up on.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:${REF}:dms:${REF}:replication-config:*]`,
        reason:
          'Resuming a failed DMS Serverless replication of this account and region; config ids are assigned by DMS.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:aws:states:${REF}:execution:${REF}:*]`,
        reason: 'Executions of this one state machine: their names are not known before they run.',
      },
    );
    Validations.of(this.remediation.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dms:DescribeReplicationTasks and X-Ray support no resource-level permissions.',
    });
  }
}
