/**
 * Executes the replication workflow, as synthesized, against a fake DMS task in virtual time.
 *
 * The workflow's Wait states are zeroed when it runs locally; the simulator keeps its own clock
 * instead. After each answer it gives, it works out from the construct's exported polling policy
 * (FULL_LOAD_POLL_SCHEDULE, TRANSITION_WAIT_SECONDS, CDC_WAIT_SECONDS) which Wait state the workflow
 * should enter next, and advances its clock by that wait before the next DescribeReplicationTasks.
 * `expectedWaits` is that prediction; a caller compares it with the Wait states the run actually
 * entered, so a definition that disagrees with the schedule cannot pass unnoticed.
 *
 * Shared by test/stacks/orchestration-workflow.test.ts, test/smoke/smoke-e2e.test.ts and
 * bench/orchestration-transitions.ts.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { EnvironmentConfig } from '../../lib/config/environment-config';
import { loadEnvironmentConfig } from '../../lib/config/load';
import {
  CDC_WAIT_SECONDS,
  FULL_LOAD_POLL_SCHEDULE,
  ReplicationWorkflow,
  type ReplicationWorkflowProps,
  SMOKE_ACCEPTED_TASK_STATUSES,
  SMOKE_DATASET,
  TRANSITION_WAIT_SECONDS,
} from '../../lib/constructs/replication-workflow';
import { logRetention } from '../../lib/stacks/migration-stack-props';
import {
  definitionFromTemplate,
  runDefinition,
  stateNamesOfType,
  taskError,
  type AslDefinition,
  type Json,
  type RunResult,
  type TaskHandler,
} from './asl';

// ---------------------------------------------------------------------------------------------
// The workflow in a bare stack, its inputs imported: what the stage passes in, without the stage

export const ACCOUNT = '123456789012';
export const REGION = 'us-west-2';
export const TASK_ARN = `arn:aws:dms:${REGION}:${ACCOUNT}:task:ABCDEFGHIJKLMNOP`;
export const TASK_ARN_PARAMETER = '/migration/dev/replication-task-arn';
export const REPLICATION_INSTANCE = 'test-dms-replication';
export const DATA_BUCKET = 'migration-data-dev-test';
export const RESULTS_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:migration-results-dev`;
export const ALERTS_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:migration-alerts-dev`;
export const DATA_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
export const MESSAGING_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/66666666-7777-8888-9999-000000000000`;

export interface SynthesizedWorkflow {
  readonly definition: AslDefinition;
  readonly template: Template;
  readonly stack: Stack;
  readonly workflow: ReplicationWorkflow;
  readonly config: EnvironmentConfig;
  /** Physical values the definition refers to: the imported inputs. */
  readonly bucketName: string;
  readonly resultsTopicArn: string;
  readonly alertsTopicArn: string;
  readonly taskArn: string;
  /** Name of the SSM parameter the workflow reads the current task ARN from. */
  readonly taskArnParameterName: string;
  readonly replicationInstanceIdentifier: string;
}

export interface SynthesizeOptions {
  /** The data bucket's name, e.g. the one an s3rver test serves. @default DATA_BUCKET */
  readonly bucketName?: string;
  /** Generation of the replication task the workflow is synthesized against. @default 'gen-1' */
  readonly taskGeneration?: string;
  /** Import the bucket and both topics with a KMS key each ({@link DATA_KEY_ARN}, {@link MESSAGING_KEY_ARN}). @default false */
  readonly encrypted?: boolean;
  /** Optional props to set (the imported inputs stay). @default none */
  readonly props?: Pick<ReplicationWorkflowProps, 'logRemovalPolicy' | 'timeout'>;
}

/**
 * The ReplicationWorkflow in a bare stack with the dev config, the bucket, topics and task parameter
 * imported by name and ARN: the definition holds them as literals, so only the partition is left to
 * resolve.
 */
export function synthesizeReplicationWorkflow(opts: SynthesizeOptions = {}): SynthesizedWorkflow {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Orchestration', { env: { account: ACCOUNT, region: REGION } });
  const bucketName = opts.bucketName ?? DATA_BUCKET;
  const config = loadEnvironmentConfig('dev');
  const topic = (id: string, topicArn: string) =>
    sns.Topic.fromTopicAttributes(stack, id, { topicArn, ...(opts.encrypted ? { keyArn: MESSAGING_KEY_ARN } : {}) });
  const workflow = new ReplicationWorkflow(stack, 'ReplicationWorkflow', {
    replicationTask: {
      taskArn: TASK_ARN,
      taskArnParameter: ssm.StringParameter.fromStringParameterName(stack, 'TaskArnParameter', TASK_ARN_PARAMETER),
      generation: opts.taskGeneration ?? 'gen-1',
    },
    replicationInstanceIdentifier: REPLICATION_INSTANCE,
    dataBucket: opts.encrypted
      ? s3.Bucket.fromBucketAttributes(stack, 'DataBucket', {
          bucketName,
          encryptionKey: kms.Key.fromKeyArn(stack, 'DataKey', DATA_KEY_ARN),
        })
      : s3.Bucket.fromBucketName(stack, 'DataBucket', bucketName),
    resultsTopic: topic('ResultsTopic', RESULTS_TOPIC_ARN),
    alertsTopic: topic('AlertsTopic', ALERTS_TOPIC_ARN),
    envName: config.envName,
    cdcLatencyThresholdSeconds: config.dms.cdcLatencyThresholdSeconds,
    logRetention: logRetention(config.logRetentionDays),
    ...opts.props,
  });
  const template = Template.fromStack(stack);
  const logicalId = stack.getLogicalId(workflow.stateMachine.node.defaultChild as CfnElement);
  return {
    definition: definitionFromTemplate(template.toJSON(), logicalId, { region: REGION, account: ACCOUNT }),
    template,
    stack,
    workflow,
    config,
    bucketName,
    resultsTopicArn: RESULTS_TOPIC_ARN,
    alertsTopicArn: ALERTS_TOPIC_ARN,
    taskArn: TASK_ARN,
    taskArnParameterName: TASK_ARN_PARAMETER,
    replicationInstanceIdentifier: REPLICATION_INSTANCE,
  };
}

/** The input the Step Functions trigger starts an execution with. */
export interface BatchInput {
  [key: string]: Json;
  correlationId: string;
  dataset: string;
  bucket: string;
  key: string;
  versionId: string | null;
  reportKey: string;
}

export function batchInput(correlationId = '0123456789abcdef0123456789abcdef', dataset = 'sales'): BatchInput {
  return {
    correlationId,
    dataset,
    bucket: 'migration-data-dev',
    key: `validated/${dataset}/2026-11-22/orders.csv`,
    versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
    reportKey: `reports/${dataset}/2026-11-22/orders.csv.json`,
  };
}

// ---------------------------------------------------------------------------------------------
// The polling policy, as the construct documents it

/** Statuses DMS moves through on its own that this simulator produces. */
const TRANSIENT = new Set(['creating', 'starting', 'resuming', 'stopping', 'modifying']);

export interface ExpectedWait {
  readonly state: string;
  readonly seconds: number;
}

/** Name of the Wait state the construct creates for a FULL_LOAD_POLL_SCHEDULE row. */
export const fullLoadWaitState = (waitSeconds: number): string => `Wait ${waitSeconds}s For Full Load`;
export const TRANSITION_WAIT_STATE = 'Wait For Task Transition';
export const CDC_WAIT_STATE = 'Wait For CDC';

/**
 * The wait that should follow a DescribeReplicationTasks answer, or none when the workflow moves on.
 * A smoke batch only observes: an accepted status ends the look, a transient one is looked at again.
 */
export function waitAfterDescribe(task: ReplicationTask, smoke = false): ExpectedWait | undefined {
  if (smoke) {
    if ((SMOKE_ACCEPTED_TASK_STATUSES as readonly string[]).includes(task.Status)) return undefined;
    return TRANSIENT.has(task.Status) ? { state: TRANSITION_WAIT_STATE, seconds: TRANSITION_WAIT_SECONDS } : undefined;
  }
  if (task.Status === 'running') {
    const stats = task.ReplicationTaskStats;
    if (stats?.FullLoadProgressPercent === 100) return undefined; // the CDC check decides
    const elapsedMs = stats?.ElapsedTimeMillis;
    // Without an elapsed time only the schedule's last (catch-all) row applies.
    const row =
      elapsedMs === undefined
        ? FULL_LOAD_POLL_SCHEDULE[FULL_LOAD_POLL_SCHEDULE.length - 1]
        : FULL_LOAD_POLL_SCHEDULE.find((r) => elapsedMs < r.elapsedBelowSeconds * 1000);
    if (!row) throw new Error('FULL_LOAD_POLL_SCHEDULE has no catch-all row');
    return { state: fullLoadWaitState(row.waitSeconds), seconds: row.waitSeconds };
  }
  if (task.Status === 'ready' || task.Status === 'stopped' || TRANSIENT.has(task.Status)) {
    return { state: TRANSITION_WAIT_STATE, seconds: TRANSITION_WAIT_SECONDS };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The fake DMS task

export type TaskStatus =
  | 'creating'
  | 'ready'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'resuming'
  | 'modifying'
  | 'failed'
  | 'deleting';

/** The fields of the SDK's `ReplicationTask` the simulator fills in. */
export interface ReplicationTask {
  ReplicationTaskIdentifier: string;
  ReplicationTaskArn: string;
  MigrationType: 'full-load-and-cdc';
  Status: TaskStatus;
  StopReason?: string;
  LastFailureMessage?: string;
  ReplicationTaskStats?: {
    FullLoadProgressPercent: number;
    ElapsedTimeMillis: number;
    TablesLoaded: number;
    TablesLoading: number;
    TablesQueued: number;
    TablesErrored: number;
  };
}

export interface DmsScenario {
  /** Status of the task when the execution starts. */
  readonly initialStatus: TaskStatus;
  /** Seconds of running the full load takes. @default 3600 */
  readonly fullLoadSeconds?: number;
  /**
   * Seconds the task has already run when the execution starts; at least `fullLoadSeconds` means
   * the full load is complete and the task is in CDC. @default 0
   */
  readonly ranSeconds?: number;
  /** Seconds DMS spends `starting` or `resuming` before `running`. @default 20 */
  readonly startupSeconds?: number;
  /** The task stops by itself once it has run this many seconds (a stop by someone else, mid-load or in CDC). */
  readonly stopAfterRunningSeconds?: number;
  /** StopReason of a stopped or failed task. @default 'Stop Reason NORMAL' (FATAL_ERROR when failed) */
  readonly stopReason?: string;
  readonly lastFailureMessage?: string;
  /**
   * CDCLatencyTarget datapoints, one per GetMetricData call, the last repeating; `null` answers
   * with no datapoint (what CloudWatch returns for a task that publishes no metrics). @default [5]
   */
  readonly cdcLatencies?: readonly (number | null)[];
  /**
   * DMS refuses resume-processing with this message, as it does when the task's checkpoint is gone
   * (e.g. after a Blue/Green switch of the source).
   */
  readonly refuseResume?: string;
  /**
   * The task's ARN now, as its SSM parameter holds it; differs from the synthesized one after the
   * DMS stack replaced the task. @default the workflow's taskArn
   */
  readonly currentTaskArn?: string;
  /** Errors the first DescribeReplicationTasks calls throw, in order, before answering normally. */
  readonly describeErrors?: readonly Error[];
  /**
   * Virtual seconds after which the execution would have timed out; the next DMS call then fails
   * with `Simulator.ExecutionTimedOut`. @default the definition's TimeoutSeconds
   */
  readonly timeoutSeconds?: number;
}

export interface TaskCall {
  /** Virtual seconds since the execution started. */
  readonly at: number;
  readonly state: string;
  readonly input: Json;
}

export interface DescribeAnswer {
  readonly at: number;
  readonly task: ReplicationTask;
}

export interface StartCall {
  readonly at: number;
  readonly state: string;
  readonly type: string;
  /** Task status when the call arrived. */
  readonly from: TaskStatus;
}

export interface Publication {
  readonly at: number;
  readonly state: string;
  readonly TopicArn: string;
  readonly Message: Json;
  readonly Subject?: string;
  readonly MessageAttributes?: Json;
}

export interface PutObject {
  readonly at: number;
  readonly Bucket: string;
  readonly Key: string;
  readonly Body: string;
  readonly ContentType?: string;
  /** Status of the fake task when the batch was recorded. */
  readonly taskStatus: TaskStatus;
}

/** A response as it crosses the wire: JSON, without the fields that are undefined. */
const wire = (value: object): Json => JSON.parse(JSON.stringify(value)) as Json;

const TABLES = 20;
/** Guard against a definition that loops without waiting: no real execution gets this far. */
const MAX_CALLS = 5000;

/** Answers the workflow's Task states as DMS, CloudWatch, S3 and SNS would, in virtual time. */
export class DmsSimulator {
  /** Virtual seconds since the execution started. */
  now = 0;
  status: TaskStatus;
  /** Seconds of running so far (DMS's ElapsedTimeMillis / 1000). */
  ran: number;
  readonly fullLoadSeconds: number;
  /** When the full load reached 100 % during the run; undefined if it finished before or never. */
  fullLoadFinishedAt?: number;
  /** First time a DescribeReplicationTasks answer showed the full load complete after it finished during the run. */
  fullLoadNoticedAt?: number;
  timedOutAt?: number;

  /** The task's ARN, as DMS and the parameter know it. */
  readonly taskArn: string;
  readonly calls: TaskCall[] = [];
  /** Parameter names the workflow read. */
  readonly parameterReads: string[] = [];
  readonly describes: DescribeAnswer[] = [];
  readonly starts: StartCall[] = [];
  readonly metricQueries: Json[] = [];
  readonly publications: Publication[] = [];
  readonly puts: PutObject[] = [];
  /** Wait states the workflow should have entered, in order, by the stack's polling policy. */
  readonly expectedWaits: ExpectedWait[] = [];

  private pendingWait?: ExpectedWait;
  private transitionLeft = 0;
  private stopPending: boolean;
  private stopReason?: string;
  private everRan: boolean;
  private describeErrors: Error[];
  private cdcCalls = 0;
  private readonly timeoutSeconds: number;

  constructor(
    private readonly workflow: SynthesizedWorkflow,
    private readonly scenario: DmsScenario,
    /** The batch is the smoke dataset's: the workflow should observe the task, not drive it. */
    private readonly smoke = false,
  ) {
    this.status = scenario.initialStatus;
    this.taskArn = scenario.currentTaskArn ?? workflow.taskArn;
    this.fullLoadSeconds = scenario.fullLoadSeconds ?? 3600;
    this.ran = scenario.ranSeconds ?? 0;
    this.everRan = this.status !== 'ready' && this.status !== 'creating';
    this.stopPending = scenario.stopAfterRunningSeconds !== undefined;
    if (this.status === 'stopped') this.stopReason = scenario.stopReason ?? 'Stop Reason NORMAL';
    if (this.status === 'failed') this.stopReason = scenario.stopReason ?? 'Stop Reason FATAL_ERROR';
    if (TRANSIENT.has(this.status)) this.transitionLeft = scenario.startupSeconds ?? 20;
    this.describeErrors = [...(scenario.describeErrors ?? [])];
    this.timeoutSeconds = scenario.timeoutSeconds ?? workflow.definition.TimeoutSeconds ?? Number.POSITIVE_INFINITY;
  }

  /** Handlers for every Task state of the workflow, by state name. */
  handlers(): Record<string, TaskHandler> {
    return {
      'Resolve Replication Task': (input) => this.getParameter(input),
      'Describe Replication Task': (input) => this.describe(input),
      'Start Replication': (input) => this.start('Start Replication', input),
      'Resume Replication': (input) => this.start('Resume Replication', input),
      'Check CDC Latency': (input) => this.cdcLatency(input),
      'Record Batch': (input) => this.putObject(input),
      'Publish Outcome': (input) => this.publish('Publish Outcome', input),
      'Publish Smoke Outcome': (input) => this.publish('Publish Smoke Outcome', input),
      'Publish Failure': (input) => this.publish('Publish Failure', input),
    };
  }

  /** The task as DescribeReplicationTasks would describe it now. */
  task(): ReplicationTask {
    const task: ReplicationTask = {
      ReplicationTaskIdentifier: 'migration-full-load-and-cdc',
      ReplicationTaskArn: this.taskArn,
      MigrationType: 'full-load-and-cdc',
      Status: this.status,
    };
    if (this.stopReason !== undefined) task.StopReason = this.stopReason;
    if (this.scenario.lastFailureMessage !== undefined) task.LastFailureMessage = this.scenario.lastFailureMessage;
    if (this.everRan) {
      // DMS reports whole percents; 100 only once every table is loaded.
      const progress = Math.min(100, Math.floor((100 * this.ran) / this.fullLoadSeconds));
      const loaded = Math.floor((TABLES * progress) / 100);
      const running = this.status === 'running' && progress < 100;
      task.ReplicationTaskStats = {
        FullLoadProgressPercent: progress,
        ElapsedTimeMillis: Math.round(this.ran * 1000),
        TablesLoaded: loaded,
        TablesLoading: running ? Math.min(4, TABLES - loaded) : 0,
        TablesQueued: TABLES - loaded - (running ? Math.min(4, TABLES - loaded) : 0),
        TablesErrored: this.status === 'failed' ? 1 : 0,
      };
    }
    return task;
  }

  /** How long after the full load finished the workflow saw it, if it finished during the run. */
  pollingLatencySeconds(): number | undefined {
    if (this.fullLoadFinishedAt === undefined || this.fullLoadNoticedAt === undefined) return undefined;
    return this.fullLoadNoticedAt - this.fullLoadFinishedAt;
  }

  private record(state: string, input: Json): void {
    if (this.calls.length >= MAX_CALLS) {
      throw new Error(`the workflow made ${MAX_CALLS} calls without ending; is a loop missing its wait?`);
    }
    this.calls.push({ at: this.now, state, input });
  }

  private checkTimeout(): void {
    if (this.now > this.timeoutSeconds) {
      this.timedOutAt ??= this.now;
      throw taskError('Simulator.ExecutionTimedOut', `virtual time ${this.now}s passed ${this.timeoutSeconds}s`);
    }
  }

  private getParameter(input: Json): Json {
    this.record('Resolve Replication Task', input);
    const name = String((input as { Name?: unknown }).Name);
    this.parameterReads.push(name);
    if (name !== this.workflow.taskArnParameterName) {
      throw taskError('Ssm.ParameterNotFoundException', `no parameter ${name}`);
    }
    return wire({ Parameter: { Name: name, Type: 'String', Value: this.taskArn, Version: 1 } });
  }

  private describe(input: Json): Json {
    // The workflow has been waiting since its last look; a retry of this call waits no further.
    if (this.pendingWait) this.advance(this.pendingWait.seconds);
    this.pendingWait = undefined;
    this.record('Describe Replication Task', input);
    this.checkTimeout();
    const failure = this.describeErrors.shift();
    if (failure) throw failure;
    const filters = (input as { Filters?: { Name: string; Values: string[] }[] }).Filters ?? [];
    const byArn = filters.find((f) => f.Name === 'replication-task-arn');
    if (!byArn?.Values.includes(this.taskArn)) {
      throw taskError('DatabaseMigration.ResourceNotFoundFault', `no task matches ${JSON.stringify(filters)}`);
    }
    const task = this.task();
    this.describes.push({ at: this.now, task });
    if (
      this.fullLoadFinishedAt !== undefined &&
      this.fullLoadNoticedAt === undefined &&
      task.ReplicationTaskStats?.FullLoadProgressPercent === 100
    ) {
      this.fullLoadNoticedAt = this.now;
    }
    this.expectWait(waitAfterDescribe(task, this.smoke));
    return wire({ ReplicationTasks: [task] });
  }

  private start(state: string, input: Json): Json {
    this.record(state, input);
    this.checkTimeout();
    const { ReplicationTaskArn, StartReplicationTaskType } = input as Record<string, string>;
    if (ReplicationTaskArn !== this.taskArn) {
      throw taskError('DatabaseMigration.ResourceNotFoundFault', `unknown task ${ReplicationTaskArn}`);
    }
    const from = this.status;
    this.starts.push({ at: this.now, state, type: String(StartReplicationTaskType), from });
    // DMS: start-replication is for a task's first run only; resume-processing needs a stopped task.
    const valid =
      (StartReplicationTaskType === 'start-replication' && from === 'ready' && !this.everRan) ||
      (StartReplicationTaskType === 'resume-processing' && from === 'stopped');
    const refusal = !valid
      ? `${String(StartReplicationTaskType)} is not valid for a task in status ${from}`
      : StartReplicationTaskType === 'resume-processing'
        ? this.scenario.refuseResume
        : undefined;
    if (refusal !== undefined) {
      // The failed call goes to the failure path, not to the transition wait predicted after the describe.
      if (this.pendingWait) this.expectedWaits.pop();
      this.pendingWait = undefined;
      throw taskError('DatabaseMigration.InvalidResourceStateFault', refusal);
    }
    this.everRan = true;
    this.status = StartReplicationTaskType === 'start-replication' ? 'starting' : 'resuming';
    this.stopReason = undefined;
    this.transitionLeft = this.scenario.startupSeconds ?? 20;
    return wire({ ReplicationTask: this.task() });
  }

  private cdcLatency(input: Json): Json {
    this.record('Check CDC Latency', input);
    this.checkTimeout();
    this.metricQueries.push(input);
    const latencies = this.scenario.cdcLatencies ?? [5];
    const value = latencies[Math.min(this.cdcCalls, latencies.length - 1)] ?? null;
    this.cdcCalls += 1;
    // CloudWatch answers a query for a metric nobody publishes with an empty series, not an error.
    const published = this.status === 'running' && this.queriesOwnMetric(input) && value !== null;
    const caughtUp = published && value < this.workflow.config.dms.cdcLatencyThresholdSeconds;
    this.expectWait(caughtUp ? undefined : { state: CDC_WAIT_STATE, seconds: CDC_WAIT_SECONDS });
    return {
      MetricDataResults: [
        {
          Id: 'cdcLatencyTarget',
          Label: 'CDCLatencyTarget',
          StatusCode: 'Complete',
          Timestamps: published ? [new Date(Date.UTC(2026, 10, 22) + this.now * 1000).toISOString()] : [],
          Values: published ? [value] : [],
        },
      ],
      Messages: [],
    };
  }

  private queriesOwnMetric(input: Json): boolean {
    const query = (input as { MetricDataQueries?: { MetricStat?: { Metric?: Record<string, unknown> } }[] })
      .MetricDataQueries?.[0]?.MetricStat?.Metric;
    const dims = Object.fromEntries(
      ((query?.Dimensions ?? []) as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]),
    );
    return (
      query?.Namespace === 'AWS/DMS' &&
      query.MetricName === 'CDCLatencyTarget' &&
      dims.ReplicationInstanceIdentifier === this.workflow.replicationInstanceIdentifier &&
      dims.ReplicationTaskIdentifier === this.taskArn.split(':').pop()
    );
  }

  private putObject(input: Json): Json {
    this.record('Record Batch', input);
    const p = input as Record<string, string>;
    this.puts.push({
      at: this.now,
      Bucket: String(p.Bucket),
      Key: String(p.Key),
      Body: String(p.Body),
      ...(p.ContentType !== undefined ? { ContentType: p.ContentType } : {}),
      taskStatus: this.status,
    });
    return { ETag: '"9b2cf535f27731c974343645a3985328"', ServerSideEncryption: 'aws:kms' };
  }

  private publish(state: string, input: Json): Json {
    this.record(state, input);
    const p = input as { TopicArn: string; Message: Json; Subject?: string; MessageAttributes?: Json };
    this.publications.push({
      at: this.now,
      state,
      TopicArn: p.TopicArn,
      Message: p.Message,
      ...(p.Subject !== undefined ? { Subject: p.Subject } : {}),
      ...(p.MessageAttributes !== undefined ? { MessageAttributes: p.MessageAttributes } : {}),
    });
    return { MessageId: `00000000-0000-0000-0000-${String(this.publications.length).padStart(12, '0')}` };
  }

  private expectWait(wait: ExpectedWait | undefined): void {
    this.pendingWait = wait;
    if (wait) this.expectedWaits.push(wait);
  }

  /** Moves virtual time on, and the task with it. */
  private advance(seconds: number): void {
    let left = seconds;
    while (left > 0) {
      if (this.status === 'starting' || this.status === 'resuming') {
        const step = Math.min(left, this.transitionLeft);
        this.tick(step);
        left -= step;
        this.transitionLeft -= step;
        if (this.transitionLeft <= 0) this.status = 'running';
      } else if (this.status === 'running') {
        const events = [left];
        if (this.ran < this.fullLoadSeconds) events.push(this.fullLoadSeconds - this.ran);
        const stopAt = this.scenario.stopAfterRunningSeconds;
        if (this.stopPending && stopAt !== undefined) events.push(Math.max(0, stopAt - this.ran));
        const step = Math.min(...events);
        const wasLoading = this.ran < this.fullLoadSeconds;
        this.tick(step);
        this.ran += step;
        left -= step;
        if (wasLoading && this.ran >= this.fullLoadSeconds) this.fullLoadFinishedAt = this.now;
        if (this.stopPending && stopAt !== undefined && this.ran >= stopAt) {
          this.stopPending = false;
          this.status = 'stopped';
          this.stopReason = this.scenario.stopReason ?? 'Stop Reason NORMAL';
        }
      } else {
        this.tick(left);
        left = 0;
      }
    }
  }

  private tick(seconds: number): void {
    this.now += seconds;
  }
}

// ---------------------------------------------------------------------------------------------
// One execution

export interface Simulation {
  readonly run: RunResult;
  readonly sim: DmsSimulator;
  /** Wait states the execution entered, in order. */
  readonly waitsEntered: string[];
  /** Wait states the polling policy predicts, in order. */
  readonly waitsExpected: string[];
  /** What Step Functions would have reported: the run's status, or TIMED_OUT when virtual time passed the timeout. */
  readonly status: RunResult['status'];
  /** State transitions Step Functions would have counted: on a timeout, those before the wait it ended in. */
  readonly transitions: number;
  /** Virtual seconds the execution lasted, at most the timeout. */
  readonly durationSeconds: number;
}

/** Runs the workflow once against a fresh fake task. */
export async function simulate(
  workflow: SynthesizedWorkflow,
  scenario: DmsScenario,
  input: BatchInput = batchInput(),
): Promise<Simulation> {
  const sim = new DmsSimulator(workflow, scenario, input.dataset === SMOKE_DATASET);
  const name = `sim-${input.correlationId}`;
  const run = await runDefinition(workflow.definition, input, {
    handlers: sim.handlers(),
    waitOverrides: 'all-zero',
    retryOverrides: 'all-zero',
    context: {
      Execution: {
        Id: `arn:aws:states:us-west-2:123456789012:execution:ReplicationWorkflow:${name}`,
        Name: name,
      },
      // Fixed: the local runner has no per-state context; the fake CloudWatch ignores the window.
      State: { EnteredTime: '2026-11-22T00:00:00.000Z' },
    },
  });
  const waits = new Set(stateNamesOfType(workflow.definition, 'Wait'));
  const timedOut = sim.timedOutAt !== undefined;
  // The simulator notices a timeout at the first call after it; Step Functions ends the wait it falls in.
  const lastWait = run.visited.findLastIndex((s) => waits.has(s));
  const timeout = workflow.definition.TimeoutSeconds ?? Number.POSITIVE_INFINITY;
  return {
    run,
    sim,
    waitsEntered: run.visited.filter((s) => waits.has(s)),
    waitsExpected: sim.expectedWaits.map((w) => w.state),
    status: timedOut ? 'TIMED_OUT' : run.status,
    transitions: timedOut ? lastWait + 1 : run.transitions,
    durationSeconds: timedOut ? Math.min(sim.now, scenario.timeoutSeconds ?? timeout) : sim.now,
  };
}
