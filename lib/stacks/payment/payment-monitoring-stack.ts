import { CfnOutput, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ManagedReplicationTask } from '../../constructs/managed-replication-task';
import { AlarmTopic } from '../../constructs/monitoring/alarm-topic';
import { StageMonitoring } from '../../constructs/monitoring/stage-monitoring';

/** One side of the cutover (source or target), as the monitoring sees it. */
export interface MonitoredPaymentEnvironment {
  readonly database: rds.IDatabaseInstance;
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
}

export interface PaymentMonitoringStackProps extends StackProps {
  readonly envName: 'dev' | 'staging' | 'prod';
  readonly source: MonitoredPaymentEnvironment;
  readonly target: MonitoredPaymentEnvironment;
  /** The source → target full-load-and-CDC task. */
  readonly replicationTask: ManagedReplicationTask;
  /** Identifier of the replication instance running the task (the `ReplicationInstanceIdentifier` dimension). */
  readonly replicationInstanceIdentifier: string;
  /** The cross-region replication rule of the source transaction-log bucket. */
  readonly logReplication: {
    readonly sourceBucket: s3.IBucket;
    readonly destinationBucketName: string;
    readonly ruleId: string;
  };
  /** Subscribed to the alarm topic (must confirm). @default - no subscription */
  readonly alarmEmail?: string;
  /**
   * Starts every alarm name and names the dashboard; must differ between deployments sharing an account and Region
   * (sandboxes). @default `payment-<envName>`
   */
  readonly namePrefix?: string;
  /** Removal of the alarm topic's key. @default RETAIN in prod, DESTROY elsewhere (non-prod payment stages are disposable) */
  readonly keyRemovalPolicy?: RemovalPolicy;
  /** `CDCLatencySource` / `CDCLatencyTarget` bound, in seconds. @default 60 */
  readonly cdcLatencyThresholdSeconds?: number;
  /** Database CPU bound, both databases. @default 80 */
  readonly databaseCpuPercent?: number;
  /** Database connections bound, both databases. @default 400 */
  readonly databaseMaxConnections?: number;
  /** Free storage floor in bytes, both databases. @default 5 GiB */
  readonly databaseMinFreeStorageBytes?: number;
  /** Read + write IOPS bound, both databases. @default 2700 */
  readonly databaseMaxIops?: number;
  /** WAL held by the most lagging replication slot on the source, in bytes. @default 1 GiB */
  readonly replicationSlotLagBytes?: number;
  /** WAL disk usage on the source, in bytes. @default 5 GiB */
  readonly transactionLogsDiskUsageBytes?: number;
  /** ECS CPU bound, both services. @default 85 */
  readonly serviceCpuPercent?: number;
  /** ECS memory bound, both services. @default 85 */
  readonly serviceMemoryPercent?: number;
  /** 5xx answers per 5 minutes, both load balancers. @default 10 */
  readonly max5xxPer5Minutes?: number;
  /** p99 target response time in seconds, both load balancers. @default 2 */
  readonly p99LatencySeconds?: number;
  /** Unhealthy targets tolerated, both target groups. @default 0 */
  readonly maxUnhealthyHosts?: number;
  /** Log bucket replication latency bound, in seconds. @default 900 (S3 Replication Time Control) */
  readonly bucketReplicationLatencySeconds?: number;
}

/**
 * Alarms and the dashboard of a PaymentCutoverStage environment: both sides of the cutover, the DMS task between
 * the databases and the log bucket's cross-region replication. Every alarm notifies the stack's KMS-encrypted topic
 * on ALARM and OK.
 */
export class PaymentMonitoringStack extends Stack {
  public readonly alarmTopic: sns.ITopic;
  public readonly dashboard: cloudwatch.Dashboard;
  /**
   * Health of the application on both sides (databases, services, load balancers): the cutover workflow refuses
   * to start or continue while any of them is in ALARM.
   */
  public readonly appAlarms: cloudwatch.IAlarm[];
  /** Data movement: DMS CDC latency and validation, replication slot and WAL on the source, log bucket replication. */
  public readonly replicationAlarms: cloudwatch.IAlarm[];
  /** Every alarm of the stack. */
  public readonly alarms: cloudwatch.IAlarm[];

  constructor(scope: Construct, id: string, props: PaymentMonitoringStackProps) {
    super(scope, id, props);
    const name = props.namePrefix ?? `payment-${props.envName}`;
    const topic = new AlarmTopic(this, 'AlarmTopic', {
      displayName: `Payment cutover alarms (${props.envName})`,
      alarmNamePrefix: `${name}-`,
      keyRemovalPolicy:
        props.keyRemovalPolicy ?? (props.envName === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY),
      ...(props.alarmEmail ? { email: props.alarmEmail } : {}),
    });
    this.alarmTopic = topic.topic;
    const monitoring = new StageMonitoring(this, 'Monitoring', { name, alarmTopic: topic.topic });
    this.dashboard = monitoring.dashboard;

    const database = {
      ...(props.databaseCpuPercent !== undefined ? { cpuPercent: props.databaseCpuPercent } : {}),
      ...(props.databaseMaxConnections !== undefined ? { maxConnections: props.databaseMaxConnections } : {}),
      ...(props.databaseMinFreeStorageBytes !== undefined
        ? { minFreeStorageBytes: props.databaseMinFreeStorageBytes }
        : {}),
      ...(props.databaseMaxIops !== undefined ? { maxIops: props.databaseMaxIops } : {}),
    };
    const service = {
      ...(props.serviceCpuPercent !== undefined ? { cpuPercent: props.serviceCpuPercent } : {}),
      ...(props.serviceMemoryPercent !== undefined ? { memoryPercent: props.serviceMemoryPercent } : {}),
      ...(props.max5xxPer5Minutes !== undefined ? { max5xxPer5Minutes: props.max5xxPer5Minutes } : {}),
      ...(props.p99LatencySeconds !== undefined ? { p99LatencySeconds: props.p99LatencySeconds } : {}),
      ...(props.maxUnhealthyHosts !== undefined ? { maxUnhealthyHosts: props.maxUnhealthyHosts } : {}),
    };

    const app: cloudwatch.IAlarm[] = [];
    const replication: cloudwatch.IAlarm[] = [];
    for (const [side, env] of [
      ['Source', props.source],
      ['Target', props.target],
    ] as const) {
      monitoring.addHeader(`${side} environment (${props.envName})`);
      app.push(...monitoring.monitorService(side, env, service));
      app.push(...monitoring.monitorDatabase(side, env.database, database));
    }

    monitoring.addHeader(`Replication (${props.envName})`);
    replication.push(
      ...monitoring.monitorDmsTask(
        'Payments',
        {
          replicationInstanceIdentifier: props.replicationInstanceIdentifier,
          replicationTaskResourceId: props.replicationTask.taskResourceId,
        },
        props.cdcLatencyThresholdSeconds !== undefined ? { cdcLatencySeconds: props.cdcLatencyThresholdSeconds } : {},
      ),
      ...monitoring.monitorReplicationSource('Source', props.source.database, {
        ...(props.replicationSlotLagBytes !== undefined ? { maxSlotLagBytes: props.replicationSlotLagBytes } : {}),
        ...(props.transactionLogsDiskUsageBytes !== undefined
          ? { maxTransactionLogsBytes: props.transactionLogsDiskUsageBytes }
          : {}),
      }),
      ...monitoring.monitorBucketReplication(
        'Logs',
        props.logReplication,
        props.bucketReplicationLatencySeconds !== undefined
          ? { maxLatencySeconds: props.bucketReplicationLatencySeconds }
          : {},
      ),
    );
    this.appAlarms = app;
    this.replicationAlarms = replication;
    this.alarms = [...app, ...replication];

    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topic.topicArn, description: 'Alarm notifications' });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });
  }
}
