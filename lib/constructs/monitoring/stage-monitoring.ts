import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  CustomMetric,
  DefaultDashboardFactory,
  DefaultDashboards,
  MonitoringFacade,
  OpenSearchClusterStatus,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import {
  BucketReplicationRule,
  bucketReplicationMetric,
  DmsTaskDimensions,
  dmsTaskMetric,
  postgresInstanceMetric,
  ruleMatchedEvents,
  totalIops,
} from './metrics';
import {
  AuroraClusterAlarmOptions,
  BucketReplicationAlarmOptions,
  DatabaseAlarmOptions,
  DmsCdcLatencyOptions,
  DmsTaskAlarmOptions,
  MetricGraph,
  MonitoredFunction,
  MonitoredQueue,
  MonitoredRule,
  MonitoredService,
  QueueAgeAlarmOptions,
  ReplicationSourceAlarmOptions,
  ServiceAlarmOptions,
  StageMonitoringProps,
  ThresholdAlarm,
} from './stage-monitoring-props';

export * from './stage-monitoring-props';

const { GREATER_THAN_THRESHOLD, GREATER_THAN_OR_EQUAL_TO_THRESHOLD, LESS_THAN_THRESHOLD } =
  cloudwatch.ComparisonOperator;
const { BREACHING, NOT_BREACHING } = cloudwatch.TreatMissingData;
/** Alarm names and dashboard names: what CloudWatch and the library accept, and no tokens. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/**
 * One `cdk-monitoring-constructs` dashboard for a stage, whose every alarm publishes to one topic on ALARM (and OK).
 * Both stages build their alarms and dashboard from these blocks: the payment stage (databases, services, DMS,
 * replication) and the migration stage (handlers, queues, failure rules, workflow, DMS, Aurora, OpenSearch).
 *
 * Library monitors are used where they exist: `monitorRdsInstance` (CPU, connections, free storage),
 * `monitorFargateApplicationLoadBalancer` (ECS CPU and memory, unhealthy targets), `monitorLambdaFunction` (errors,
 * throttles), `monitorSqsQueue` (depth, age of the oldest message), `monitorStepFunction` (graphs),
 * `monitorAuroraCluster` (CPU) and `monitorOpenSearchCluster` (status red, index writes blocked). What
 * cdk-monitoring-constructs
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
 * - EventBridge rules: there is no rule monitor, so matched-event counts of failure rules are threshold alarms.
 * - Step Functions failures as one alarm: the library alarms on failed, timed-out and aborted executions
 *   separately; the sum is a threshold alarm on a math expression.
 * - Aurora freeable memory: neither the Aurora nor the RDS cluster monitor has it.
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
        action: new SnsAlarmActionStrategy({
          onAlarmTopic: props.alarmTopic,
          ...((props.notifyOnOk ?? true) ? { onOkTopic: props.alarmTopic } : {}),
        }),
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
   * CDC latency on both sides (see {@link monitorDmsCdcLatency}) and validation failures and suspensions (missing
   * data NOT_BREACHING: validation counters exist only while validation runs; a dead task is caught by the latency
   * alarms).
   */
  public monitorDmsTask(
    name: string,
    task: DmsTaskDimensions,
    options: DmsTaskAlarmOptions = {},
  ): cloudwatch.AlarmBase[] {
    return this.addThresholdAlarms(`${name} DMS task`, [
      ...cdcLatencyAlarms(task, options),
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
   * CDC latency above the bound in 3 of 5 minutes, missing data BREACHING: a stopped or failed task emits no latency
   * at all, and a healthy-looking silence is how a CDC outage goes unnoticed.
   */
  public monitorDmsCdcLatency(
    name: string,
    task: DmsTaskDimensions,
    options: DmsCdcLatencyOptions = {},
  ): cloudwatch.AlarmBase[] {
    return this.addThresholdAlarms(`${name} DMS CDC latency`, cdcLatencyAlarms(task, options));
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

  /**
   * Errors and throttles of each function through the library's Lambda monitor: any in 5 minutes (Sum at or above
   * 1), missing data NOT_BREACHING (a function that was not invoked has nothing to report).
   */
  public monitorFunctions(functions: readonly MonitoredFunction[]): cloudwatch.AlarmBase[] {
    return this.collect(() => {
      for (const { name, fn } of functions) {
        assertName(name, 'function name');
        this.facade.monitorLambdaFunction({
          lambdaFunction: fn,
          alarmFriendlyName: name,
          humanReadableName: `${name} handler`,
          addFaultCountAlarm: { Critical: anyInFiveMinutes(`${name} handler reported errors`) },
          addThrottlesCountAlarm: { Critical: anyInFiveMinutes(`${name} handler was throttled`) },
        });
      }
    });
  }

  /**
   * Depth of each dead-letter queue through the library's SQS monitor: any message visible in 5 minutes (Maximum at
   * or above 1), missing data NOT_BREACHING (SQS stops reporting an idle queue).
   */
  public monitorDeadLetterQueues(queues: readonly MonitoredQueue[]): cloudwatch.AlarmBase[] {
    return this.collect(() => {
      for (const { name, queue } of queues) {
        assertName(name, 'queue name');
        this.facade.monitorSqsQueue({
          queue,
          alarmFriendlyName: name,
          humanReadableName: `${name} (dead-letter queue)`,
          addQueueMaxSizeAlarm: {
            Critical: {
              maxMessageCount: 1,
              ...ANY_OCCURRENCE,
              alarmDescriptionOverride: `Messages waiting in dead-letter queue ${name}`,
            },
          },
        });
      }
    });
  }

  /**
   * Age of the oldest message through the library's SQS monitor: above the bound in 3 consecutive minutes, missing
   * data NOT_BREACHING (an empty queue publishes no age at all).
   */
  public monitorQueueAge(
    name: string,
    queue: MonitoredQueue['queue'],
    options: QueueAgeAlarmOptions,
  ): cloudwatch.AlarmBase[] {
    assertName(name, 'queue name');
    return this.collect(() =>
      this.facade.monitorSqsQueue({
        queue,
        alarmFriendlyName: name,
        humanReadableName: `${name} (queue)`,
        addQueueMaxMessageAgeAlarm: {
          Critical: {
            maxAgeInSeconds: options.maxAgeSeconds,
            period: Duration.minutes(1),
            evaluationPeriods: 3,
            datapointsToAlarm: 3,
            treatMissingDataOverride: NOT_BREACHING,
            alarmDescriptionOverride:
              options.description ?? `Age of the oldest message above ${options.maxAgeSeconds}s`,
          },
        },
      }),
    );
  }

  /** Matched events of failure rules: any match in 5 minutes, missing data NOT_BREACHING (no match, no failure). */
  public monitorRuleMatches(title: string, rules: readonly MonitoredRule[]): cloudwatch.AlarmBase[] {
    return this.addThresholdAlarms(
      title,
      rules.map((r) => ({
        name: r.name,
        description: r.description,
        metric: ruleMatchedEvents(r.rule),
        threshold: 1,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: NOT_BREACHING,
        evaluationPeriods: 1,
      })),
    );
  }

  /**
   * The library's Step Functions graphs, and one alarm on failed + timed-out + aborted executions in 5 minutes
   * (missing data NOT_BREACHING: no executions, no failures).
   */
  public monitorStateMachine(
    name: string,
    stateMachine: sfn.IStateMachine,
    description = `${name} executions failed, timed out or were aborted`,
  ): cloudwatch.AlarmBase[] {
    assertName(name, 'state machine name');
    this.facade.monitorStepFunction({ stateMachine, alarmFriendlyName: name, humanReadableName: `${name} executions` });
    const period = Duration.minutes(5);
    return this.addThresholdAlarms(`${name} failures`, [
      {
        name: 'Failures',
        description,
        metric: new cloudwatch.MathExpression({
          expression: 'failed + timedOut + aborted',
          usingMetrics: {
            failed: stateMachine.metricFailed({ period }),
            timedOut: stateMachine.metricTimedOut({ period }),
            aborted: stateMachine.metricAborted({ period }),
          },
          period,
        }),
        threshold: 1,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: NOT_BREACHING,
        evaluationPeriods: 1,
      },
    ]);
  }

  /**
   * CPU through the library's Aurora monitor and freeable memory as a threshold alarm (neither cluster monitor has
   * it); both 5-minute averages in 3 consecutive periods, with the missing-data treatment the caller decides.
   */
  public monitorAuroraCluster(
    name: string,
    cluster: rds.IDatabaseCluster,
    options: AuroraClusterAlarmOptions,
  ): cloudwatch.AlarmBase[] {
    assertName(name, 'cluster name');
    const cpuPercent = options.cpuPercent ?? 80;
    const minMemory = options.minFreeableMemoryBytes ?? 256 * 1024 ** 2;
    const fromLibrary = this.collect(() =>
      this.facade.monitorAuroraCluster({
        cluster,
        alarmFriendlyName: `${name}-Cluster`,
        humanReadableName: `${name} cluster`,
        addCpuUsageAlarm: {
          Critical: {
            maxUsagePercent: cpuPercent,
            comparisonOperatorOverride: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingDataOverride: options.treatMissingData,
            evaluationPeriods: 3,
            datapointsToAlarm: 3,
            alarmDescriptionOverride: `${name} CPU at or above ${cpuPercent}%`,
          },
        },
      }),
    );
    const custom = this.addThresholdAlarms(`${name} cluster memory`, [
      {
        name: 'FreeableMemory',
        description: `${name} freeable memory under ${Math.round(minMemory / 1024 ** 2)} MiB`,
        metric: cluster.metricFreeableMemory({ period: Duration.minutes(5) }),
        threshold: minMemory,
        comparison: LESS_THAN_THRESHOLD,
        treatMissingData: options.treatMissingData,
      },
    ]);
    return [...fromLibrary, ...custom];
  }

  /**
   * Cluster status red and index writes blocked through the library's OpenSearch monitor, per minute, missing data
   * BREACHING: the domain reports both every minute, so silence means it is not reporting at all.
   */
  public monitorOpenSearchDomain(
    name: string,
    domain: opensearch.IDomain,
    writesBlockedDescription = `${name} blocks index writes`,
  ): cloudwatch.AlarmBase[] {
    assertName(name, 'domain name');
    const everyMinute = {
      period: Duration.minutes(1),
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingDataOverride: BREACHING,
    };
    return this.collect(() =>
      this.facade.monitorOpenSearchCluster({
        domain,
        alarmFriendlyName: name,
        humanReadableName: `${name} domain`,
        // ClusterStatus.red is 0 or 1, and the library's status alarm is "above 0": the same as "at least 1".
        addClusterStatusAlarm: {
          Critical: {
            status: OpenSearchClusterStatus.RED,
            ...everyMinute,
            alarmDescriptionOverride: `${name} cluster status red`,
          },
        },
        addClusterIndexWritesBlockedAlarm: {
          Critical: {
            maxBlockedWrites: 1,
            comparisonOperatorOverride: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            ...everyMinute,
            alarmDescriptionOverride: writesBlockedDescription,
          },
        },
      }),
    );
  }

  /** Graphs without alarms, as one dashboard section. */
  public addGraphs(title: string, graphs: readonly MetricGraph[]): this {
    this.facade.monitorCustom({
      alarmFriendlyName: sectionName(title),
      humanReadableName: title,
      metricGroups: graphs.map((g) => ({ title: g.title, metrics: [...g.metrics] })),
    });
    return this;
  }

  /** Markdown text across the dashboard. */
  public addText(markdown: string, height = 2): this {
    this.facade.addWidget(new cloudwatch.TextWidget({ markdown, width: 24, height }));
    return this;
  }

  /** The state of every alarm created so far, as one widget across the dashboard. */
  public addAlarmStatus(title = 'Alarms'): this {
    this.facade.addWidget(new cloudwatch.AlarmStatusWidget({ title, alarms: this.alarms(), width: 24 }));
    return this;
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

/** Any occurrence in one 5-minute period; no data means nothing happened. */
const ANY_OCCURRENCE = {
  comparisonOperatorOverride: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  treatMissingDataOverride: NOT_BREACHING,
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
};

function anyInFiveMinutes(description: string) {
  return { maxErrorCount: 1, ...ANY_OCCURRENCE, alarmDescriptionOverride: description };
}

function cdcLatencyAlarms(task: DmsTaskDimensions, options: DmsCdcLatencyOptions): ThresholdAlarm[] {
  const bound = options.cdcLatencySeconds ?? 60;
  const note = options.descriptionNote ? `; ${options.descriptionNote}` : '';
  return (options.sides ?? ['Source', 'Target']).map((side) => ({
    name: `CdcLatency${side}`,
    description: `DMS CDCLatency${side} above ${bound}s, or no data (a stopped task emits none)${note}`,
    metric: dmsTaskMetric(task, `CDCLatency${side}`),
    threshold: bound,
    treatMissingData: BREACHING,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
  }));
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
