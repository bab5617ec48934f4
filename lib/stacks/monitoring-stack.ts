import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PowertoolsMetricSource, powertoolsMetric } from '../constructs/monitoring/metrics';
import {
  MonitoredFunction,
  MonitoredQueue,
  MonitoredReplicationTask,
  StageMonitoring,
} from '../constructs/monitoring/stage-monitoring';
import { MigrationStackProps } from './migration-stack-props';
import { DATA_PREFIXES } from './storage-stack';
import { DataSyncAgentSetup } from '../constructs/datasync-agent-setup';

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

/** Every event of a hop, failure or not, for the audit trail. */
export const AUDIT_PATTERNS = {
  s3: (bucketName: string): events.EventPattern => ({
    source: ['aws.s3'],
    detail: { bucket: { name: [bucketName] } },
  }),
  glue: (jobName: string): events.EventPattern => ({ source: ['aws.glue'], detail: { jobName: [jobName] } }),
  dms: (taskArn: string): events.EventPattern => ({ source: ['aws.dms'], resources: [taskArn] }),
  stepFunctions: (stateMachineArn: string): events.EventPattern => ({
    source: ['aws.states'],
    detail: { stateMachineArn: [stateMachineArn] },
  }),
} as const;

export interface MonitoringStackProps extends MigrationStackProps {
  readonly dataBucket: s3.IBucket;
  readonly job: glue.IJob;
  readonly stateMachine: sfn.IStateMachine;
  /**
   * The DMS task (DmsStack.task). Its generation is written into the rules and the alarm that hold its ARN or id, so
   * this stack's template changes and its update re-reads the weak reference when the task is replaced (ADR 0009).
   */
  readonly replicationTask: MonitoredReplicationTask;
  readonly replicationInstanceIdentifier: string;
  /**
   * The DataSync task (DataSyncStack.setup); its `taskGeneration` changes whenever the task ARN can change, e.g. a
   * later activation attempt.
   */
  readonly dataSyncTask: Pick<DataSyncAgentSetup, 'taskArn' | 'taskGeneration'>;
  readonly cluster: rds.IDatabaseCluster;
  readonly domain: opensearch.IDomain;
  readonly remediation: lambda.IFunction;
  readonly functions: readonly MonitoredFunction[];
  readonly deadLetterQueues: readonly MonitoredQueue[];
  /**
   * The Glue trigger's queue, and the age of its oldest message past which it is not draining as the job's
   * configured concurrency should (LambdaStack.queueSizing, docs/bursts.md).
   */
  readonly triggerQueue: {
    readonly queue: sqs.IQueue;
    readonly oldestMessageAlarmSeconds: number;
    /** Where the trigger publishes its own metrics. @default namespace 'MigrationPlatform', service 'glue-trigger' */
    readonly metrics?: PowertoolsMetricSource;
  };
  readonly alertsTopic: sns.ITopic;
  /**
   * Starts every alarm name and names the dashboard. Alarm names are unique per account and Region: a sandbox stage
   * deployed next to dev must not take dev's names.
   * @default the stack name (`Dev-Monitoring`, `Sandbox-<name>-Monitoring`)
   */
  readonly namePrefix?: string;
  /** Encrypts the dead-letter queue of the rule targets. */
  readonly messagingKey: kms.IKey;
  /** Audit-trail target from LoggingStack. */
  readonly auditTarget: events.IRuleTarget;
}

/**
 * Watches every hop from the side: failure rules that call remediation, audit rules that copy every
 * event into OpenSearch, alarms to the alerts topic, and one dashboard.
 */
export class MonitoringStack extends Stack {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.AlarmBase[];
  /** Where EventBridge puts events it could not deliver to remediation or the alerts topic. */
  public readonly eventsDeadLetterQueue: sqs.Queue;
  public readonly failureRules: Record<'glue' | 'dmsTask' | 'stepFunctions' | 'dataSync', events.Rule>;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.eventsDeadLetterQueue = new sqs.Queue(this, 'EventsDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.messagingKey,
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
    });
    Validations.of(this.eventsDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the rule targets; its depth is alarmed below.',
    });

    // ---- failures -> remediation ---------------------------------------------------------------
    const remediationTarget = new targets.LambdaFunction(props.remediation, {
      deadLetterQueue: this.eventsDeadLetterQueue,
      retryAttempts: 4,
      maxEventAge: Duration.hours(2),
    });
    const failureRule = (id: string, description: string, pattern: events.EventPattern) =>
      new events.Rule(this, id, { description, eventPattern: pattern, targets: [remediationTarget] });
    this.failureRules = {
      glue: failureRule(
        'GlueJobFailedRule',
        'Validation job run failed or timed out',
        FAILURE_PATTERNS.glue(props.job.jobName),
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
        description: `DataSync task execution ended in ERROR (task generation ${props.dataSyncTask.taskGeneration})`,
        eventPattern: FAILURE_PATTERNS.dataSync(props.dataSyncTask.taskArn),
        targets: [
          new targets.SnsTopic(props.alertsTopic, { deadLetterQueue: this.eventsDeadLetterQueue, retryAttempts: 4 }),
        ],
      }),
    };

    // ---- audit trail -----------------------------------------------------------------------------
    const audit = (id: string, description: string, pattern: events.EventPattern) =>
      new events.Rule(this, id, { description, eventPattern: pattern, targets: [props.auditTarget] });
    audit('AuditS3Rule', 'Every data bucket event', AUDIT_PATTERNS.s3(props.dataBucket.bucketName));
    audit('AuditGlueRule', 'Every validation job state change', AUDIT_PATTERNS.glue(props.job.jobName));
    audit(
      'AuditDmsRule',
      `Every DMS task event (task generation ${props.replicationTask.generation})`,
      AUDIT_PATTERNS.dms(props.replicationTask.taskArn),
    );
    audit(
      'AuditStepFunctionsRule',
      'Every workflow status change',
      AUDIT_PATTERNS.stepFunctions(props.stateMachine.stateMachineArn),
    );

    // ---- alarms and dashboard -------------------------------------------------------------------------
    const trigger = props.triggerQueue;
    const monitoring = new StageMonitoring(this, 'Monitoring', {
      name: props.namePrefix ?? this.stackName,
      alarmTopic: props.alertsTopic,
      // People are told when something breaks; recovery shows on the dashboard.
      notifyOnOk: false,
    });
    this.dashboard = monitoring.dashboard;
    monitoring
      .addHeader(`Migration data path (${config.envName})`)
      .addText(
        `S3 ${DATA_PREFIXES.incoming} → Glue trigger → validation job → results topic → workflow trigger → workflow → DMS → Aurora`,
        1,
      );
    // A burst must drain within the time the configured concurrency allows (docs/bursts.md).
    monitoring.monitorQueueAge('ObjectEventsQueue', trigger.queue, {
      maxAgeSeconds: trigger.oldestMessageAlarmSeconds,
      description: `The oldest object event has waited more than ${trigger.oldestMessageAlarmSeconds}s: the validation job is not draining the queue as its configured concurrency should (docs/bursts.md)`,
    });
    const source = trigger.metrics ?? { namespace: 'MigrationPlatform', service: 'glue-trigger' };
    const runs = (name: string, statistic: string, label: string) =>
      powertoolsMetric(source, name, { statistic, label });
    monitoring.addGraphs('Validation runs', [
      {
        title: 'Runs: running, waiting, started',
        metrics: [
          runs('GlueRunsRunning', 'Maximum', 'runs running'),
          runs('GlueRunsWaiting', 'Maximum', 'runs waiting (queued)'),
          runs('GlueRunsStarted', 'Sum', 'runs started'),
        ],
      },
      {
        title: 'Objects started, batches handed back',
        metrics: [
          runs('ObjectsStarted', 'Sum', 'objects started'),
          runs('GlueFull', 'Sum', 'Glue full: batches handed back'),
        ],
      },
    ]);
    monitoring.monitorFunctions(props.functions);
    monitoring.monitorRuleMatches('Failure rules', [
      { name: 'GlueJobFailures', description: 'Validation job runs failed or timed out', rule: this.failureRules.glue },
      {
        name: 'DataSyncErrors',
        description: 'DataSync task executions ended in ERROR',
        rule: this.failureRules.dataSync,
      },
    ]);
    monitoring.monitorStateMachine(
      'Workflow',
      props.stateMachine,
      'Replication workflow executions failed, timed out or were aborted',
    );
    monitoring.monitorDmsCdcLatency(
      'Replication',
      {
        replicationInstanceIdentifier: props.replicationInstanceIdentifier,
        replicationTaskResourceId: props.replicationTask.taskResourceId,
      },
      {
        cdcLatencySeconds: config.dms.cdcLatencyThresholdSeconds,
        sides: ['Target'],
        descriptionNote: `task generation ${props.replicationTask.generation}`,
      },
    );
    // A paused Serverless v2 instance (minimum 0 ACU) is idle by design and reports no CPU or memory; there,
    // missing data is not a failure. Everywhere else the cluster must report.
    const pauses = config.database.sizing.kind === 'serverless' && config.database.sizing.minCapacity === 0;
    monitoring.monitorAuroraCluster('Aurora', props.cluster, {
      treatMissingData: pauses ? cloudwatch.TreatMissingData.NOT_BREACHING : cloudwatch.TreatMissingData.BREACHING,
    });
    const writesBlocked = 'OpenSearch blocks index writes (audit events are going to the backup bucket)';
    monitoring.monitorOpenSearchDomain('OpenSearch', props.domain, writesBlocked);
    monitoring.monitorDeadLetterQueues([
      ...props.deadLetterQueues,
      { name: 'EventsDlq', queue: this.eventsDeadLetterQueue },
    ]);
    this.alarms = monitoring.alarms();
    monitoring.addAlarmStatus();
  }
}
