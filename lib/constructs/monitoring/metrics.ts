import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * Metrics the installed cdk-monitoring-constructs has no monitor for, built from resource attributes (never from
 * identifiers assembled by hand: a recreated resource gets a new id, and the alarm must follow it).
 */

/** A DMS replication task as its CloudWatch metrics name it. */
export interface DmsTaskDimensions {
  /** `ReplicationInstanceIdentifier`: the replication instance's identifier (not its ARN). */
  readonly replicationInstanceIdentifier: string;
  /**
   * `ReplicationTaskIdentifier`: the task's resource id, the last field of its ARN (DMS names task metrics by it,
   * not by the identifier the task was created with); `ManagedReplicationTask.taskResourceId`.
   */
  readonly replicationTaskResourceId: string;
}

/** Task metrics (DMS user guide, "AWS DMS metrics": replication task metrics and data validation statistics). */
export type DmsTaskMetricName =
  | 'CDCLatencySource'
  | 'CDCLatencyTarget'
  | 'ValidationFailedOverallCount'
  | 'ValidationSuspendedOverallCount'
  | 'ValidationPendingOverallCount';

export function dmsTaskMetric(
  task: DmsTaskDimensions,
  metricName: DmsTaskMetricName,
  options: { statistic?: string; period?: Duration; label?: string } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/DMS',
    metricName,
    dimensionsMap: {
      ReplicationInstanceIdentifier: task.replicationInstanceIdentifier,
      ReplicationTaskIdentifier: task.replicationTaskResourceId,
    },
    statistic: options.statistic ?? 'Maximum',
    period: options.period ?? Duration.minutes(1),
    ...(options.label ? { label: options.label } : {}),
  });
}

/**
 * RDS for PostgreSQL instance metrics the L2 has no method for. Both are in bytes (RDS user guide, "Amazon
 * CloudWatch metrics for Amazon RDS"): `OldestReplicationSlotLag` is the WAL the most lagging slot still needs,
 * `TransactionLogsDiskUsage` the disk the WAL takes.
 */
export function postgresInstanceMetric(
  instance: rds.IDatabaseInstance,
  metricName: 'OldestReplicationSlotLag' | 'TransactionLogsDiskUsage',
  options: { period?: Duration } = {},
): cloudwatch.Metric {
  return instance.metric(metricName, { statistic: 'Maximum', period: options.period ?? Duration.minutes(5) });
}

/** Read + write IOPS of one instance, as one series. */
export function totalIops(instance: rds.IDatabaseInstance, period = Duration.minutes(5)): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'readIops + writeIops',
    usingMetrics: {
      readIops: instance.metric('ReadIOPS', { statistic: 'Average', period }),
      writeIops: instance.metric('WriteIOPS', { statistic: 'Average', period }),
    },
    label: 'IOPS (read + write)',
    period,
  });
}

/** One S3 replication rule, as replication metrics name it (published only for rules with metrics/RTC on). */
export interface BucketReplicationRule {
  readonly sourceBucket: s3.IBucket;
  /** Name of the destination bucket (it lives in another Region, so it arrives as a name). */
  readonly destinationBucketName: string;
  readonly ruleId: string;
}

/** S3 replication metrics (S3 user guide, "S3 Replication metrics"); reported in the source bucket's Region. */
export function bucketReplicationMetric(
  rule: BucketReplicationRule,
  metricName: 'ReplicationLatency' | 'OperationsFailedReplication' | 'OperationsPendingReplication',
  options: { statistic?: string; period?: Duration } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/S3',
    metricName,
    dimensionsMap: {
      SourceBucket: rule.sourceBucket.bucketName,
      DestinationBucket: rule.destinationBucketName,
      RuleId: rule.ruleId,
    },
    statistic: options.statistic ?? 'Maximum',
    period: options.period ?? Duration.minutes(5),
  });
}

/** Events an EventBridge rule matched: EventBridge counts them under the rule's own name, taken from the rule. */
export function ruleMatchedEvents(rule: events.IRule, period = Duration.minutes(5)): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Events',
    metricName: 'MatchedEvents',
    dimensionsMap: { RuleName: rule.ruleName },
    statistic: 'Sum',
    period,
  });
}

/** Where a handler publishes its own metrics with Powertools Metrics (EMF). */
export interface PowertoolsMetricSource {
  readonly namespace: string;
  /** The `service` dimension Powertools adds to every metric. */
  readonly service: string;
}

/** One metric a handler publishes through Powertools Metrics. */
export function powertoolsMetric(
  source: PowertoolsMetricSource,
  metricName: string,
  options: { statistic: string; label: string; period?: Duration },
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: source.namespace,
    metricName,
    dimensionsMap: { service: source.service },
    statistic: options.statistic,
    period: options.period ?? Duration.minutes(1),
    label: options.label,
  });
}
