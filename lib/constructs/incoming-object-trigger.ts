import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { GlueTriggerEnvironment } from '../../lambda/glue-trigger/config';
import {
  GLUE_TRIGGER_TIMEOUT_SECONDS,
  jobRunQueuingFor,
  type QueueSizing,
  queueSizing,
  resolveValidationBatch,
} from '../config/burst-sizing';
import type { GlueConfig, ValidationBatchConfig } from '../config/environment-config';
import { DATA_PREFIXES } from '../stacks/storage-stack';
import { DeadLetterQueue } from './dead-letter-queue';
import { handlerEnvironment, type HopFunctionProps, MigrationFunction } from './migration-function';

export interface IncomingObjectTriggerProps extends HopFunctionProps {
  /** The bucket whose objects under `incomingPrefix` are validated; it must send its events to EventBridge. */
  readonly dataBucket: s3.IBucket;
  /** Objects created under this prefix start a validation. @default DATA_PREFIXES.incoming ('incoming/') */
  readonly incomingPrefix?: string;
  /** The validation job the trigger starts, one run per batch of objects. */
  readonly validationJob: glue.IJob;
  /** The job's concurrency and batching; the queue is sized from them (docs/bursts.md). */
  readonly glue: Pick<GlueConfig, 'batch' | 'maxConcurrentRuns' | 'maxRetries'>;
  /** Where the trigger claims each batch run (idempotency records). */
  readonly stateTable: dynamodb.ITableV2;
  /** Key of the state table; the trigger encrypts and decrypts its claims with it. */
  readonly stateTableKey: kms.IKey;
  /** Encrypts the object events queue and its dead-letter queue. */
  readonly queueKey: kms.IKey;
}

/**
 * First hop of the data path: S3 `Object Created` under `incoming/` → EventBridge rule → queue → Glue trigger
 * function → one validation job run per batch. The queue, its redrive bound and the function's waits are sized
 * from the time the job's configured concurrency needs to drain a design burst (lib/config/burst-sizing.ts).
 * Events EventBridge cannot deliver, and records retrying cannot fix, end in the dead-letter queue.
 */
export class IncomingObjectTrigger extends Construct {
  /** The Glue trigger function. */
  public readonly handler: MigrationFunction;
  /** EventBridge delivers object events here; the Glue trigger drains it. */
  public readonly queue: sqs.Queue;
  /** Object events EventBridge could not deliver, and records the trigger parked with a reason. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The rule that sends object events to the queue. */
  public readonly rule: events.Rule;
  /** How the queue is sized, and the drain time its age alarm is measured against. */
  public readonly queueSizing: QueueSizing;
  /** The batching the event source and the function use (config with defaults applied). */
  public readonly batch: Required<ValidationBatchConfig>;

  constructor(scope: Construct, id: string, props: IncomingObjectTriggerProps) {
    super(scope, id);
    const incomingPrefix = props.incomingPrefix ?? DATA_PREFIXES.incoming;
    const batch = resolveValidationBatch(props.glue);
    const sizing = queueSizing(props.glue, GLUE_TRIGGER_TIMEOUT_SECONDS);
    this.batch = batch;
    this.queueSizing = sizing;

    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetterQueue', {
      key: props.queueKey,
      deadLetterOf: 'the object events queue and its rule target',
      removalPolicy: props.logRemovalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.queueKey,
      // SQS keeps messages for at most 14 days.
      retentionPeriod: Duration.seconds(Math.min(sizing.retentionSeconds, 14 * 24 * 3600)),
      visibilityTimeout: Duration.seconds(sizing.visibilityTimeoutSeconds),
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: sizing.maxReceiveCount },
      // Objects waiting for validation; kept with the rest of the environment's state.
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.rule = new events.Rule(this, 'Rule', {
      description: `Every object created under ${incomingPrefix} starts a validation`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.dataBucket.bucketName] },
          object: { key: [{ prefix: incomingPrefix }] },
        },
      },
      targets: [
        new targets.SqsQueue(this.queue, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
          // An event EventBridge cannot deliver to the queue is kept, not dropped.
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });

    this.handler = new MigrationFunction(this, 'Handler', {
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      dlqKey: props.dlqKey,
      handlerName: 'glue-trigger',
      description: `Starts one validation job run per batch of objects created under ${incomingPrefix}`,
      timeout: Duration.seconds(GLUE_TRIGGER_TIMEOUT_SECONDS),
      environment: handlerEnvironment<GlueTriggerEnvironment>({
        GLUE_JOB_NAME: props.validationJob.jobName,
        STATE_TABLE_NAME: props.stateTable.tableName,
        QUEUE_URL: this.queue.queueUrl,
        DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
        INCOMING_PREFIX: incomingPrefix,
        DATA_BUCKET_NAME: props.dataBucket.bucketName,
        BATCH_MAX_OBJECTS: String(batch.maxObjects),
        BATCH_MAX_BYTES: String(batch.maxBytes),
        MAX_CONCURRENT_RUNS: String(props.glue.maxConcurrentRuns),
        // Glue holds runs itself when it queues them; counting running runs first is then pointless.
        PROBE_CAPACITY: String(!jobRunQueuingFor(props.glue)),
        WAIT_MIN_SECONDS: String(sizing.waitSeconds.min),
        WAIT_MAX_SECONDS: String(sizing.waitSeconds.max),
        MAX_RECEIVE_COUNT: String(sizing.maxReceiveCount),
      }),
    });
    this.handler.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: batch.maxObjects,
        maxBatchingWindow: Duration.seconds(batch.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        // Few pollers: a burst waits in the queue (where it costs nothing) rather than in handed-back receives.
        maxConcurrency: batch.maxTriggerConcurrency,
      }),
    );
    this.handler.addToRolePolicy(
      // GetJobRuns finds a run started by an invocation that died before recording it.
      new iam.PolicyStatement({
        actions: ['glue:StartJobRun', 'glue:GetJobRuns'],
        resources: [props.validationJob.jobArn],
      }),
    );
    this.queue.grant(this.handler, 'sqs:ChangeMessageVisibility');
    this.deadLetterQueue.grantSendMessages(this.handler);
    props.stateTable.grant(
      this.handler,
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:GetItem',
      'dynamodb:DeleteItem',
    );
    // TableV2.grant covers table actions only; the table is encrypted with its own key.
    props.stateTableKey.grantEncryptDecrypt(this.handler);

    Validations.of(this.handler.role!).acknowledge(
      ...['Action::kms:ReEncrypt*', 'Action::kms:GenerateDataKey*'].map((finding) => ({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: 'Added by the queue and state-table key grants; scoped to those keys.',
      })),
    );
  }
}
