import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { MetricWithAlarmSupport } from 'cdk-monitoring-constructs';
import type { ReplicationTaskReference } from '../managed-replication-task';

export interface StageMonitoringProps {
  /** Names the dashboard and starts every alarm name, e.g. `payment-dev`; letters, digits, `-`, `_`, `.`. */
  readonly name: string;
  /** Every alarm's ALARM (and OK, see `notifyOnOk`) actions publish here (see `AlarmTopic`). */
  readonly alarmTopic: sns.ITopic;
  /** Publish to the topic when an alarm returns to OK as well as when it goes to ALARM. @default true */
  readonly notifyOnOk?: boolean;
  /** Time range the dashboard opens with. @default 6 hours */
  readonly dashboardRange?: Duration;
}

/** One threshold alarm on a metric the library has no monitor for. */
export interface ThresholdAlarm {
  /** Alarm name part and legend, unique within the facade: letters, digits, `-`. */
  readonly name: string;
  readonly description: string;
  readonly metric: MetricWithAlarmSupport;
  readonly threshold: number;
  /** @default GREATER_THAN_THRESHOLD */
  readonly comparison?: cloudwatch.ComparisonOperator;
  /** Decided per alarm: no default, because the wrong choice hides a dead producer or pages on silence. */
  readonly treatMissingData: cloudwatch.TreatMissingData;
  /** @default 3 */
  readonly evaluationPeriods?: number;
  /** @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
}

export interface DmsTaskAlarmOptions {
  /** CDC latency bound for `CDCLatencySource` and `CDCLatencyTarget`, in seconds. @default 60 */
  readonly cdcLatencySeconds?: number;
}

export interface DatabaseAlarmOptions {
  /** @default 80 */
  readonly cpuPercent?: number;
  /** Alarm above this many connections. @default 400 */
  readonly maxConnections?: number;
  /** Alarm below this much free storage, in bytes. @default 5 GiB */
  readonly minFreeStorageBytes?: number;
  /** Alarm above this many read + write IOPS (5-minute average). @default 2700 (90% of the gp3 baseline) */
  readonly maxIops?: number;
}

export interface ReplicationSourceAlarmOptions {
  /** WAL the most lagging replication slot still needs, in bytes. @default 1 GiB */
  readonly maxSlotLagBytes?: number;
  /** Disk taken by WAL, in bytes. @default 5 GiB */
  readonly maxTransactionLogsBytes?: number;
}

export interface ServiceAlarmOptions {
  /** @default 85 */
  readonly cpuPercent?: number;
  /** @default 85 */
  readonly memoryPercent?: number;
  /** 5xx answers (from the load balancer and from targets) per 5 minutes. @default 10 */
  readonly max5xxPer5Minutes?: number;
  /** p99 target response time, in seconds. @default 2 */
  readonly p99LatencySeconds?: number;
  /** @default 0 (any unhealthy target) */
  readonly maxUnhealthyHosts?: number;
}

export interface BucketReplicationAlarmOptions {
  /** Replication latency bound, in seconds. @default 900 (the 15 minutes of S3 Replication Time Control) */
  readonly maxLatencySeconds?: number;
}

export interface MonitoredService {
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  readonly targetGroup: elbv2.IApplicationTargetGroup;
}

/** A Lambda function watched for errors and throttles. */
export interface MonitoredFunction {
  /** Short name for alarm names and dashboard titles: letters, digits, `-`. */
  readonly name: string;
  readonly fn: lambda.IFunction;
}

/** A queue watched by its depth or by the age of its oldest message. */
export interface MonitoredQueue {
  /** Short name for alarm names and dashboard titles: letters, digits, `-`. */
  readonly name: string;
  readonly queue: sqs.IQueue;
}

/** An EventBridge rule whose every match is something to alarm on (a failure pattern). */
export interface MonitoredRule {
  /** Alarm name part: letters, digits, `-`. */
  readonly name: string;
  /** Alarm description and widget title. */
  readonly description: string;
  readonly rule: events.IRule;
}

export interface QueueAgeAlarmOptions {
  /** Alarm when the oldest message has waited longer than this, in 3 consecutive minutes. */
  readonly maxAgeSeconds: number;
  /** @default 'Age of the oldest message above <maxAgeSeconds>s' */
  readonly description?: string;
}

export interface DmsCdcLatencyOptions {
  /** Latency bound, in seconds. @default 60 */
  readonly cdcLatencySeconds?: number;
  /** Which CDC latency metrics to alarm on. @default ['Source', 'Target'] */
  readonly sides?: readonly ('Source' | 'Target')[];
  /**
   * Appended to each alarm description, e.g. the task generation, so that a replaced task changes the alarm and its
   * stack update re-reads the task's weak reference (ADR 0009). @default - nothing appended
   */
  readonly descriptionNote?: string;
}

export interface AuroraClusterAlarmOptions {
  /** Decided per cluster: a cluster that pauses when idle reports nothing, and that is not a failure. */
  readonly treatMissingData: cloudwatch.TreatMissingData;
  /** Alarm at or above this average CPU in 3 consecutive 5-minute periods. @default 80 */
  readonly cpuPercent?: number;
  /** Alarm below this average freeable memory in 3 consecutive 5-minute periods, in bytes. @default 256 MiB */
  readonly minFreeableMemoryBytes?: number;
}

/** A graph of metrics without alarms. */
export interface MetricGraph {
  readonly title: string;
  readonly metrics: readonly MetricWithAlarmSupport[];
}

/**
 * A DMS task as monitoring needs it: `ManagedReplicationTask` (and its `ReplicationTaskReference`) plus the resource id
 * that names its metrics.
 */
export interface MonitoredReplicationTask extends Pick<ReplicationTaskReference, 'taskArn' | 'generation'> {
  /** The last field of the ARN: the `ReplicationTaskIdentifier` dimension of DMS task metrics. */
  readonly taskResourceId: string;
}
