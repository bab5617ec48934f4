import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { FailureRules } from '../constructs/remediation';
import { PowertoolsMetricSource, powertoolsMetric } from '../constructs/monitoring/metrics';
import {
  MonitoredFunction,
  MonitoredQueue,
  MonitoredReplicationTask,
  StageMonitoring,
} from '../constructs/monitoring/stage-monitoring';
import { MigrationStackProps } from './migration-stack-props';
import { DATA_PREFIXES } from './storage-stack';

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
  readonly cluster: rds.IDatabaseCluster;
  readonly domain: opensearch.IDomain;
  /** Failure rules of the Remediation hop (LambdaStack): their matched events are counted here. */
  readonly failureRules: FailureRules;
  /** Dead-letter queue of the failure rules' targets (LambdaStack): its depth is alarmed here. */
  readonly eventsDeadLetterQueue: sqs.IQueue;
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
  /** Audit-trail target from LoggingStack. */
  readonly auditTarget: events.IRuleTarget;
  /** The queue {@link auditTarget} parks undeliverable events of rules in `scope`'s stack in (alarmed here). */
  readonly auditDeadLetterQueue: (scope: Construct) => sqs.IQueue;
}

/**
 * Watches every hop from the side: audit rules that copy every event into OpenSearch, alarms to the
 * alerts topic (including on the Remediation hop's failure rules), and one dashboard.
 */
export class MonitoringStack extends Stack {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.AlarmBase[];

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config } = props;

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
      {
        name: 'GlueJobFailures',
        description: 'Validation job runs failed or timed out',
        rule: props.failureRules.glue,
      },
      {
        name: 'DataSyncErrors',
        description: 'DataSync task executions ended in ERROR',
        rule: props.failureRules.dataSync,
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
      { name: 'EventsDlq', queue: props.eventsDeadLetterQueue },
      // The audit rules above park undeliverable events in this stack's audit target queue.
      { name: 'AuditEventsDlq', queue: props.auditDeadLetterQueue(this) },
    ]);
    this.alarms = monitoring.alarms();
    monitoring.addAlarmStatus();
  }
}
