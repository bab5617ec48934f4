import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { retryThrottling as retryThrottlingOn } from '../constructs/throttling-retry';
import { Construct } from 'constructs';
import { acknowledgeGrantActionGroups, REF } from '../compliance/nag';
import type { ReplicationTaskReference } from '../constructs/managed-replication-task';
import { logRetention, MigrationStackProps } from './migration-stack-props';
import { DATA_PREFIXES } from './storage-stack';

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

export interface OrchestrationStackProps extends MigrationStackProps {
  /**
   * The full-load-and-CDC task (DmsStack). The workflow reads the current ARN from its SSM parameter
   * at the start of every execution; the ARN and generation keep the IAM grant in step.
   */
  readonly replicationTask: ReplicationTaskReference;
  /** Identifier of the replication instance, the dimension DMS publishes its metrics under. */
  readonly replicationInstanceIdentifier: string;
  readonly dataBucket: s3.IBucket;
  /** Receives `REPLICATED` outcomes (attribute `status`), which no subscription treats as PASSED. */
  readonly resultsTopic: sns.ITopic;
  readonly alertsTopic: sns.ITopic;
  /** Key of the topics, for the publish permission. */
  readonly messagingKey?: kms.IKey;
  /** Log group removal. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Account whose pipeline runs the post-deploy smoke test. When set, a role named
   * `migration-smoke-<env>` is created here for it to assume, so the test acts inside this account
   * with exactly the smoke-test permissions. @default no role
   */
  readonly smokeTestTrustedAccount?: string;
}

/** Name of the role the pipeline's smoke test assumes in a target account. */
export const smokeTestRoleName = (envName: string) => `migration-smoke-${envName}`;

/** Prefixes the smoke test writes to, reads and cleans up. */
const SMOKE_PREFIXES = [
  DATA_PREFIXES.incoming,
  DATA_PREFIXES.validated,
  DATA_PREFIXES.quarantine,
  DATA_PREFIXES.reports,
].map((p) => `${p}smoke/*`);

/**
 * The workflow each validated batch runs: make sure the DMS task is running (start it the first
 * time, resume it when stopped, leave it when running), wait for the full load to complete and CDC
 * latency to drop under the configured bound, record the batch under `reports/batches/`, publish
 * the outcome. `stopped` and `failed` are never success; any error publishes an alert and fails.
 */
export class OrchestrationStack extends Stack {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  public readonly stateMachineArnOutput: CfnOutput;
  public readonly smokeTestRole?: iam.Role;
  public readonly smokeTestRoleArnOutput?: CfnOutput;

  constructor(scope: Construct, id: string, props: OrchestrationStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { taskArnParameter, generation } = props.replicationTask;
    const taskArn = props.replicationTask.taskArn;
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
        subject: `Migration batch failed (${config.envName})`,
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
    const catchAll = (state: sfn.TaskStateBase) =>
      state.addCatch(publishFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    // ---- DMS task -----------------------------------------------------------------------------
    // The current ARN, not the one this stack last saw: a replaced task updates the parameter in the
    // DMS stack at once (ADR 0009).
    const resolveTask = catchAll(
      retryThrottling(
        new tasks.CallAwsService(this, 'Resolve Replication Task', {
          service: 'ssm',
          action: 'getParameter',
          iamAction: 'ssm:GetParameter',
          iamResources: [taskArnParameter.parameterArn],
          parameters: { Name: taskArnParameter.parameterName },
          resultSelector: { 'taskArn.$': '$.Parameter.Value' },
          resultPath: '$.replication',
        }),
      ),
    );
    const describe = retryThrottling(
      new tasks.CallAwsService(this, 'Describe Replication Task', {
        service: 'databasemigration',
        action: 'describeReplicationTasks',
        iamAction: 'dms:DescribeReplicationTasks',
        // DescribeReplicationTasks does not support resource-level permissions.
        iamResources: ['*'],
        parameters: {
          Filters: [{ Name: 'replication-task-arn', Values: sfn.JsonPath.array(currentTaskArn) }],
          WithoutSettings: true,
        },
        resultSelector: { 'task.$': '$.ReplicationTasks[0]' },
        resultPath: '$.dms',
      }),
    );
    catchAll(describe);

    const startTask = (id: string, type: 'start-replication' | 'resume-processing') =>
      catchAll(
        retryThrottling(
          new tasks.CallAwsService(this, id, {
            service: 'databasemigration',
            action: 'startReplicationTask',
            iamAction: 'dms:StartReplicationTask',
            iamResources: [taskArn],
            parameters: { ReplicationTaskArn: currentTaskArn, StartReplicationTaskType: type },
            resultPath: sfn.JsonPath.DISCARD,
          }),
        ),
      );
    const waitTransition = new sfn.Wait(this, 'Wait For Task Transition', {
      time: sfn.WaitTime.duration(Duration.seconds(TRANSITION_WAIT_SECONDS)),
    }).next(describe);
    const start = startTask('Start Replication', 'start-replication').next(waitTransition);
    const resume = startTask('Resume Replication', 'resume-processing').next(waitTransition);

    // ---- CDC latency --------------------------------------------------------------------------
    const waitCdc = new sfn.Wait(this, 'Wait For CDC', {
      time: sfn.WaitTime.duration(Duration.seconds(CDC_WAIT_SECONDS)),
    }).next(describe);
    const checkLatency = catchAll(
      retryThrottling(
        new tasks.CallAwsService(this, 'Check CDC Latency', {
          service: 'cloudwatch',
          action: 'getMetricData',
          iamAction: 'cloudwatch:GetMetricData',
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
        }),
      ),
    );

    const recordBatch = catchAll(
      retryThrottling(
        new tasks.CallAwsService(this, 'Record Batch', {
          service: 's3',
          action: 'putObject',
          iamAction: 's3:PutObject',
          iamResources: [props.dataBucket.arnForObjects(`${DATA_PREFIXES.reports}batches/*`)],
          parameters: {
            Bucket: props.dataBucket.bucketName,
            Key: sfn.JsonPath.format(
              `${DATA_PREFIXES.reports}batches/{}/{}.json`,
              sfn.JsonPath.stringAt('$.dataset'),
              sfn.JsonPath.stringAt('$.correlationId'),
            ),
            ContentType: 'application/json',
            Body: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$')),
          },
          resultPath: sfn.JsonPath.DISCARD,
        }),
      ),
    );

    const publishOutcome = catchAll(
      retryThrottling(
        new tasks.SnsPublish(this, 'Publish Outcome', {
          topic: props.resultsTopic,
          message: sfn.TaskInput.fromObject({
            status: 'REPLICATED',
            correlationId: sfn.JsonPath.stringAt('$.correlationId'),
            dataset: sfn.JsonPath.stringAt('$.dataset'),
            key: sfn.JsonPath.stringAt('$.key'),
            cdcLatencySeconds: sfn.JsonPath.numberAt('$.cdc.values[0]'),
            execution: sfn.JsonPath.executionId,
          }),
          messageAttributes: {
            status: { value: 'REPLICATED' },
            dataset: { value: sfn.JsonPath.stringAt('$.dataset') },
            correlationId: { value: sfn.JsonPath.stringAt('$.correlationId') },
          },
          resultPath: sfn.JsonPath.DISCARD,
        }),
      ),
    );
    const succeeded = new sfn.Succeed(this, 'Batch Replicated');
    recordBatch.next(publishOutcome).next(succeeded);

    checkLatency.next(
      new sfn.Choice(this, 'CDC Caught Up?')
        .when(
          sfn.Condition.and(
            sfn.Condition.isPresent('$.cdc.values[0]'),
            sfn.Condition.numberLessThan('$.cdc.values[0]', config.dms.cdcLatencyThresholdSeconds),
          ),
          recordBatch,
        )
        // No datapoint means no metric: a stopped task emits none, so silence is not health.
        .otherwise(waitCdc),
    );

    // ---- smoke batches: observe the task, never start or change it --------------------------------
    const smokeSucceeded = new sfn.Succeed(this, 'Smoke Check Passed', {
      comment: 'The smoke batch went through validation and the workflow; the task was observed, not touched',
    });
    const publishSmokeOutcome = catchAll(
      retryThrottling(
        new tasks.SnsPublish(this, 'Publish Smoke Outcome', {
          topic: props.resultsTopic,
          message: sfn.TaskInput.fromObject({
            status: 'SMOKE_CHECKED',
            correlationId: sfn.JsonPath.stringAt('$.correlationId'),
            dataset: sfn.JsonPath.stringAt('$.dataset'),
            key: sfn.JsonPath.stringAt('$.key'),
            replicationTaskArn: currentTaskArn,
            replicationTaskStatus: sfn.JsonPath.stringAt('$.dms.task.Status'),
            execution: sfn.JsonPath.executionId,
          }),
          messageAttributes: {
            status: { value: 'SMOKE_CHECKED' },
            dataset: { value: sfn.JsonPath.stringAt('$.dataset') },
            correlationId: { value: sfn.JsonPath.stringAt('$.correlationId') },
          },
          resultPath: sfn.JsonPath.DISCARD,
        }),
      ),
    );
    const smokeOutput = new sfn.Pass(this, 'Smoke Check Result', {
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
    });
    publishSmokeOutcome.next(smokeOutput).next(smokeSucceeded);

    // ---- the decision -------------------------------------------------------------------------
    const status = (s: string) => sfn.Condition.stringEquals('$.dms.task.Status', s);
    const choice = new sfn.Choice(this, 'Task Status?');
    // Checked first, in the same Choice, so a real batch pays no extra state transition per look.
    const isSmoke = sfn.Condition.stringEquals('$.dataset', SMOKE_DATASET);
    choice.when(
      sfn.Condition.and(isSmoke, sfn.Condition.or(...SMOKE_ACCEPTED_TASK_STATUSES.map(status))),
      publishSmokeOutcome,
    );
    // Someone is starting or stopping it: look again after the usual pause, never act.
    choice.when(sfn.Condition.and(isSmoke, sfn.Condition.or(...TRANSIENT_STATUSES.map(status))), waitTransition);
    choice.when(isSmoke, taskNotHealthy);
    choice.when(
      sfn.Condition.and(
        status('running'),
        sfn.Condition.isPresent('$.dms.task.ReplicationTaskStats.FullLoadProgressPercent'),
        sfn.Condition.numberEquals('$.dms.task.ReplicationTaskStats.FullLoadProgressPercent', 100),
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
              sfn.Condition.isPresent('$.dms.task.ReplicationTaskStats.ElapsedTimeMillis'),
              sfn.Condition.numberLessThan(
                '$.dms.task.ReplicationTaskStats.ElapsedTimeMillis',
                elapsedBelowSeconds * 1000,
              ),
            )
          : status('running'),
        wait,
      );
    }
    choice
      .when(status('ready'), start)
      .when(status('stopped'), resume)
      .when(sfn.Condition.or(...TRANSIENT_STATUSES.map(status)), waitTransition)
      // failed, deleting, or a status DMS adds later: not something to wait out.
      .otherwise(taskNotHealthy);
    resolveTask.next(describe);
    describe.next(choice);

    this.logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: logRetention(config.logRetentionDays),
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'ReplicationWorkflow', {
      definitionBody: sfn.DefinitionBody.fromChainable(resolveTask),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.hours(2),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      // The generation changes this template whenever the task can have been replaced (ADR 0009).
      comment: `Ensure the DMS task runs, wait for full load and CDC catch-up, record and publish the batch (task generation ${generation})`,
    });
    props.dataBucket.grantPut(this.stateMachine, `${DATA_PREFIXES.reports}batches/*`);
    // SnsPublish grants sns:Publish only; the topics are KMS-encrypted, so publishing also needs the key.
    props.resultsTopic.grantPublish(this.stateMachine);
    props.alertsTopic.grantPublish(this.stateMachine);

    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'dms:DescribeReplicationTasks, cloudwatch:GetMetricData, X-Ray and the CloudWatch Logs delivery actions of Step Functions support no resource-level permissions.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${REF}/reports/batches/*]`,
        reason: 'The workflow writes batch records under reports/batches/ only.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::s3:Abort*]',
        reason: 'grantPut on reports/batches/* only; multipart abort is part of a put.',
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

    this.stateMachineArnOutput = new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });

    if (props.smokeTestTrustedAccount) {
      const role = new iam.Role(this, 'SmokeTestRole', {
        roleName: smokeTestRoleName(config.envName),
        assumedBy: new iam.AccountPrincipal(props.smokeTestTrustedAccount),
        description: 'Assumed by the pipeline smoke test: drops files under */smoke/ and watches the workflow',
        maxSessionDuration: Duration.hours(1),
      });
      props.dataBucket.grantPut(role, `${DATA_PREFIXES.incoming}smoke/*`);
      for (const prefix of SMOKE_PREFIXES) {
        props.dataBucket.grantRead(role, prefix);
        props.dataBucket.grantDelete(role, prefix);
      }
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket', 's3:ListBucketVersions'],
          resources: [props.dataBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': SMOKE_PREFIXES.map((p) => p.replace('*', '')) } },
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:DeleteObjectVersion'],
          resources: SMOKE_PREFIXES.map((p) => props.dataBucket.arnForObjects(p)),
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({ actions: ['states:ListExecutions'], resources: [this.stateMachine.stateMachineArn] }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution'],
          resources: [
            this.formatArn({
              service: 'states',
              resource: 'execution',
              resourceName: `${this.stateMachine.stateMachineName}:*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
      acknowledgeGrantActionGroups(
        role,
        'the smoke/ sub-prefixes the smoke test writes and cleans up, and the data key',
      );
      Validations.of(role).acknowledge(
        ...SMOKE_PREFIXES.map((prefix) => ({
          id: `AwsSolutions-IAM5[Resource::${REF}/${prefix}]`,
          reason: `Smoke-test objects under ${prefix} only.`,
        })),
        {
          id: `AwsSolutions-IAM5[Resource::arn:aws:states:${REF}:execution:${REF}:*]`,
          reason: 'Executions of this one state machine, whose names are not known before they run.',
        },
      );
      this.smokeTestRole = role;
      this.smokeTestRoleArnOutput = new CfnOutput(this, 'SmokeTestRoleArn', { value: role.roleArn });
    }
  }
}
