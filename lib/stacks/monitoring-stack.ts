import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { FailureRules } from '../constructs/remediation';
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

export interface MonitoredFunction {
  /** Short name for alarm and widget titles. */
  readonly name: string;
  readonly fn: lambda.IFunction;
}

export interface MonitoringStackProps extends MigrationStackProps {
  readonly dataBucket: s3.IBucket;
  readonly job: glue.IJob;
  readonly stateMachine: sfn.IStateMachine;
  readonly replicationTaskArn: string;
  /** Resource id of the task (last ARN field): the `ReplicationTaskIdentifier` dimension of DMS task metrics. */
  readonly replicationTaskResourceId: string;
  readonly replicationInstanceIdentifier: string;
  /**
   * Changes whenever the DMS task can have been replaced (ManagedReplicationTask.generation). It is
   * written into the rules and the alarm that hold the task ARN, so this stack's template changes and
   * its update re-reads the weak reference (ADR 0009).
   */
  readonly replicationTaskGeneration: string;
  readonly cluster: rds.IDatabaseCluster;
  readonly domain: opensearch.IDomain;
  /** Failure rules of the Remediation hop (LambdaStack): their matched events are counted here. */
  readonly failureRules: FailureRules;
  /** Dead-letter queue of the failure rules' targets (LambdaStack): its depth is alarmed here. */
  readonly eventsDeadLetterQueue: sqs.IQueue;
  readonly functions: readonly MonitoredFunction[];
  readonly deadLetterQueues: readonly { readonly name: string; readonly queue: sqs.IQueue }[];
  /**
   * The Glue trigger's queue, and the age of its oldest message past which it is not draining as the job's
   * configured concurrency should (LambdaStack.queueSizing, docs/bursts.md).
   */
  readonly triggerQueue: {
    readonly queue: sqs.IQueue;
    readonly oldestMessageAlarmSeconds: number;
    /** Service dimension of the trigger's own metrics (Powertools `service`). @default 'glue-trigger' */
    readonly metricsService?: string;
    /** Namespace of the trigger's own metrics. @default 'MigrationPlatform' */
    readonly metricsNamespace?: string;
  };
  readonly alertsTopic: sns.ITopic;
  /** Audit-trail target from LoggingStack. */
  readonly auditTarget: events.IRuleTarget;
}

/**
 * Watches every hop from the side: audit rules that copy every event into OpenSearch, alarms to the
 * alerts topic (including on the Remediation hop's failure rules), and one dashboard.
 */
export class MonitoringStack extends Stack {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** Where EventBridge puts events it could not deliver to remediation or the alerts topic (LambdaStack). */
  public readonly eventsDeadLetterQueue: sqs.IQueue;
  /** The Remediation hop's failure rules (LambdaStack). */
  public readonly failureRules: FailureRules;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config } = props;
    const alarmAction = new actions.SnsAction(props.alertsTopic);
    const alarm = (id: string, a: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, id, a);
      created.addAlarmAction(alarmAction);
      this.alarms.push(created);
      return created;
    };

    // ---- failures -> remediation: the rules live in LambdaStack (Remediation); counted here ----------
    this.eventsDeadLetterQueue = props.eventsDeadLetterQueue;
    this.failureRules = props.failureRules;

    // ---- audit trail -----------------------------------------------------------------------------
    const audit = (id: string, description: string, pattern: events.EventPattern) =>
      new events.Rule(this, id, { description, eventPattern: pattern, targets: [props.auditTarget] });
    audit('AuditS3Rule', 'Every data bucket event', AUDIT_PATTERNS.s3(props.dataBucket.bucketName));
    audit('AuditGlueRule', 'Every validation job state change', AUDIT_PATTERNS.glue(props.job.jobName));
    audit(
      'AuditDmsRule',
      `Every DMS task event (task generation ${props.replicationTaskGeneration})`,
      AUDIT_PATTERNS.dms(props.replicationTaskArn),
    );
    audit(
      'AuditStepFunctionsRule',
      'Every workflow status change',
      AUDIT_PATTERNS.stepFunctions(props.stateMachine.stateMachineArn),
    );

    // ---- alarms -------------------------------------------------------------------------------
    const fiveMinutes = Duration.minutes(5);
    /** Alarms on any occurrence in one period; no data means nothing happened. */
    const anyInPeriod = (id: string, description: string, metric: cloudwatch.IMetric) =>
      alarm(id, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    /** Alarms on any occurrence, and on silence: for health metrics that must always report. */
    const anyInPeriodOrSilent = (id: string, description: string, metric: cloudwatch.IMetric) =>
      alarm(id, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    for (const { name, fn } of props.functions) {
      anyInPeriod(
        `${name}ErrorsAlarm`,
        `${name} handler reported errors`,
        fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      );
      anyInPeriod(
        `${name}ThrottlesAlarm`,
        `${name} handler was throttled`,
        fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
      );
    }
    for (const { name, queue } of [
      ...props.deadLetterQueues,
      { name: 'EventsDlq', queue: this.eventsDeadLetterQueue },
    ]) {
      anyInPeriod(
        `${name}DepthAlarm`,
        `Messages waiting in dead-letter queue ${name}`,
        queue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' }),
      );
    }
    // Rule matches are counted by EventBridge under the rule's own name: derived, not rebuilt.
    const matched = (rule: events.Rule) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'MatchedEvents',
        dimensionsMap: { RuleName: rule.ruleName },
        period: fiveMinutes,
        statistic: 'Sum',
      });
    anyInPeriod('GlueJobFailuresAlarm', 'Validation job runs failed or timed out', matched(this.failureRules.glue));
    anyInPeriod(
      'WorkflowFailuresAlarm',
      'Replication workflow executions failed, timed out or were aborted',
      new cloudwatch.MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: {
          failed: props.stateMachine.metricFailed({ period: fiveMinutes }),
          timedOut: props.stateMachine.metricTimedOut({ period: fiveMinutes }),
          aborted: props.stateMachine.metricAborted({ period: fiveMinutes }),
        },
        period: fiveMinutes,
      }),
    );
    const cdcLatency = new cloudwatch.Metric({
      namespace: 'AWS/DMS',
      metricName: 'CDCLatencyTarget',
      dimensionsMap: {
        ReplicationInstanceIdentifier: props.replicationInstanceIdentifier,
        ReplicationTaskIdentifier: props.replicationTaskResourceId,
      },
      period: Duration.minutes(1),
      statistic: 'Maximum',
    });
    alarm('DmsCdcLatencyAlarm', {
      alarmDescription: `DMS CDC latency above ${config.dms.cdcLatencyThresholdSeconds}s, or no latency data at all (a stopped task emits none); task generation ${props.replicationTaskGeneration}`,
      metric: cdcLatency,
      threshold: config.dms.cdcLatencyThresholdSeconds,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // A task that should be running but emits nothing is the failure we most need to see.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    // A paused Serverless v2 instance (minimum 0 ACU) is idle by design and reports no CPU or
    // memory; there, missing data is not a failure. Everywhere else the cluster must report.
    const auroraMissing =
      config.database.sizing.kind === 'serverless' && config.database.sizing.minCapacity === 0
        ? cloudwatch.TreatMissingData.NOT_BREACHING
        : cloudwatch.TreatMissingData.BREACHING;
    alarm('AuroraCpuAlarm', {
      alarmDescription: 'Aurora CPU above 80%',
      metric: props.cluster.metricCPUUtilization({ period: fiveMinutes }),
      threshold: 80,
      evaluationPeriods: 3,
      treatMissingData: auroraMissing,
    });
    alarm('AuroraFreeableMemoryAlarm', {
      alarmDescription: 'Aurora freeable memory under 256 MiB',
      metric: props.cluster.metricFreeableMemory({ period: fiveMinutes }),
      threshold: 256 * 1024 * 1024,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: auroraMissing,
    });
    anyInPeriodOrSilent(
      'OpenSearchRedAlarm',
      'OpenSearch cluster status red',
      props.domain.metricClusterStatusRed({ period: Duration.minutes(1) }),
    );
    anyInPeriodOrSilent(
      'OpenSearchWritesBlockedAlarm',
      'OpenSearch blocks index writes (audit events are going to the backup bucket)',
      props.domain.metricClusterIndexWritesBlocked({ period: Duration.minutes(1) }),
    );
    anyInPeriod('DataSyncErrorsAlarm', 'DataSync task executions ended in ERROR', matched(this.failureRules.dataSync));

    // ---- trigger hop: a burst must drain within the time the configured concurrency allows ------------
    const trigger = props.triggerQueue;
    const oneMinute = Duration.minutes(1);
    const oldestMessage = trigger.queue.metricApproximateAgeOfOldestMessage({
      period: oneMinute,
      statistic: 'Maximum',
    });
    alarm('ObjectEventsQueueAgeAlarm', {
      alarmDescription: `The oldest object event has waited more than ${trigger.oldestMessageAlarmSeconds}s: the validation job is not draining the queue as its configured concurrency should (docs/bursts.md)`,
      metric: oldestMessage,
      threshold: trigger.oldestMessageAlarmSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      // An empty queue publishes no age at all.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const triggerMetric = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({
        namespace: trigger.metricsNamespace ?? 'MigrationPlatform',
        metricName,
        dimensionsMap: { service: trigger.metricsService ?? 'glue-trigger' },
        statistic,
        period: oneMinute,
        label,
      });

    // ---- dashboard ----------------------------------------------------------------------------
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# Migration data path (${config.envName})\nS3 ${DATA_PREFIXES.incoming} → Glue trigger → validation job → results topic → workflow trigger → workflow → DMS → Aurora`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Handlers: invocations and errors',
        left: props.functions.map(({ fn }) => fn.metricInvocations({ period: fiveMinutes })),
        right: props.functions.map(({ fn }) => fn.metricErrors({ period: fiveMinutes })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Validation job failures and DataSync errors (matched events)',
        left: [matched(this.failureRules.glue), matched(this.failureRules.dataSync)],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Workflow executions',
        left: [
          props.stateMachine.metricStarted({ period: fiveMinutes }),
          props.stateMachine.metricSucceeded({ period: fiveMinutes }),
          props.stateMachine.metricFailed({ period: fiveMinutes }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'DMS CDC latency (s)',
        left: [cdcLatency],
        leftAnnotations: [{ value: config.dms.cdcLatencyThresholdSeconds, label: 'bound' }],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Aurora',
        left: [props.cluster.metricCPUUtilization(), props.cluster.metricDatabaseConnections()],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'OpenSearch',
        left: [props.domain.metricClusterStatusRed(), props.domain.metricClusterStatusYellow()],
        right: [props.domain.metricFreeStorageSpace()],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues',
        left: [...props.deadLetterQueues.map(({ queue }) => queue), this.eventsDeadLetterQueue].map((q) =>
          q.metricApproximateNumberOfMessagesVisible(),
        ),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Trigger hop: objects waiting',
        left: [
          trigger.queue.metricApproximateNumberOfMessagesVisible({ period: oneMinute, label: 'waiting in the queue' }),
          trigger.queue.metricApproximateNumberOfMessagesNotVisible({
            period: oneMinute,
            label: 'in flight or handed back',
          }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Trigger hop: age of the oldest object event (s)',
        left: [oldestMessage],
        leftAnnotations: [{ value: trigger.oldestMessageAlarmSeconds, label: 'drain-time bound' }],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Validation runs: running, waiting, started',
        left: [
          triggerMetric('GlueRunsRunning', 'Maximum', 'runs running'),
          triggerMetric('GlueRunsWaiting', 'Maximum', 'runs waiting (queued)'),
          triggerMetric('GlueRunsStarted', 'Sum', 'runs started'),
        ],
        right: [
          triggerMetric('ObjectsStarted', 'Sum', 'objects started'),
          triggerMetric('GlueFull', 'Sum', 'Glue full: batches handed back'),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }
}
