import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { REF } from '../compliance/nag';
import { DATA_PREFIXES } from '../stacks/storage-stack';
import type { ReplicationTaskReference } from './managed-replication-task';
import { retryThrottling as retryThrottlingOn } from './throttling-retry';

/**
 * How long to wait between checks of a running full load, by how long the task has been running.
 * Waiting about as long again as the task has already run keeps a one-hour load within 30 state
 * transitions (30 in the simulation, one of them reading the task ARN, bench/orchestration-transitions.ts) while a five-minute load is
 * noticed about two minutes after it ends. Each row becomes one branch of
 * the `Task Status?` choice and one Wait state.
 */
export const FULL_LOAD_POLL_SCHEDULE: readonly {
  readonly elapsedBelowSeconds: number;
  readonly waitSeconds: number;
}[] = [
  { elapsedBelowSeconds: 60, waitSeconds: 60 },
  { elapsedBelowSeconds: 180, waitSeconds: 120 },
  { elapsedBelowSeconds: 420, waitSeconds: 240 },
  { elapsedBelowSeconds: 900, waitSeconds: 480 },
  { elapsedBelowSeconds: 1860, waitSeconds: 960 },
  { elapsedBelowSeconds: Number.POSITIVE_INFINITY, waitSeconds: 1800 },
];

/** Seconds between checks while DMS moves the task between states (starting, resuming, ...). */
export const TRANSITION_WAIT_SECONDS = 30;
/** Seconds between CDC latency checks once the full load is complete. */
export const CDC_WAIT_SECONDS = 60;

/**
 * The dataset of the post-deploy smoke test (`glue/contracts/smoke.json`, keys `incoming/smoke/**`).
 * Its batches check the replication task instead of driving it: the smoke test must pass on the first
 * deploy of a fresh environment and must never start or change a production DMS task. The workflow
 * reads the dataset from its input, which the Step Functions trigger copies from the validation
 * result: the name of the contract the Glue job matched by key. Real data takes this path only if it
 * is put under `incoming/smoke/` and satisfies the smoke contract. ADR 0008.
 */
export const SMOKE_DATASET = 'smoke';

/** Task statuses a smoke run accepts: the task exists and is not broken. `ready` is a task never started. */
export const SMOKE_ACCEPTED_TASK_STATUSES = ['ready', 'running', 'stopped'] as const;

/** Task statuses DMS passes through on its own; anything else is either handled or a failure. */
const TRANSIENT_STATUSES = ['creating', 'starting', 'resuming', 'modifying', 'stopping', 'testing', 'moving'];

/** Error names of throttling from the SDK integrations (service prefix + error code). */
const THROTTLING_ERRORS = [
  'DatabaseMigration.ThrottlingException',
  'CloudWatch.ThrottlingException',
  'S3.SlowDownException',
  'SNS.ThrottledException',
  'Sns.ThrottledException',
  'States.Timeout',
];

/** IAM prefixes of the SDK integrations whose service name differs. */
const IAM_PREFIXES: Record<string, string> = { databasemigration: 'dms' };

/** What an SDK call of the workflow sets besides the service and action. */
type SdkCallProps = Omit<tasks.CallAwsServiceProps, 'service' | 'action' | 'iamAction'>;

/** Where the workflow records each batch it finished, below the data bucket. */
const BATCH_RECORDS = `${DATA_PREFIXES.reports}batches/`;

export interface ReplicationWorkflowProps {
  /**
   * The full-load-and-CDC task (a `ManagedReplicationTask` or anything shaped like it). The workflow
   * reads the current ARN from its SSM parameter at the start of every execution; the ARN scopes the
   * start permission and the generation goes into the definition, so a replaced task changes it (ADR 0009).
   */
  readonly replicationTask: ReplicationTaskReference;
  /** Identifier of the replication instance, the dimension DMS publishes its task metrics under. */
  readonly replicationInstanceIdentifier: string;
  /** Bucket the batch records go to, under `reports/batches/<dataset>/<correlationId>.json`. */
  readonly dataBucket: s3.IBucket;
  /** Receives `REPLICATED` and `SMOKE_CHECKED` outcomes (attribute `status`), which no subscription treats as PASSED. */
  readonly resultsTopic: sns.ITopic;
  /** Receives `REPLICATION_FAILED` with the error, before the execution fails. */
  readonly alertsTopic: sns.ITopic;
  /** Environment name, shown in the subject of failure alerts. */
  readonly envName: string;
  /** CDC latency (seconds, `CDCLatencyTarget`) under which a batch counts as replicated. */
  readonly cdcLatencyThresholdSeconds: number;
  /** Retention of the execution log group. */
  readonly logRetention: logs.RetentionDays;
  /** Removal of the execution log group. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Longest an execution may run before Step Functions ends it as TIMED_OUT. @default Duration.hours(2) */
  readonly timeout?: Duration;
}

/**
 * The workflow each validated batch runs, between the Step Functions trigger and DMS.
 *
 * In: an execution input `{ correlationId, dataset, bucket, key, versionId, reportKey }` from the
 * trigger. It reads the current task ARN from the task's parameter, then makes sure the task runs
 * (start it the first time, resume it when stopped, leave it when running), waits for the full load
 * to complete and CDC latency to drop under the bound. Out: the batch record under
 * `reports/batches/`, a `REPLICATED` message on the results topic, or `REPLICATION_FAILED` on the
 * alerts topic and a failed execution. `stopped` and `failed` are never success. Batches of
 * {@link SMOKE_DATASET} only observe the task and publish `SMOKE_CHECKED`.
 */
export class ReplicationWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /** Execution history at level ALL with execution data. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ReplicationWorkflowProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(this.definition(props)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.timeout ?? Duration.hours(2),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      // The generation changes this template whenever the task can have been replaced (ADR 0009).
      comment: `Ensure the DMS task runs, wait for full load and CDC catch-up, record and publish the batch (task generation ${props.replicationTask.generation})`,
    });
    props.dataBucket.grantPut(this.stateMachine, `${BATCH_RECORDS}*`);
    // SnsPublish grants sns:Publish only; encrypted topics also need their key, which grantPublish adds.
    props.resultsTopic.grantPublish(this.stateMachine);
    props.alertsTopic.grantPublish(this.stateMachine);

    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'dms:DescribeReplicationTasks, cloudwatch:GetMetricData, X-Ray and the CloudWatch Logs delivery actions of Step Functions support no resource-level permissions.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${REF}/${BATCH_RECORDS}*]`,
        reason: `The workflow writes batch records under ${BATCH_RECORDS} only.`,
      },
      {
        id: 'AwsSolutions-IAM5[Action::s3:Abort*]',
        reason: `grantPut on ${BATCH_RECORDS}* only; multipart abort is part of a put.`,
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: 'Writing the batch record under the bucket key needs GenerateDataKey on the data key only.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
        reason: 'Added by grantPut for SSE-KMS objects, scoped to the data key.',
      },
    );
  }

  /** The states, from reading the task ARN to success or the failure path; returns the first. */
  private definition(props: ReplicationWorkflowProps): sfn.IChainable {
    const { taskArnParameter, taskArn } = props.replicationTask;
    /** The task this execution works on, read from the parameter by the first state. */
    const currentTaskArn = sfn.JsonPath.stringAt('$.replication.taskArn');
    const retryThrottling = <T extends sfn.TaskStateBase>(state: T): T => retryThrottlingOn(state, THROTTLING_ERRORS);

    // ---- failure path -------------------------------------------------------------------------
    const failed = new sfn.Fail(this, 'Replication Failed', {
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    const publishFailure = retryThrottling(
      new tasks.SnsPublish(this, 'Publish Failure', {
        topic: props.alertsTopic,
        subject: `Migration batch failed (${props.envName})`,
        message: sfn.TaskInput.fromObject({
          status: 'REPLICATION_FAILED',
          correlationId: sfn.JsonPath.stringAt('$.correlationId'),
          dataset: sfn.JsonPath.stringAt('$.dataset'),
          execution: sfn.JsonPath.executionId,
          error: sfn.JsonPath.objectAt('$.error'),
        }),
        messageAttributes: {
          status: { value: 'REPLICATION_FAILED' },
          correlationId: { value: sfn.JsonPath.stringAt('$.correlationId') },
        },
        resultPath: sfn.JsonPath.DISCARD,
      }),
    ).next(failed);
    const taskNotHealthy = new sfn.Pass(this, 'Task Not Healthy', {
      parameters: {
        Error: 'DMS.TaskNotHealthy',
        'Cause.$': 'States.JsonToString($.dms.task)',
      },
      resultPath: '$.error',
    }).next(publishFailure);
    const guarded = <T extends sfn.TaskStateBase>(state: T): T => {
      retryThrottling(state).addCatch(publishFailure, { errors: ['States.ALL'], resultPath: '$.error' });
      return state;
    };
    /** An SDK integration, guarded; its IAM action is the call itself (`dms:StartReplicationTask`). */
    const sdkCall = (id: string, service: string, action: string, call: SdkCallProps) =>
      guarded(
        new tasks.CallAwsService(this, id, {
          service,
          action,
          iamAction: `${IAM_PREFIXES[service] ?? service}:${action[0]!.toUpperCase()}${action.slice(1)}`,
          ...call,
        }),
      );

    // ---- DMS task -----------------------------------------------------------------------------
    // The current ARN, not the one this template last saw: a replaced task updates the parameter in
    // the producer's stack at once (ADR 0009).
    const resolveTask = sdkCall('Resolve Replication Task', 'ssm', 'getParameter', {
      iamResources: [taskArnParameter.parameterArn],
      parameters: { Name: taskArnParameter.parameterName },
      resultSelector: { 'taskArn.$': '$.Parameter.Value' },
      resultPath: '$.replication',
    });
    const describe = sdkCall('Describe Replication Task', 'databasemigration', 'describeReplicationTasks', {
      // DescribeReplicationTasks does not support resource-level permissions.
      iamResources: ['*'],
      parameters: {
        Filters: [{ Name: 'replication-task-arn', Values: sfn.JsonPath.array(currentTaskArn) }],
        WithoutSettings: true,
      },
      resultSelector: { 'task.$': '$.ReplicationTasks[0]' },
      resultPath: '$.dms',
    });
    const startTask = (id: string, type: 'start-replication' | 'resume-processing') =>
      sdkCall(id, 'databasemigration', 'startReplicationTask', {
        iamResources: [taskArn],
        parameters: { ReplicationTaskArn: currentTaskArn, StartReplicationTaskType: type },
        resultPath: sfn.JsonPath.DISCARD,
      });
    const waitTransition = new sfn.Wait(this, 'Wait For Task Transition', {
      time: sfn.WaitTime.duration(Duration.seconds(TRANSITION_WAIT_SECONDS)),
    }).next(describe);
    const start = startTask('Start Replication', 'start-replication').next(waitTransition);
    const resume = startTask('Resume Replication', 'resume-processing').next(waitTransition);

    // ---- CDC latency, record, publish ---------------------------------------------------------
    const waitCdc = new sfn.Wait(this, 'Wait For CDC', {
      time: sfn.WaitTime.duration(Duration.seconds(CDC_WAIT_SECONDS)),
    }).next(describe);
    const checkLatency = sdkCall('Check CDC Latency', 'cloudwatch', 'getMetricData', {
      // GetMetricData does not support resource-level permissions.
      iamResources: ['*'],
      parameters: {
        StartTime: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        EndTime: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
        ScanBy: 'TimestampDescending',
        MetricDataQueries: [
          {
            Id: 'cdcLatencyTarget',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/DMS',
                MetricName: 'CDCLatencyTarget',
                Dimensions: [
                  { Name: 'ReplicationInstanceIdentifier', Value: props.replicationInstanceIdentifier },
                  {
                    Name: 'ReplicationTaskIdentifier',
                    // DMS publishes task metrics under the task's resource id, the last ARN field.
                    Value: sfn.JsonPath.arrayGetItem(
                      sfn.JsonPath.stringSplit(sfn.JsonPath.stringAt('$.dms.task.ReplicationTaskArn'), ':'),
                      6,
                    ),
                  },
                ],
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      },
      resultSelector: { 'values.$': '$.MetricDataResults[0].Values' },
      resultPath: '$.cdc',
    });
    const recordBatch = sdkCall('Record Batch', 's3', 'putObject', {
      iamResources: [props.dataBucket.arnForObjects(`${BATCH_RECORDS}*`)],
      parameters: {
        Bucket: props.dataBucket.bucketName,
        Key: sfn.JsonPath.format(
          `${BATCH_RECORDS}{}/{}.json`,
          sfn.JsonPath.stringAt('$.dataset'),
          sfn.JsonPath.stringAt('$.correlationId'),
        ),
        ContentType: 'application/json',
        Body: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$')),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    /** An outcome on the results topic: the batch, its `status` (also an attribute), what the outcome adds. */
    const publishResult = (id: string, status: string, fields: Record<string, unknown>) =>
      guarded(
        new tasks.SnsPublish(this, id, {
          topic: props.resultsTopic,
          message: sfn.TaskInput.fromObject({
            status,
            correlationId: sfn.JsonPath.stringAt('$.correlationId'),
            dataset: sfn.JsonPath.stringAt('$.dataset'),
            key: sfn.JsonPath.stringAt('$.key'),
            ...fields,
            execution: sfn.JsonPath.executionId,
          }),
          // Subscriptions filter on `status`; none treats these as PASSED.
          messageAttributes: {
            status: { value: status },
            dataset: { value: sfn.JsonPath.stringAt('$.dataset') },
            correlationId: { value: sfn.JsonPath.stringAt('$.correlationId') },
          },
          resultPath: sfn.JsonPath.DISCARD,
        }),
      );
    const publishOutcome = publishResult('Publish Outcome', 'REPLICATED', {
      cdcLatencySeconds: sfn.JsonPath.numberAt('$.cdc.values[0]'),
    });
    recordBatch.next(publishOutcome).next(new sfn.Succeed(this, 'Batch Replicated'));
    checkLatency.next(
      new sfn.Choice(this, 'CDC Caught Up?')
        .when(
          sfn.Condition.and(
            sfn.Condition.isPresent('$.cdc.values[0]'),
            sfn.Condition.numberLessThan('$.cdc.values[0]', props.cdcLatencyThresholdSeconds),
          ),
          recordBatch,
        )
        // No datapoint means no metric: a stopped task emits none, so silence is not health.
        .otherwise(waitCdc),
    );

    // ---- smoke batches: observe the task, never start or change it ----------------------------
    const publishSmokeOutcome = publishResult('Publish Smoke Outcome', 'SMOKE_CHECKED', {
      replicationTaskArn: currentTaskArn,
      replicationTaskStatus: sfn.JsonPath.stringAt('$.dms.task.Status'),
    });
    publishSmokeOutcome
      .next(
        new sfn.Pass(this, 'Smoke Check Result', {
          parameters: {
            'correlationId.$': '$.correlationId',
            'dataset.$': '$.dataset',
            'key.$': '$.key',
            smokeCheck: {
              'replicationTaskArn.$': '$.replication.taskArn',
              'replicationTaskStatus.$': '$.dms.task.Status',
              replicationStarted: false,
            },
          },
        }),
      )
      .next(
        new sfn.Succeed(this, 'Smoke Check Passed', {
          comment: 'The smoke batch went through validation and the workflow; the task was observed, not touched',
        }),
      );

    // ---- the decision -------------------------------------------------------------------------
    const status = (s: string) => sfn.Condition.stringEquals('$.dms.task.Status', s);
    const transient = sfn.Condition.or(...TRANSIENT_STATUSES.map(status));
    const choice = new sfn.Choice(this, 'Task Status?');
    // Checked first, in the same Choice, so a real batch pays no extra state transition per look.
    const isSmoke = sfn.Condition.stringEquals('$.dataset', SMOKE_DATASET);
    choice.when(
      sfn.Condition.and(isSmoke, sfn.Condition.or(...SMOKE_ACCEPTED_TASK_STATUSES.map(status))),
      publishSmokeOutcome,
    );
    // Someone is starting or stopping it: look again after the usual pause, never act.
    choice.when(sfn.Condition.and(isSmoke, transient), waitTransition);
    choice.when(isSmoke, taskNotHealthy);
    const stats = '$.dms.task.ReplicationTaskStats';
    choice.when(
      sfn.Condition.and(
        status('running'),
        sfn.Condition.isPresent(`${stats}.FullLoadProgressPercent`),
        sfn.Condition.numberEquals(`${stats}.FullLoadProgressPercent`, 100),
      ),
      checkLatency,
    );
    for (const { elapsedBelowSeconds, waitSeconds } of FULL_LOAD_POLL_SCHEDULE) {
      const wait = new sfn.Wait(this, `Wait ${waitSeconds}s For Full Load`, {
        time: sfn.WaitTime.duration(Duration.seconds(waitSeconds)),
      }).next(describe);
      choice.when(
        Number.isFinite(elapsedBelowSeconds)
          ? sfn.Condition.and(
              status('running'),
              sfn.Condition.isPresent(`${stats}.ElapsedTimeMillis`),
              sfn.Condition.numberLessThan(`${stats}.ElapsedTimeMillis`, elapsedBelowSeconds * 1000),
            )
          : status('running'),
        wait,
      );
    }
    choice
      .when(status('ready'), start)
      .when(status('stopped'), resume)
      .when(transient, waitTransition)
      // failed, deleting, or a status DMS adds later: not something to wait out.
      .otherwise(taskNotHealthy);
    describe.next(choice);
    return resolveTask.next(describe);
  }
}
