import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  CustomMetric,
  DefaultDashboardFactory,
  DefaultDashboards,
  MetricWithAlarmSupport,
  MonitoringFacade,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import {
  BucketReplicationRule,
  bucketReplicationMetric,
  DmsTaskDimensions,
  dmsTaskMetric,
  postgresInstanceMetric,
  totalIops,
} from './metrics';

const { GREATER_THAN_THRESHOLD } = cloudwatch.ComparisonOperator;
const { BREACHING, NOT_BREACHING } = cloudwatch.TreatMissingData;
/** Alarm names and dashboard names: what CloudWatch and the library accept, and no tokens. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export interface StageMonitoringProps {
  /** Names the dashboard and starts every alarm name, e.g. `payment-dev`; letters, digits, `-`, `_`, `.`. */
  readonly name: string;
  /** Every alarm's ALARM and OK actions publish here (see `AlarmTopic`). */
  readonly alarmTopic: sns.ITopic;
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

/**
 * One `cdk-monitoring-constructs` dashboard for a stage, whose every alarm publishes to one topic on ALARM and OK.
 *
 * Library monitors are used where they exist: `monitorRdsInstance` (CPU, connections, free storage) and
 * `monitorFargateApplicationLoadBalancer` (ECS CPU and memory, unhealthy targets). What cdk-monitoring-constructs
 * 10.2 cannot express is built here as threshold alarms on `monitorCustom`, on the same facade, so they get the same
 * names, actions and dashboard:
 * - DMS tasks: the library has no DMS monitor at all (CDC latency, validation counters).
 * - RDS for PostgreSQL replication: `OldestReplicationSlotLag` and `TransactionLogsDiskUsage` are not among the RDS
 *   instance monitor's metrics, and it has no IOPS alarm (it only graphs read and write IOPS). Its connection alarm
 *   compares the *Sum* of `DatabaseConnections` over the alarm period with the bound, which counts the same
 *   connections once per minute of the period; the connection alarm here uses the Maximum.
 * - ALB 5xx and latency: the Fargate + ALB monitor alarms on task health and usage only; it offers no 5xx count or
 *   response-time alarm for an application load balancer.
 * - S3 replication: the bucket monitor knows object counts and size, not replication metrics.
 * Missing-data treatment is chosen per alarm and stated with it; the library's own default (MISSING) is overridden.
 */
export class StageMonitoring extends Construct {
  public readonly facade: MonitoringFacade;
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm name starts with this followed by `-`. */
  public readonly alarmNamePrefix: string;

  constructor(scope: Construct, id: string, props: StageMonitoringProps) {
    super(scope, id);
    assertName(props.name, 'name');
    this.alarmNamePrefix = props.name;
    const dashboards = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: props.name,
      detailDashboardRange: props.dashboardRange ?? Duration.hours(6),
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: props.name,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: props.alarmTopic, onOkTopic: props.alarmTopic }),
      },
      metricFactoryDefaults: {},
      dashboardFactory: dashboards,
    });
    const dashboard = dashboards.getDashboard(DefaultDashboards.DETAIL);
    if (!dashboard) throw new Error(`${this.node.path}: the dashboard factory created no dashboard`);
    this.dashboard = dashboard;
  }

  /** Every alarm created through this facade so far. */
  public alarms(): cloudwatch.AlarmBase[] {
    return this.facade.createdAlarms().map((a) => a.alarm);
  }

  public addHeader(text: string): this {
    this.facade.addLargeHeader(text);
    return this;
  }

  /** Threshold alarms the library has no monitor for, as one dashboard section; returns the alarms. */
  public addThresholdAlarms(title: string, alarms: readonly ThresholdAlarm[]): cloudwatch.AlarmBase[] {
    for (const a of alarms) assertName(a.name, `alarm name of ${title}`);
    return this.collect(() =>
      this.facade.monitorCustom({
        alarmFriendlyName: sectionName(title),
        humanReadableName: title,
        metricGroups: alarms.map((a): { title: string; metrics: CustomMetric[] } => ({
          title: a.description,
          metrics: [
            {
              metric: a.metric,
              alarmFriendlyName: a.name,
              addAlarm: {
                Critical: {
                  threshold: a.threshold,
                  comparisonOperator: a.comparison ?? GREATER_THAN_THRESHOLD,
                  treatMissingDataOverride: a.treatMissingData,
                  evaluationPeriods: a.evaluationPeriods ?? 3,
                  datapointsToAlarm: a.datapointsToAlarm ?? a.evaluationPeriods ?? 3,
                  alarmDescriptionOverride: a.description,
                },
              },
            },
          ],
        })),
      }),
    );
  }

  /**
   * CDC latency on both sides (missing data BREACHING: a stopped or failed task emits no latency at all, and a
   * healthy-looking silence is how a CDC outage goes unnoticed) and validation failures and suspensions (missing
   * data NOT_BREACHING: validation counters exist only while validation runs; a dead task is caught by the latency
   * alarms).
   */
  public monitorDmsTask(
    name: string,
    task: DmsTaskDimensions,
    options: DmsTaskAlarmOptions = {},
  ): cloudwatch.AlarmBase[] {
    const bound = options.cdcLatencySeconds ?? 60;
    const latency = (side: 'Source' | 'Target'): ThresholdAlarm => ({
      name: `CdcLatency${side}`,
      description: `DMS CDCLatency${side} above ${bound}s, or no data (a stopped task emits none)`,
      metric: dmsTaskMetric(task, `CDCLatency${side}`),
      threshold: bound,
      treatMissingData: BREACHING,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });
    return this.addThresholdAlarms(`${name} DMS task`, [
      latency('Source'),
      latency('Target'),
      {
        name: 'ValidationFailed',
        description: 'DMS validation found rows that differ between source and target',
        metric: dmsTaskMetric(task, 'ValidationFailedOverallCount'),
        threshold: 0,
        treatMissingData: NOT_BREACHING,
        evaluationPeriods: 1,
      },
      {
        name: 'ValidationSuspended',
        description: 'DMS validation suspended rows (they are no longer compared)',
        metric: dmsTaskMetric(task, 'ValidationSuspendedOverallCount'),
        threshold: 0,
        treatMissingData: NOT_BREACHING,
        evaluationPeriods: 1,
      },
    ]);
  }

  /**
   * WAL retained for replication slots, on the database DMS reads from. Missing data NOT_BREACHING for the slot lag
   * (reported only while a slot exists; a dropped slot stops CDC, which the CDC latency alarms catch) and BREACHING
   * for the WAL disk usage (RDS reports it every minute; silence means the instance is not reporting).
   */
  public monitorReplicationSource(
    name: string,
    instance: rds.IDatabaseInstance,
    options: ReplicationSourceAlarmOptions = {},
  ): cloudwatch.AlarmBase[] {
    const gib = 1024 ** 3;
    return this.addThresholdAlarms(`${name} logical replication`, [
      {
        name: 'ReplicationSlotLag',
        description: 'WAL held for the most lagging replication slot is above the bound',
        metric: postgresInstanceMetric(instance, 'OldestReplicationSlotLag'),
        threshold: options.maxSlotLagBytes ?? gib,
        treatMissingData: NOT_BREACHING,
      },
      {
        name: 'TransactionLogsDiskUsage',
        description: 'Disk taken by transaction logs (WAL) is above the bound',
        metric: postgresInstanceMetric(instance, 'TransactionLogsDiskUsage'),
        threshold: options.maxTransactionLogsBytes ?? 5 * gib,
        treatMissingData: BREACHING,
      },
    ]);
  }

  /**
   * CPU and free storage through the library's RDS instance monitor; connections and IOPS as threshold alarms. All
   * with missing data BREACHING: RDS reports these every minute, so silence means the instance is down or unreachable.
   */
  public monitorDatabase(
    name: string,
    instance: rds.IDatabaseInstance,
    options: DatabaseAlarmOptions = {},
  ): cloudwatch.AlarmBase[] {
    assertName(name, 'database name');
    const common = { treatMissingDataOverride: BREACHING, evaluationPeriods: 3, datapointsToAlarm: 3 };
    const fromLibrary = this.collect(() =>
      this.facade.monitorRdsInstance({
        instance,
        alarmFriendlyName: `${name}-Db`,
        humanReadableName: `${name} database`,
        addCpuUsageAlarm: { Critical: { ...common, maxUsagePercent: options.cpuPercent ?? 80 } },
        addFreeStorageSpaceAlarm: {
          Critical: { ...common, minCount: options.minFreeStorageBytes ?? 5 * 1024 ** 3 },
        },
      }),
    );
    const custom = this.addThresholdAlarms(`${name} database`, [
      {
        name: 'Connections',
        description: `More than ${options.maxConnections ?? 400} connections`,
        metric: instance.metricDatabaseConnections({ statistic: 'Maximum', period: Duration.minutes(5) }),
        threshold: options.maxConnections ?? 400,
        treatMissingData: BREACHING,
      },
      {
        name: 'Iops',
        description: 'Read + write IOPS above the bound',
        metric: totalIops(instance),
        threshold: options.maxIops ?? 2700,
        treatMissingData: BREACHING,
      },
    ]);
    return [...fromLibrary, ...custom];
  }

  /**
   * ECS CPU and memory and unhealthy targets through the library's Fargate + ALB monitor (missing data BREACHING:
   * a service with running tasks reports utilization every minute, and the target group reports host counts every
   * minute); 5xx and p99 latency as threshold alarms (missing data NOT_BREACHING: the load balancer emits them
   * only when there are requests, and a service without traffic, such as the target before the cutover, is fine).
   */
  public monitorService(
    name: string,
    svc: MonitoredService,
    options: ServiceAlarmOptions = {},
  ): cloudwatch.AlarmBase[] {
    assertName(name, 'service name');
    const common = { treatMissingDataOverride: BREACHING, evaluationPeriods: 3, datapointsToAlarm: 3 };
    const fromLibrary = this.collect(() =>
      this.facade.monitorFargateApplicationLoadBalancer({
        fargateService: svc.service,
        applicationLoadBalancer: svc.loadBalancer,
        applicationTargetGroup: svc.targetGroup,
        alarmFriendlyName: `${name}-Service`,
        humanReadableName: `${name} service`,
        addCpuUsageAlarm: { Critical: { ...common, maxUsagePercent: options.cpuPercent ?? 85 } },
        addMemoryUsageAlarm: { Critical: { ...common, maxUsagePercent: options.memoryPercent ?? 85 } },
        addUnhealthyTaskCountAlarm: {
          Critical: { ...common, maxUnhealthyTasks: options.maxUnhealthyHosts ?? 0 },
        },
      }),
    );
    const fiveMinutes = Duration.minutes(5);
    const errors = new cloudwatch.MathExpression({
      expression: 'FILL(elb5xx, 0) + FILL(target5xx, 0)',
      usingMetrics: {
        elb5xx: svc.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
          period: fiveMinutes,
          statistic: 'Sum',
        }),
        target5xx: svc.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
          period: fiveMinutes,
          statistic: 'Sum',
        }),
      },
      label: '5xx (load balancer + targets)',
      period: fiveMinutes,
    });
    const custom = this.addThresholdAlarms(`${name} load balancer`, [
      {
        name: 'Http5xx',
        description: `5xx answers above ${options.max5xxPer5Minutes ?? 10} in 5 minutes`,
        metric: errors,
        threshold: options.max5xxPer5Minutes ?? 10,
        treatMissingData: NOT_BREACHING,
        evaluationPeriods: 1,
      },
      {
        name: 'LatencyP99',
        description: `p99 target response time above ${options.p99LatencySeconds ?? 2}s`,
        metric: svc.targetGroup.metrics.targetResponseTime({ period: fiveMinutes, statistic: 'p99' }),
        threshold: options.p99LatencySeconds ?? 2,
        treatMissingData: NOT_BREACHING,
      },
    ]);
    return [...fromLibrary, ...custom];
  }

  /**
   * Replication latency and failed operations of one replication rule. Missing data NOT_BREACHING: S3 reports them
   * only while objects replicate.
   */
  public monitorBucketReplication(
    name: string,
    rule: BucketReplicationRule,
    options: BucketReplicationAlarmOptions = {},
  ): cloudwatch.AlarmBase[] {
    return this.addThresholdAlarms(`${name} bucket replication`, [
      {
        name: 'ReplicationLatency',
        description: `Objects take more than ${options.maxLatencySeconds ?? 900}s to reach the replica bucket`,
        metric: bucketReplicationMetric(rule, 'ReplicationLatency'),
        threshold: options.maxLatencySeconds ?? 900,
        treatMissingData: NOT_BREACHING,
        evaluationPeriods: 2,
      },
      {
        name: 'ReplicationFailed',
        description: 'Objects failed to replicate',
        metric: bucketReplicationMetric(rule, 'OperationsFailedReplication', { statistic: 'Sum' }),
        threshold: 0,
        treatMissingData: NOT_BREACHING,
        evaluationPeriods: 1,
      },
    ]);
  }

  private collect(add: () => unknown): cloudwatch.AlarmBase[] {
    const before = new Set(this.facade.createdAlarms().map((a) => a.alarm));
    add();
    return this.facade
      .createdAlarms()
      .map((a) => a.alarm)
      .filter((a) => !before.has(a));
  }
}

/** `Payment source DMS task` → `Payment-source-DMS-task`: a section name the library accepts in alarm names. */
function sectionName(title: string): string {
  return title.trim().replace(/[^A-Za-z0-9]+/g, '-');
}

function assertName(value: string, what: string): void {
  if (!NAME.test(value)) {
    throw new Error(
      `StageMonitoring: ${what} ${JSON.stringify(value)} must be 1-100 letters, digits, '-', '_' or '.', starting with a letter or digit (it becomes part of alarm names)`,
    );
  }
}
