import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { QueueSizing } from '../config/burst-sizing';
import { IncomingObjectTrigger } from '../constructs/incoming-object-trigger';
import type { ReplicationTaskReference } from '../constructs/managed-replication-task';
import type { HopFunctionProps, MigrationFunction } from '../constructs/migration-function';
import { OrchestrationTrigger } from '../constructs/orchestration-trigger';
import { type FailureRules, Remediation } from '../constructs/remediation';
import { logRetention, MigrationStackProps, statefulRemoval } from './migration-stack-props';

export interface LambdaStackProps extends MigrationStackProps {
  /** The data bucket (StorageStack): its `incoming/` objects start validations; remediation quarantines in it. */
  readonly dataBucket: s3.IBucket;
  /** Encrypts the state table. */
  readonly dataKey: kms.IKey;
  /** Encrypts the queues of this stack. */
  readonly messagingKey: kms.IKey;
  /** The validation job (GlueStack). */
  readonly validationJob: glue.IJob;
  /** The replication workflow (OrchestrationStack). */
  readonly stateMachine: sfn.IStateMachine;
  /** Name of the state machine (a resource attribute), for its execution ARNs. */
  readonly stateMachineName: string;
  /** Validation results (MessagingStack): PASSED to the Step Functions trigger, FAILED to remediation. */
  readonly resultsTopic: sns.ITopic;
  /** Where remediation alerts people and DataSync errors go (MessagingStack). */
  readonly alertsTopic: sns.ITopic;
  /** Keeps results SNS could not deliver to a handler (MessagingStack). */
  readonly subscriptionDeadLetterQueue: sqs.IQueue;
  /** The DMS task remediation may resume; it reads the current ARN from the parameter at run time. */
  readonly replicationTask: ReplicationTaskReference;
  /** The DataSync task whose failed executions are sent to the alerts topic (DataSyncStack). */
  readonly dataSyncTask: { readonly taskArn: string; readonly generation: string };
  /** Log groups remediation links to in its alerts. */
  readonly glueLogGroup: logs.ILogGroup;
  readonly stateMachineLogGroup: logs.ILogGroup;
  readonly dmsLogGroup: logs.ILogGroup;
  /** Log group removal. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The three data-path handlers and what feeds them, one construct a hop:
 * - {@link IncomingObjectTrigger}: S3 `Object Created` under `incoming/` → EventBridge → queue → Glue trigger → validation job;
 * - {@link OrchestrationTrigger}: results topic (status=PASSED) → Step Functions trigger → workflow;
 * - {@link Remediation}: failure rules and results topic (status=FAILED) → remediation.
 */
export class LambdaStack extends Stack {
  public readonly incomingObjects: IncomingObjectTrigger;
  public readonly orchestrationTrigger: OrchestrationTrigger;
  public readonly remediationHop: Remediation;
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
  /** Failure rules (MonitoringStack counts their matched events) and their dead-letter queue. */
  public readonly failureRules: FailureRules;
  public readonly eventsDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: LambdaStackProps) {
    super(scope, id, props);
    const { config } = props;
    const functionProps: HopFunctionProps = {
      logRetention: logRetention(config.logRetentionDays),
      dlqKey: props.messagingKey,
      logRemovalPolicy: props.logRemovalPolicy,
    };

    // Shared by the hops: the Glue trigger's claims are read by the Step Functions trigger.
    this.stateTable = new dynamodb.TableV2(this, 'StateTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billing: dynamodb.Billing.onDemand(),
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(props.dataKey),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: statefulRemoval(config),
      deletionProtection: config.envName === 'prod',
    });
    const stateTable = { table: this.stateTable, key: props.dataKey };

    this.incomingObjects = new IncomingObjectTrigger(this, 'IncomingObjectTrigger', {
      ...functionProps,
      dataBucket: props.dataBucket,
      validationJob: props.validationJob,
      glue: config.glue,
      stateTable: this.stateTable,
      stateTableKey: props.dataKey,
      queueKey: props.messagingKey,
    });
    this.orchestrationTrigger = new OrchestrationTrigger(this, 'OrchestrationTrigger', {
      ...functionProps,
      resultsTopic: props.resultsTopic,
      subscriptionDeadLetterQueue: props.subscriptionDeadLetterQueue,
      stateMachine: props.stateMachine,
      executions: this.incomingObjects.batch.executions,
      stateTable,
    });
    // The failure rules live here, beside the function they invoke: this stack already depends on the job, the
    // workflow, the DMS task and the topics they name (DataSyncStack is the one new, upstream dependency), and
    // MonitoringStack, downstream of this stack, only reads the rules and their queue for alarms: no cycle.
    this.remediationHop = new Remediation(this, 'Remediation', {
      ...functionProps,
      resultsTopic: props.resultsTopic,
      subscriptionDeadLetterQueue: props.subscriptionDeadLetterQueue,
      alertsTopic: props.alertsTopic,
      stateTable,
      dataBucket: props.dataBucket,
      validationJob: props.validationJob,
      glueJobMaxRetries: config.glue.maxRetries,
      stateMachine: props.stateMachine,
      stateMachineName: props.stateMachineName,
      replicationTask: props.replicationTask,
      allowReloadTarget: config.dms.allowReloadTarget,
      maxAttempts: config.remediation.maxAttempts,
      dataSyncTask: props.dataSyncTask,
      logGroups: { glue: props.glueLogGroup, stateMachine: props.stateMachineLogGroup, dms: props.dmsLogGroup },
      queueKey: props.messagingKey,
    });

    this.glueTrigger = this.incomingObjects.handler;
    this.sfnTrigger = this.orchestrationTrigger.handler;
    this.remediation = this.remediationHop.handler;
    this.objectEventsQueue = this.incomingObjects.queue;
    this.objectEventsDeadLetterQueue = this.incomingObjects.deadLetterQueue;
    this.queueSizing = this.incomingObjects.queueSizing;
    this.failureRules = this.remediationHop.failureRules;
    this.eventsDeadLetterQueue = this.remediationHop.eventsDeadLetterQueue;
  }
}
