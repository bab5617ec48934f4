import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { retryThrottling as retryThrottlingOn } from '../throttling-retry';
import { Construct } from 'constructs';
import type { CutoverChecksEnvironment } from '../../../lambda/cutover-checks/config';
import type { PlanDefaults } from '../../../lambda/cutover-checks/plan';
import type { CutoverFenceEnvironment } from '../../../lambda/cutover-fence/config';
import { handlerEnvironment, MigrationFunction } from '../migration-function';
import { ParameterRef, RuntimeOwnedParameter } from '../runtime-owned-parameter';
import { acknowledgeChangeWildcard } from './weighted-service-routing';

/** One environment (source or target) as the workflow sees it. */
export interface CutoverSide {
  /** The environment's PostgreSQL instance: its endpoint goes into the database pointer. */
  readonly database: rds.IDatabaseInstance;
  /**
   * Admin credentials (`username`, `password`, `host`, `port`, `dbname`) the fence function uses to
   * alter the application role and read positions. Not the application's or DMS's secret.
   */
  readonly databaseAdminSecret: secretsmanager.ISecret;
  /** The environment's Fargate service; the workflow forces a new deployment after moving the pointer. */
  readonly service: ecs.IBaseService;
  /** Cluster of `service` (DescribeServices and UpdateService are per cluster). */
  readonly cluster: ecs.ICluster;
  /** Target group of the service; the target's health is a pre-check. */
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  /** Load balancer of the environment; its `RequestCount` is the observed traffic share. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
}

/** A DMS task as the workflow needs it. */
export interface CutoverReplicationTask {
  readonly taskArn: string;
  /** Last field of the ARN, the `ReplicationTaskIdentifier` dimension of DMS metrics (`ManagedReplicationTask.taskResourceId`). */
  readonly taskResourceId: string;
}

/** The Route 53 weighted records the workflow owns at run time. */
export interface CutoverRouting {
  readonly hostedZoneId: string;
  /** Record name, e.g. `pay.example.com` (with or without the final dot). */
  readonly recordName: string;
  /** @default 'A' */
  readonly recordType?: string;
  readonly sourceSetIdentifier: string;
  readonly targetSetIdentifier: string;
}

/** Gate thresholds a plan may tighten (never loosen: the plan is validated against these). */
export interface CutoverThresholds {
  /** @default 60 (the stage's CDC latency alarm) */
  readonly cdcLatencySeconds?: number;
  /** Largest difference between intended and observed target share, 0-1. @default 0.1 */
  readonly splitTolerance?: number;
  /** Fewest requests in a gate window for the split to be judged. @default 100 */
  readonly minRequests?: number;
  /** @default 1 */
  readonly minHealthyTargets?: number;
}

export interface CutoverWorkflowProps {
  /** Environment name; goes into names, parameters and notifications. */
  readonly envName: string;
  readonly source: CutoverSide;
  readonly target: CutoverSide;
  /** The source → target full-load-and-CDC task. */
  readonly forwardTask: CutoverReplicationTask;
  /** The target → source CDC-only task, created stopped (`ready`) with the stage and started at the flip. */
  readonly reverseTask: CutoverReplicationTask;
  /** Identifier of the replication instance both tasks run on (the metric dimension). */
  readonly replicationInstanceIdentifier: string;
  readonly routing: CutoverRouting;
  /** Application alarms: any in ALARM fails a pre-check, ends a bake and fails a gate. */
  readonly appAlarms: cloudwatch.IAlarm[];
  /** The stage's (KMS-encrypted) topic: every decision is published here. */
  readonly notificationTopic: sns.ITopic;
  readonly vpc: ec2.IVpc;
  /** Subnets of the fence function; it needs the databases and Secrets Manager. @default PRIVATE_WITH_EGRESS */
  readonly fenceSubnets?: ec2.SubnetSelection;
  /**
   * Security group of the fence function. The construct opens each database's port to it.
   * @default a new group with outbound traffic allowed
   */
  readonly fenceSecurityGroup?: ec2.ISecurityGroup;
  /** PostgreSQL role the application connects as (fenced and unfenced). @default 'payment_app' */
  readonly applicationRoleName?: string;
  /** Database name when the admin secret has no `dbname`. @default 'payments' */
  readonly databaseName?: string;
  /** Schemas whose sequences are advanced and whose writes are counted. @default ['payments'] */
  readonly schemas?: string[];
  /** Added to the other side's sequence value when sequences are advanced. @default 1000 */
  readonly sequenceMargin?: number;
  /** Port the application uses on the databases (goes into the pointer). @default 5432 */
  readonly databasePort?: number;
  /** @default see CutoverThresholds */
  readonly thresholds?: CutoverThresholds;
  /** CDC latency that counts as drained at the flip and in a rollback. @default 0 (the "zero") */
  readonly drainLatencySeconds?: number;
  /** Longest wait for a drain, the validation pass, a task start or stop, or a deployment. @default 15 minutes */
  readonly phaseTimeout?: Duration;
  /** Whole execution. @default 24 hours */
  readonly executionTimeout?: Duration;
  /** Bake check interval when the plan gives none. @default 60 seconds */
  readonly defaultCheckInterval?: Duration;
  /** How long the approval waits; rejection and timeout change nothing. @default 30 minutes */
  readonly approvalTimeout?: Duration;
  /**
   * The database pointer when it is created elsewhere (with the source database, so both services can read
   * it from their first task): a `RuntimeOwnedParameter` whose initial value is `initialDatabasePointer(...)`.
   * @default created here under `parameterPrefix`
   */
  readonly databasePointer?: ParameterRef;
  /** Prefix of the SSM parameters the construct writes. @default `/payment/<envName>/cutover` */
  readonly parameterPrefix?: string;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Key for the functions' dead-letter queues. @default SQS-managed encryption */
  readonly dlqKey?: kms.IKey;
  /** Key for the functions' and the state machine's log groups. @default encrypted by CloudWatch Logs with a service key */
  readonly logKey?: kms.IKey;
}

/** Names of the SSM parameters under the prefix. */
export const CUTOVER_PARAMETERS = {
  stateMachineArn: 'state-machine-arn',
  databasePointer: 'database-pointer',
  command: 'command',
} as const;

/**
 * The database pointer's value before any cutover: the source is the writer. Services read the pointer
 * (JSON `{ writer, host, port, execution, since? }`) at task start; the workflow rewrites it at the flip.
 */
export function initialDatabasePointer(scope: Stack, sourceHost: string, port: number): string {
  return scope.toJsonString({ writer: 'source', host: sourceHost, port: String(port), execution: 'deployment' });
}

/** Seconds between looks while a drain, validation, task transition or deployment is awaited. */
export const PHASE_POLL_SECONDS = 30;
/** Seconds between looks while Route 53 propagates a change. */
export const DNS_POLL_SECONDS = 10;

/** Throttling and transient errors of the SDK integrations ("<Service>.<Error>Exception"). */
export const THROTTLING_ERRORS = [
  'DatabaseMigration.ThrottlingException',
  'CloudWatch.ThrottlingException',
  'CloudWatch.LimitExceededException',
  'Route53.ThrottlingException',
  'Route53.PriorRequestNotCompleteException',
  'Ecs.ThrottlingException',
  'Ssm.ThrottlingException',
  'Ssm.TooManyUpdatesException',
  'ElasticLoadBalancingV2.ThrottlingException',
  'Sns.ThrottledException',
  'SNS.ThrottledException',
  'Lambda.TooManyRequestsException',
];

/**
 * The payment cutover workflow (issue 11): a Step Functions state machine that validates a plan,
 * pre-checks data and service health, waits for approval, shifts Route 53 weights in steps with
 * bakes and data gates, makes the single fenced write flip (source read-only, forward CDC drained,
 * validation pass, sequences advanced, positions recorded, reverse CDC started, target writable,
 * pointer moved, services redeployed), and rolls back on a failed gate or by command.
 *
 * It owns at run time: the Route 53 weights of `routing` (read before every change), the database
 * pointer parameter (services read it as a secret at task start), and the command parameter the CLI
 * writes. `cdk deploy` creates the parameters once and never rewrites them. See docs/cutover-workflow.md.
 */
export class CutoverWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  public readonly checksFunction: MigrationFunction;
  public readonly fenceFunction: MigrationFunction;
  public readonly fenceSecurityGroup: ec2.ISecurityGroup;
  /** JSON `{ writer, host, port, execution, since }`; wire it into both services' containers as a secret. */
  public readonly databasePointerParameterName: string;
  public readonly databasePointerParameterArn: string;
  public readonly commandParameterName: string;
  public readonly commandParameterArn: string;
  /** Holds the state machine ARN; the CLI finds the workflow through it. */
  public readonly stateMachineArnParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: CutoverWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const prefix = props.parameterPrefix ?? `/payment/${props.envName}/cutover`;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const port = props.databasePort ?? 5432;
    const schemas = props.schemas ?? ['payments'];
    const phaseTimeout = props.phaseTimeout ?? Duration.minutes(15);
    const phaseAttempts = Math.max(1, Math.ceil(phaseTimeout.toSeconds() / PHASE_POLL_SECONDS));
    const executionTimeout = props.executionTimeout ?? Duration.hours(24);
    const t = props.thresholds ?? {};
    const thresholds = {
      cdcLatencySeconds: t.cdcLatencySeconds ?? 60,
      splitTolerance: t.splitTolerance ?? 0.1,
      minRequests: t.minRequests ?? 100,
      minHealthyTargets: t.minHealthyTargets ?? 1,
    };
    const drainLatencySeconds = props.drainLatencySeconds ?? 0;
    const approvalTimeout = props.approvalTimeout ?? Duration.minutes(30);
    const appAlarmNames = props.appAlarms.map((a) => a.alarmName);
    if (appAlarmNames.length === 0) throw new Error(`${this.node.path}: appAlarms must name at least one alarm`);
    if (appAlarmNames.length > 100) throw new Error(`${this.node.path}: DescribeAlarms takes at most 100 alarm names`);

    // ---- parameters --------------------------------------------------------------------------
    const pointer: ParameterRef =
      props.databasePointer ??
      new RuntimeOwnedParameter(
        this,
        'DatabasePointer',
        `${prefix}/${CUTOVER_PARAMETERS.databasePointer}`,
        initialDatabasePointer(stack, props.source.database.dbInstanceEndpointAddress, port),
      );
    const command = new RuntimeOwnedParameter(
      this,
      'Command',
      `${prefix}/${CUTOVER_PARAMETERS.command}`,
      JSON.stringify({ command: 'none', execution: 'none' }),
    );
    this.databasePointerParameterName = pointer.parameterName;
    this.databasePointerParameterArn = pointer.parameterArn;
    this.commandParameterName = command.parameterName;
    this.commandParameterArn = command.parameterArn;

    // ---- functions ---------------------------------------------------------------------------
    const fnCommon = {
      logRetention,
      ...(props.logRemovalPolicy !== undefined ? { logRemovalPolicy: props.logRemovalPolicy } : {}),
      ...(props.dlqKey !== undefined ? { dlqKey: props.dlqKey } : {}),
      ...(props.logKey !== undefined ? { logKey: props.logKey } : {}),
    };
    this.checksFunction = new MigrationFunction(this, 'ChecksFunction', {
      ...fnCommon,
      handlerName: 'cutover-checks',
      description: `Cutover ${props.envName}: validates plans and judges pre-checks, gates, drains and deployments`,
      timeout: Duration.seconds(30),
      environment: handlerEnvironment<CutoverChecksEnvironment>({
        CUTOVER_PLAN_DEFAULTS: JSON.stringify({
          thresholds,
          approvalTimeoutSeconds: approvalTimeout.toSeconds(),
          checkIntervalSeconds: (props.defaultCheckInterval ?? Duration.seconds(60)).toSeconds(),
          // The flip and a rollback each wait at most a few phase timeouts; bakes and approval get the rest.
          budgetSeconds: executionTimeout.toSeconds() - 8 * phaseTimeout.toSeconds(),
        } satisfies PlanDefaults),
      }),
    });
    const sequenceMargin = props.sequenceMargin ?? 1000;
    if (!Number.isSafeInteger(sequenceMargin) || sequenceMargin < 0) {
      throw new Error(`${this.node.path}: sequenceMargin must be a whole number of 0 or more, got ${sequenceMargin}`);
    }
    this.fenceSecurityGroup =
      props.fenceSecurityGroup ??
      new ec2.SecurityGroup(this, 'FenceSecurityGroup', {
        vpc: props.vpc,
        description: `Cutover ${props.envName} database fence: PostgreSQL to both databases, HTTPS to Secrets Manager`,
        allowAllOutbound: true,
      });
    this.fenceFunction = new MigrationFunction(this, 'FenceFunction', {
      ...fnCommon,
      handlerName: 'cutover-fence',
      description: `Cutover ${props.envName}: makes a database read-only or writable for the application role`,
      timeout: Duration.seconds(60),
      vpc: props.vpc,
      vpcSubnets: props.fenceSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.fenceSecurityGroup],
      environment: handlerEnvironment<CutoverFenceEnvironment>({
        SOURCE_SECRET_ARN: props.source.databaseAdminSecret.secretArn,
        TARGET_SECRET_ARN: props.target.databaseAdminSecret.secretArn,
        APP_ROLE_NAME: props.applicationRoleName ?? 'payment_app',
        DATABASE_NAME: props.databaseName ?? 'payments',
        SCHEMAS: schemas.join(','),
        SEQUENCE_MARGIN: String(sequenceMargin),
        // Node 20+ Lambda runtimes load the RDS CA bundle only when asked to (TLS to RDS with verification).
        NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
      }),
    });
    // Statements on the function's role rather than Secret.grantRead, which would add the role to the
    // secrets' key policy: the key usually lives in an earlier stack, which must not depend on this one.
    for (const secret of [props.source.databaseAdminSecret, props.target.databaseAdminSecret]) {
      this.fenceFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [secret.secretArn],
        }),
      );
      if (secret.encryptionKey) {
        this.fenceFunction.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['kms:Decrypt'],
            resources: [secret.encryptionKey.keyArn],
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
          }),
        );
      }
    }
    // A literal port: the instance's default port is its endpoint attribute, which would make the
    // security groups' stack reference the database's.
    for (const database of [props.source.database, props.target.database]) {
      database.connections.allowFrom(this.fenceSecurityGroup, ec2.Port.tcp(port), 'Cutover fence function');
    }

    // ---- building blocks -----------------------------------------------------------------------
    const retry = <T extends sfn.TaskStateBase>(state: T): T => retryThrottlingOn(state, THROTTLING_ERRORS);
    const sdkTimeout = sfn.Timeout.duration(Duration.seconds(60));
    const sdk = (
      name: string,
      service: string,
      action: string,
      iamAction: string,
      iamResources: string[],
      parameters: Record<string, unknown>,
      resultPath: string,
      resultSelector?: Record<string, unknown>,
    ) =>
      retry(
        new tasks.CallAwsService(this, name, {
          service,
          action,
          iamAction,
          iamResources,
          parameters,
          resultPath: resultPath === 'DISCARD' ? sfn.JsonPath.DISCARD : resultPath,
          ...(resultSelector ? { resultSelector } : {}),
          taskTimeout: sdkTimeout,
        }),
      );
    const invoke = (name: string, fn: MigrationFunction, payload: Record<string, unknown>, resultPath: string) =>
      retry(
        new tasks.LambdaInvoke(this, name, {
          lambdaFunction: fn,
          payload: sfn.TaskInput.fromObject(payload),
          payloadResponseOnly: true,
          resultPath,
          taskTimeout: sfn.Timeout.duration(Duration.seconds(fn === this.fenceFunction ? 90 : 40)),
        }),
      );
    const checks = (name: string, payload: Record<string, unknown>, resultPath: string) =>
      invoke(name, this.checksFunction, payload, resultPath);
    const fence = (name: string, payload: Record<string, unknown>, resultPath: string) =>
      invoke(name, this.fenceFunction, payload, resultPath);
    const notify = (name: string, decision: string, fields: Record<string, unknown>) =>
      retry(
        new tasks.SnsPublish(this, name, {
          topic: props.notificationTopic,
          subject: `Payment cutover ${props.envName}: ${decision}`,
          message: sfn.TaskInput.fromObject({
            decision,
            environment: props.envName,
            execution: sfn.JsonPath.executionId,
            ...fields,
          }),
          messageAttributes: { decision: { value: decision } },
          resultPath: sfn.JsonPath.DISCARD,
          taskTimeout: sdkTimeout,
        }),
      );
    /** A notification never stops the workflow: on failure it goes on to the same next state. */
    const notifyThen = (name: string, decision: string, fields: Record<string, unknown>, next: sfn.IChainable) => {
      const n = notify(name, decision, fields);
      n.addCatch(next, { errors: ['States.ALL'], resultPath: '$.notificationError' });
      return n.next(next);
    };

    /**
     * The task that carries the writer's changes: the forward task until the flip, the reverse task
     * after it (`$.replication`, switched by the flip). Gates read this one.
     */
    const current: CutoverReplicationTask = {
      taskArn: sfn.JsonPath.stringAt('$.replication.taskArn'),
      taskResourceId: sfn.JsonPath.stringAt('$.replication.taskResourceId'),
    };
    const replicationOf = (task: CutoverReplicationTask) => ({
      taskArn: task.taskArn,
      taskResourceId: task.taskResourceId,
    });
    const arnsOf = (task: CutoverReplicationTask) =>
      task === current ? [props.forwardTask.taskArn, props.reverseTask.taskArn] : [task.taskArn];
    const describeTask = (name: string, task: CutoverReplicationTask, resultPath: string) =>
      sdk(
        name,
        'databasemigration',
        'describeReplicationTasks',
        'dms:DescribeReplicationTasks',
        ['*'], // no resource-level permissions
        {
          Filters: [
            {
              Name: 'replication-task-arn',
              Values: task === current ? sfn.JsonPath.array(task.taskArn) : [task.taskArn],
            },
          ],
          WithoutSettings: true,
        },
        resultPath,
      );
    const tableStatistics = (name: string, task: CutoverReplicationTask, resultPath: string) =>
      sdk(
        name,
        'databasemigration',
        'describeTableStatistics',
        'dms:DescribeTableStatistics',
        arnsOf(task),
        { ReplicationTaskArn: task.taskArn, MaxRecords: 500 },
        resultPath,
      );
    const dmsQueries = (task: CutoverReplicationTask) =>
      (['Source', 'Target'] as const).map((side) => ({
        Id: `cdcLatency${side}`,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/DMS',
            MetricName: `CDCLatency${side}`,
            Dimensions: [
              { Name: 'ReplicationInstanceIdentifier', Value: props.replicationInstanceIdentifier },
              { Name: 'ReplicationTaskIdentifier', Value: task.taskResourceId },
            ],
          },
          Period: 60,
          Stat: 'Maximum',
        },
      }));
    const requestQueries = (['Source', 'Target'] as const).map((side) => ({
      Id: `requests${side}`,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/ApplicationELB',
          MetricName: 'RequestCount',
          Dimensions: [
            {
              Name: 'LoadBalancer',
              // The dimension CDK derives from the load balancer itself (app/<name>/<id>), never rebuilt from a name.
              Value: (side === 'Source' ? props.source : props.target).loadBalancer.metrics.requestCount().dimensions
                ?.LoadBalancer,
            },
          ],
        },
        Period: 60,
        Stat: 'Sum',
      },
    }));
    const metrics = (name: string, queries: object[], startPath: string, resultPath: string) =>
      sdk(
        name,
        'cloudwatch',
        'getMetricData',
        'cloudwatch:GetMetricData',
        ['*'], // no resource-level permissions
        {
          StartTime: sfn.JsonPath.stringAt(startPath),
          EndTime: sfn.JsonPath.stringAt('$$.State.EnteredTime'),
          ScanBy: 'TimestampDescending',
          MetricDataQueries: queries,
        },
        resultPath,
        { 'MetricDataResults.$': '$.MetricDataResults' },
      );
    const alarmArns = props.appAlarms.map((a) => a.alarmArn);
    const describeAlarms = (name: string, resultPath: string, onlyFiring: boolean) =>
      sdk(
        name,
        'cloudwatch',
        'describeAlarms',
        'cloudwatch:DescribeAlarms',
        alarmArns,
        {
          AlarmNames: appAlarmNames,
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          ...(onlyFiring ? { StateValue: 'ALARM' } : {}),
        },
        resultPath,
        { 'MetricAlarms.$': '$.MetricAlarms', 'CompositeAlarms.$': '$.CompositeAlarms' },
      );
    const hostedZoneArn = stack.formatArn({
      service: 'route53',
      region: '',
      account: '',
      resource: 'hostedzone',
      resourceName: props.routing.hostedZoneId,
    });
    const routingPayload = {
      recordName: props.routing.recordName,
      recordType: props.routing.recordType ?? 'A',
      sourceSetIdentifier: props.routing.sourceSetIdentifier,
      targetSetIdentifier: props.routing.targetSetIdentifier,
    };
    const readRecords = (name: string, resultPath: string) =>
      sdk(
        name,
        'route53',
        'listResourceRecordSets',
        'route53:ListResourceRecordSets',
        [hostedZoneArn],
        {
          HostedZoneId: props.routing.hostedZoneId,
          StartRecordName: props.routing.recordName,
          StartRecordType: props.routing.recordType ?? 'A',
          MaxItems: '20',
        },
        resultPath,
        { 'ResourceRecordSets.$': '$.ResourceRecordSets' },
      );
    const changeRecords = (name: string) =>
      sdk(
        name,
        'route53',
        'changeResourceRecordSets',
        'route53:ChangeResourceRecordSets',
        [hostedZoneArn],
        {
          HostedZoneId: props.routing.hostedZoneId,
          ChangeBatch: {
            Comment: sfn.JsonPath.format('payment cutover {}', sfn.JsonPath.executionName),
            'Changes.$': '$.weights.changes',
          },
        },
        '$.change',
        { 'id.$': '$.ChangeInfo.Id', 'submittedAt.$': '$.ChangeInfo.SubmittedAt', 'status.$': '$.ChangeInfo.Status' },
      );
    const sideOf = (side: 'source' | 'target') => (side === 'source' ? props.source : props.target);
    const redeploy = (name: string, side: 'source' | 'target') =>
      sdk(
        name,
        'ecs',
        'updateService',
        'ecs:UpdateService',
        [sideOf(side).service.serviceArn],
        {
          Cluster: sideOf(side).cluster.clusterArn,
          Service: sideOf(side).service.serviceArn,
          ForceNewDeployment: true,
        },
        'DISCARD',
      );
    const describeService = (name: string, side: 'source' | 'target', resultPath: string) =>
      sdk(
        name,
        'ecs',
        'describeServices',
        'ecs:DescribeServices',
        [sideOf(side).service.serviceArn],
        { Cluster: sideOf(side).cluster.clusterArn, Services: [sideOf(side).service.serviceArn] },
        resultPath,
        // Only names and deployments: a service description carries up to 100 events (payload limit 256 KB).
        { 'names.$': '$.Services[*].ServiceName', 'deployments.$': '$.Services[*].Deployments' },
      );
    const startTask = (name: string, task: CutoverReplicationTask, type: string) =>
      sdk(
        name,
        'databasemigration',
        'startReplicationTask',
        'dms:StartReplicationTask',
        [task.taskArn],
        { ReplicationTaskArn: task.taskArn, StartReplicationTaskType: type },
        'DISCARD',
      );
    const stopTask = (name: string, task: CutoverReplicationTask) =>
      sdk(
        name,
        'databasemigration',
        'stopReplicationTask',
        'dms:StopReplicationTask',
        [task.taskArn],
        { ReplicationTaskArn: task.taskArn },
        'DISCARD',
      );
    const putPointer = (name: string) =>
      sdk(
        name,
        'ssm',
        'putParameter',
        'ssm:PutParameter',
        [pointer.parameterArn],
        {
          Name: pointer.parameterName,
          Type: 'String',
          Overwrite: true,
          Value: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt(`$.pointer`)),
        },
        'DISCARD',
      );
    const pointerTo = (name: string, writer: 'source' | 'target') =>
      new sfn.Pass(this, name, {
        parameters: {
          writer,
          host: sideOf(writer).database.dbInstanceEndpointAddress,
          port: String(port),
          'execution.$': '$$.Execution.Name',
          'since.$': '$$.State.EnteredTime',
        },
        resultPath: '$.pointer',
      });
    /** A counter for bounded polling loops: sets `path` to `attempts`. */
    const setCounter = (name: string, path: string, attempts: number) =>
      new sfn.Pass(this, name, { result: sfn.Result.fromNumber(attempts), resultPath: path });
    const decrement = (name: string, path: string) =>
      new sfn.Pass(this, name, { parameters: { 'n.$': `States.MathAdd(${path}, -1)` }, resultPath: `${path}Next` });
    const wait = (name: string, seconds: number) =>
      new sfn.Wait(this, name, { time: sfn.WaitTime.duration(Duration.seconds(seconds)) });
    const reason = (name: string, code: string, detailPath?: string) =>
      new sfn.Pass(this, name, {
        parameters: { code, ...(detailPath ? { 'detail.$': detailPath } : { detail: code }) },
        resultPath: '$.rollback',
      });
    const catchTo = (state: sfn.TaskStateBase, handler: sfn.IChainable) =>
      state.addCatch(handler, { errors: ['States.ALL'], resultPath: '$.error' });
    /** A Fail whose cause is an object of the state, as text (a Pass renders it: CausePath takes a plain path here). */
    const failWith = (name: string, error: string, objectPath: string) =>
      new sfn.Pass(this, `${name} Cause`, {
        parameters: { 'text.$': `States.JsonToString(${objectPath})` },
        resultPath: '$.cause',
      }).next(new sfn.Fail(this, name, { error, causePath: '$.cause.text' }));

    // =================================================================================== rollback
    // Ends: a cutover that rolled back fails (Cutover.RolledBack); a rollback command execution succeeds.
    const rolledBackFail = failWith('Rolled Back', 'Cutover.RolledBack', '$.rollback');
    const rollbackDone = new sfn.Succeed(this, 'Rollback Complete');
    const endRollback = new sfn.Choice(this, 'Rollback By Command?')
      .when(sfn.Condition.stringEquals('$.action', 'rollback'), rollbackDone)
      .otherwise(rolledBackFail);
    const notifyRolledBack = notifyThen(
      'Notify Rolled Back',
      'ROLLED_BACK',
      { rollback: sfn.JsonPath.objectAt('$.rollback'), report: sfn.JsonPath.objectAt('$.report') },
      endRollback,
    );
    const reconcile = checks(
      'Reconcile',
      {
        op: 'reconcile',
        'phase.$': '$.phase',
        'reason.$': '$.rollback',
        'atFlip.$': '$.flip.counters',
        'atRollback.$': '$.rollbackData.counters',
        'reverseTables.$': '$.rollbackData.reverseTables',
        'resumeForwardFrom.$': '$.rollbackData.resumeForwardFrom',
      },
      '$.report',
    );
    const reconcileWeightsOnly = checks(
      'Reconcile Weights Only',
      { op: 'reconcile', 'phase.$': '$.phase', 'reason.$': '$.rollback' },
      '$.report',
    );

    // Something failed inside the rollback: stop where we are (never unfence anything) and alert.
    const rollbackStuck = failWith('Rollback Stuck', 'Cutover.RollbackFailed', '$.rollbackError');
    const alertRollbackFailed = notifyThen(
      'Alert Rollback Failed',
      'ROLLBACK_FAILED',
      {
        rollback: sfn.JsonPath.objectAt('$.rollback'),
        error: sfn.JsonPath.objectAt('$.rollbackError'),
        action:
          'Manual: the databases stay as they are (a fenced database stays fenced). Read docs/cutover-workflow.md.',
      },
      rollbackStuck,
    );
    const rbCatch = <T extends sfn.TaskStateBase>(s: T): T => {
      s.addCatch(alertRollbackFailed, { errors: ['States.ALL'], resultPath: '$.rollbackError' });
      return s;
    };

    // Reverse replication failed while draining: both databases stay fenced (no writer, never two).
    const stuckFenced = new sfn.Fail(this, 'Stuck Fenced', {
      error: 'Cutover.ReverseReplicationFailed',
      cause: 'The reverse task failed during a rollback; both databases stay read-only for the application.',
    });
    const alertStuckFenced = notifyThen(
      'Alert Reverse Replication Failed',
      'REVERSE_REPLICATION_FAILED',
      {
        rollback: sfn.JsonPath.objectAt('$.rollback'),
        reverseDrain: sfn.JsonPath.objectAt('$.rollbackData.drain'),
        action:
          'Both databases stay read-only for the application. Repair the reverse task and drain it, or reconcile by hand, then unfence one side.',
      },
      stuckFenced,
    );

    // ---- post-flip rollback: target fenced, reverse drained, source writable again
    const rbRedeploySource = rbCatch(redeploy('Rollback: Redeploy Source Service', 'source'));
    const rbRedeployTarget = rbCatch(redeploy('Rollback: Redeploy Target Service', 'target'));
    const rbReverseTables = rbCatch(
      tableStatistics('Rollback: Reverse Table Statistics', props.reverseTask, '$.rollbackData.reverseTables'),
    );
    rbRedeploySource.next(rbRedeployTarget).next(rbReverseTables).next(rbCatch(reconcile)).next(notifyRolledBack);
    const rbPointSource = rbCatch(putPointer('Rollback: Point At Source'));
    const rbUnfenceSource = rbCatch(
      fence('Rollback: Unfence Source', { op: 'unfence', side: 'source' }, '$.rollbackData.unfence'),
    );
    rbUnfenceSource.next(pointerTo('Rollback: Source Pointer', 'source')).next(rbPointSource).next(rbRedeploySource);
    const rbCountTarget = rbCatch(
      fence('Rollback: Counters Target', { op: 'counters', side: 'target' }, '$.rollbackData.counters.target'),
    );
    const rbCountSource = rbCatch(
      fence('Rollback: Counters Source', { op: 'counters', side: 'source' }, '$.rollbackData.counters.source'),
    );
    const rbPosition = rbCatch(
      fence('Rollback: Record Source Position', { op: 'position', side: 'source' }, '$.rollbackData.sourcePosition'),
    );
    const rbResumePoint = new sfn.Pass(this, 'Rollback: Forward Resume Point', {
      parameters: {
        replicationTaskArn: props.forwardTask.taskArn,
        'cdcStartPosition.$': '$.rollbackData.sourcePosition.lsn',
        'cdcStartTime.$': '$.rollbackData.sourcePosition.at',
      },
      resultPath: '$.rollbackData.resumeForwardFrom',
    });
    const rbSequences = rbCatch(
      fence(
        'Rollback: Advance Source Sequences',
        { op: 'advance-sequences', from: 'target', to: 'source' },
        '$.rollbackData.sequences',
      ),
    );
    const rbStopReverse = rbCatch(stopTask('Rollback: Stop Reverse Task', props.reverseTask));
    rbStopReverse
      .next(rbSequences)
      .next(rbPosition)
      .next(rbResumePoint)
      .next(rbCountSource)
      .next(rbCountTarget)
      .next(rbUnfenceSource);

    const rbDrainWait = wait('Rollback: Wait For Reverse Drain', PHASE_POLL_SECONDS);
    const rbDrainDescribe = rbCatch(
      describeTask('Rollback: Describe Reverse Task', props.reverseTask, '$.reads.reverseTask'),
    );
    const rbDrainMetrics = rbCatch(
      metrics(
        'Rollback: Read Reverse CDC Latency',
        dmsQueries(props.reverseTask),
        '$.rollbackData.fence.at',
        '$.reads.reverseMetrics',
      ),
    );
    const rbDrainEval = rbCatch(
      checks(
        'Rollback: Evaluate Reverse Drain',
        {
          op: 'drain',
          'task.$': '$.reads.reverseTask',
          'metrics.$': '$.reads.reverseMetrics',
          'since.$': '$.rollbackData.fence.at',
          bound: drainLatencySeconds,
        },
        '$.rollbackData.drain',
      ),
    );
    const rbDrainCount = decrement('Rollback: Count Drain Look', '$.counters.rollbackDrain');
    const rbDrainCountApply = new sfn.Pass(this, 'Rollback: Drain Looks Left', {
      inputPath: '$.counters.rollbackDrainNext.n',
      resultPath: '$.counters.rollbackDrain',
    });
    rbDrainWait
      .next(rbDrainDescribe)
      .next(rbDrainMetrics)
      .next(rbDrainEval)
      .next(
        new sfn.Choice(this, 'Rollback: Reverse Drained?')
          .when(sfn.Condition.booleanEquals('$.rollbackData.drain.drained', true), rbStopReverse)
          .when(sfn.Condition.booleanEquals('$.rollbackData.drain.taskFailed', true), alertStuckFenced)
          .when(sfn.Condition.numberLessThanEquals('$.counters.rollbackDrain', 1), alertStuckFenced)
          .otherwise(rbDrainCount.next(rbDrainCountApply).next(rbDrainWait)),
      );
    const rbFenceTarget = rbCatch(
      fence('Rollback: Fence Target', { op: 'fence', side: 'target' }, '$.rollbackData.fence'),
    );
    rbFenceTarget
      .next(setCounter('Rollback: Start Drain Count', '$.counters.rollbackDrain', phaseAttempts))
      .next(rbDrainWait);

    // ---- fenced but target never writable: undo the flip's first half
    const fdUnfenceSource = rbCatch(
      fence('Rollback: Unfence Source Before Flip', { op: 'unfence', side: 'source' }, '$.rollbackData.unfence'),
    );
    fdUnfenceSource.next(reconcileWeightsOnly);
    const fdResumeForward = rbCatch(startTask('Rollback: Resume Forward Task', props.forwardTask, 'resume-processing'));
    const fdForwardWait = wait('Rollback: Wait For Forward Task', PHASE_POLL_SECONDS);
    const fdDescribeForward = rbCatch(
      describeTask('Rollback: Describe Forward Task', props.forwardTask, '$.reads.forwardTask'),
    );
    fdResumeForward.next(fdUnfenceSource);
    fdForwardWait.next(fdDescribeForward);
    const fdStopReverse = rbCatch(stopTask('Rollback: Stop Unused Reverse Task', props.reverseTask));
    const fdDescribeReverse = rbCatch(
      describeTask('Rollback: Describe Unused Reverse Task', props.reverseTask, '$.reads.reverseTask'),
    );
    fdStopReverse.next(fdForwardWait);
    fdDescribeReverse.next(
      new sfn.Choice(this, 'Rollback: Reverse Task Started?')
        .when(
          sfn.Condition.or(
            sfn.Condition.stringEquals('$.reads.reverseTask.ReplicationTasks[0].Status', 'running'),
            sfn.Condition.stringEquals('$.reads.reverseTask.ReplicationTasks[0].Status', 'starting'),
          ),
          fdStopReverse,
        )
        .otherwise(fdForwardWait),
    );
    fdDescribeForward.next(
      new sfn.Choice(this, 'Rollback: Forward Task Status?')
        .when(sfn.Condition.stringEquals('$.reads.forwardTask.ReplicationTasks[0].Status', 'stopped'), fdResumeForward)
        .when(sfn.Condition.stringEquals('$.reads.forwardTask.ReplicationTasks[0].Status', 'running'), fdUnfenceSource)
        .when(sfn.Condition.stringEquals('$.reads.forwardTask.ReplicationTasks[0].Status', 'stopping'), fdForwardWait)
        // failed or anything else: the source stays fenced until someone looks (the target never took writes).
        .otherwise(alertRollbackFailed),
    );

    // ---- every rollback starts here: weights back to the source first
    reconcileWeightsOnly.next(notifyRolledBack);
    rbCatch(reconcileWeightsOnly);
    const byPhase = new sfn.Choice(this, 'Rollback Phase?')
      .when(sfn.Condition.stringEquals('$.phase', 'post-flip'), rbFenceTarget)
      .when(sfn.Condition.stringEquals('$.phase', 'fenced'), fdDescribeReverse)
      .otherwise(reconcileWeightsOnly);
    const rbRead = rbCatch(readRecords('Rollback: Read Live Weights', '$.reads.records'));
    const rbPlan = rbCatch(
      checks(
        'Rollback: Plan Weights',
        { op: 'weights', 'records.$': '$.reads.records', routing: routingPayload, targetWeight: 0 },
        '$.weights',
      ),
    );
    const rbChange = rbCatch(changeRecords('Rollback: Change Weights'));
    rbRead
      .next(rbPlan)
      .next(
        new sfn.Choice(this, 'Rollback: Weights Need Change?')
          .when(sfn.Condition.booleanEquals('$.weights.changed', true), rbChange.next(byPhase))
          .otherwise(byPhase),
      );
    const startRollback = notifyThen(
      'Notify Rollback Starting',
      'ROLLBACK_STARTED',
      { rollback: sfn.JsonPath.objectAt('$.rollback'), phase: sfn.JsonPath.stringAt('$.phase') },
      rbRead,
    );
    /** Any unexpected failure after the first change rolls back (the error becomes the reason). */
    const unexpected = new sfn.Pass(this, 'Unexpected Error', {
      parameters: { code: 'UNEXPECTED_ERROR', 'detail.$': '$.error' },
      resultPath: '$.rollback',
    }).next(startRollback);
    const rollbackOn = <T extends sfn.TaskStateBase>(s: T): T => {
      catchTo(s, unexpected);
      return s;
    };

    // ======================================================================= before any change
    const failedNoChange = failWith('Cutover Failed', 'Cutover.Failed', '$.error');
    const notifyFailure = notifyThen(
      'Notify Failure Before Changes',
      'FAILED_NO_CHANGE',
      { error: sfn.JsonPath.objectAt('$.error') },
      failedNoChange,
    );
    const noChange = <T extends sfn.TaskStateBase>(s: T): T => {
      catchTo(s, notifyFailure);
      return s;
    };

    // =================================================================================== a step
    const completed = new sfn.Succeed(this, 'Cutover Complete');
    const notifyComplete = notifyThen(
      'Notify Cutover Complete',
      'CUTOVER_COMPLETE',
      { flip: sfn.JsonPath.objectAt('$.flip'), gate: sfn.JsonPath.objectAt('$.gate') },
      completed,
    );
    const flipStart = new sfn.Pass(this, 'Begin Write Flip', {
      result: sfn.Result.fromString('fenced'),
      resultPath: '$.phase',
    });
    const nextIndex = new sfn.Pass(this, 'Next Step', {
      parameters: { 'index.$': 'States.MathAdd($.progress.index, 1)' },
      resultPath: '$.progress',
    });
    const selectStep = new sfn.Pass(this, 'Select Pre-flip Step', {
      parameters: { 'step.$': 'States.ArrayGetItem($.plan.preFlipSteps, $.progress.index)' },
      resultPath: '$.current',
    });
    const moreSteps = new sfn.Choice(this, 'More Pre-flip Steps?')
      .when(sfn.Condition.numberLessThanJsonPath('$.progress.index', '$.plan.preFlipCount'), selectStep)
      .otherwise(flipStart);
    const afterStep = new sfn.Choice(this, 'After Step')
      .when(sfn.Condition.stringEquals('$.phase', 'post-flip'), notifyComplete)
      .otherwise(nextIndex.next(moreSteps));

    // gate
    const gateFailed = reason('Gate Failed', 'GATE_FAILED', '$.gate').next(startRollback);
    const gatePassed = notifyThen(
      'Notify Gate Passed',
      'GATE_PASSED',
      { step: sfn.JsonPath.objectAt('$.current.step'), gate: sfn.JsonPath.objectAt('$.gate') },
      afterStep,
    );
    const gateTask = rollbackOn(describeTask('Gate: Describe Replication Task', current, '$.reads.task'));
    const gateEval = rollbackOn(
      checks(
        'Evaluate Gate',
        {
          op: 'evaluate',
          kind: 'gate',
          'thresholds.$': '$.plan.thresholds',
          'task.$': '$.reads.task',
          'metrics.$': '$.reads.metrics',
          'tables.$': '$.reads.tables',
          'alarms.$': '$.reads.alarms',
          'intendedTargetWeight.$': '$.current.step.targetWeight',
        },
        '$.gate',
      ),
    );
    gateTask
      .next(
        rollbackOn(
          metrics(
            'Gate: Read Metrics',
            [...dmsQueries(current), ...requestQueries],
            '$.change.submittedAt',
            '$.reads.metrics',
          ),
        ),
      )
      .next(rollbackOn(tableStatistics('Gate: Table Statistics', current, '$.reads.tables')))
      .next(rollbackOn(describeAlarms('Gate: Describe Alarms', '$.reads.alarms', false)))
      .next(gateEval)
      .next(
        new sfn.Choice(this, 'Gate Passed?')
          .when(sfn.Condition.booleanEquals('$.gate.ok', true), gatePassed)
          .otherwise(gateFailed),
      );

    // bake: a tick per check interval; each tick reads the command parameter and the alarms.
    const bakeWait = new sfn.Wait(this, 'Bake', { time: sfn.WaitTime.secondsPath('$.plan.checkIntervalSeconds') });
    const readCommand = rollbackOn(
      sdk(
        'Read Command',
        'ssm',
        'getParameter',
        'ssm:GetParameter',
        [command.parameterArn],
        { Name: command.parameterName },
        '$.command',
        { 'value.$': 'States.StringToJson($.Parameter.Value)' },
      ),
    );
    const bakeAlarms = rollbackOn(describeAlarms('Check Alarms During Bake', '$.reads.bakeAlarms', true));
    const tick = new sfn.Pass(this, 'Count Bake Tick', {
      parameters: { 'remaining.$': 'States.MathAdd($.bake.remaining, -1)' },
      resultPath: '$.bake',
    });
    const alarmFired = reason('Alarm During Bake', 'ALARM', '$.reads.bakeAlarms').next(startRollback);
    const commanded = reason('Rollback Commanded', 'ROLLBACK_COMMAND', '$.command.value').next(startRollback);
    bakeWait
      .next(readCommand)
      .next(
        new sfn.Choice(this, 'Rollback Requested?')
          .when(
            sfn.Condition.and(
              sfn.Condition.stringEquals('$.command.value.command', 'rollback'),
              sfn.Condition.stringEqualsJsonPath('$.command.value.execution', '$.execution.name'),
            ),
            commanded,
          )
          .otherwise(bakeAlarms),
      );
    bakeAlarms.next(
      new sfn.Choice(this, 'Alarm During Bake?')
        .when(
          sfn.Condition.or(
            sfn.Condition.isPresent('$.reads.bakeAlarms.MetricAlarms[0]'),
            sfn.Condition.isPresent('$.reads.bakeAlarms.CompositeAlarms[0]'),
          ),
          alarmFired,
        )
        .otherwise(
          tick.next(
            new sfn.Choice(this, 'Bake Done?')
              .when(sfn.Condition.numberGreaterThan('$.bake.remaining', 0), bakeWait)
              .otherwise(gateTask),
          ),
        ),
    );
    const startBake = new sfn.Pass(this, 'Start Bake', {
      parameters: { 'remaining.$': '$.current.step.ticks' },
      resultPath: '$.bake',
    }).next(bakeWait);

    // weights
    const stepMoved = notifyThen(
      'Notify Step Moved',
      'STEP_MOVED',
      { step: sfn.JsonPath.objectAt('$.current.step'), weights: sfn.JsonPath.objectAt('$.weights') },
      startBake,
    );
    const dnsWait = wait('Wait For DNS Sync', DNS_POLL_SECONDS);
    const getChange = rollbackOn(
      sdk(
        'Get Change',
        'route53',
        'getChange',
        'route53:GetChange',
        [stack.formatArn({ service: 'route53', region: '', account: '', resource: 'change', resourceName: '*' })],
        { 'Id.$': '$.change.id' },
        '$.changeStatus',
        { 'status.$': '$.ChangeInfo.Status' },
      ),
    );
    // Route 53 reports INSYNC within about a minute; a change still PENDING after a phase timeout is a
    // failed step (the rollback writes the weights again and waits for that change the same way).
    const dnsAttempts = Math.max(1, Math.ceil(phaseTimeout.toSeconds() / DNS_POLL_SECONDS));
    const dnsTimedOut = reason('DNS Sync Timed Out', 'DNS_NOT_IN_SYNC', '$.change').next(startRollback);
    const dnsLooksLeft = new sfn.Pass(this, 'DNS Looks Left', {
      inputPath: '$.counters.dnsNext.n',
      resultPath: '$.counters.dns',
    });
    dnsWait
      .next(getChange)
      .next(
        new sfn.Choice(this, 'DNS In Sync?')
          .when(sfn.Condition.stringEquals('$.changeStatus.status', 'INSYNC'), stepMoved)
          .when(sfn.Condition.numberLessThanEquals('$.counters.dns', 1), dnsTimedOut)
          .otherwise(decrement('Count DNS Look', '$.counters.dns').next(dnsLooksLeft).next(dnsWait)),
      );
    const change = rollbackOn(changeRecords('Change Weights'));
    change.next(setCounter('Start DNS Sync Count', '$.counters.dns', dnsAttempts)).next(dnsWait);
    const unchanged = new sfn.Pass(this, 'Weights Already Set', {
      parameters: { 'submittedAt.$': '$$.State.EnteredTime', status: 'INSYNC' },
      resultPath: '$.change',
    }).next(stepMoved);
    const readWeights = rollbackOn(readRecords('Read Live Weights', '$.reads.records'));
    readWeights
      .next(
        rollbackOn(
          checks(
            'Plan Weights',
            {
              op: 'weights',
              'records.$': '$.reads.records',
              routing: routingPayload,
              'targetWeight.$': '$.current.step.targetWeight',
            },
            '$.weights',
          ),
        ),
      )
      .next(
        new sfn.Choice(this, 'Weights Need Change?')
          .when(sfn.Condition.booleanEquals('$.weights.changed', true), change)
          .otherwise(unchanged),
      );
    selectStep.next(readWeights);

    // ================================================================================= the flip
    const loop = (
      key: string,
      waitName: string,
      looks: sfn.TaskStateBase[],
      decide: (again: sfn.IChainable, exhausted: sfn.IChainable) => sfn.Choice,
      exhaustedReason: string,
    ) => {
      const w = wait(waitName, PHASE_POLL_SECONDS);
      const dec = decrement(`Count ${waitName}`, `$.counters.${key}`);
      const apply = new sfn.Pass(this, `${waitName} Looks Left`, {
        inputPath: `$.counters.${key}Next.n`,
        resultPath: `$.counters.${key}`,
      });
      const exhausted = reason(`${waitName} Timed Out`, exhaustedReason).next(startRollback);
      const again = new sfn.Choice(this, `${waitName} Looks Remaining?`)
        .when(sfn.Condition.numberLessThanEquals(`$.counters.${key}`, 1), exhausted)
        .otherwise(dec.next(apply).next(w));
      let chain: sfn.INextable & sfn.IChainable = w;
      for (const look of looks) {
        rollbackOn(look);
        chain.next(look);
        chain = look;
      }
      chain.next(decide(again, exhausted));
      return setCounter(`Start ${waitName}`, `$.counters.${key}`, phaseAttempts).next(w);
    };

    const notifyFlipped = notifyThen(
      'Notify Flipped',
      'WRITE_FLIPPED',
      { flip: sfn.JsonPath.objectAt('$.flip') },
      new sfn.Pass(this, 'Select Final Step', {
        parameters: { 'step.$': '$.plan.finalStep' },
        resultPath: '$.current',
      }).next(readWeights),
    );
    const deploymentsFailed = reason('Deployment Failed', 'DEPLOYMENT_FAILED', '$.deployments').next(startRollback);
    const waitDeployments = loop(
      'deployments',
      'Wait For Deployments',
      [
        describeService('Describe Source Service', 'source', '$.reads.sourceService'),
        describeService('Describe Target Service', 'target', '$.reads.targetService'),
        checks(
          'Evaluate Deployments',
          { op: 'deployments', 'answers.$': 'States.Array($.reads.sourceService, $.reads.targetService)' },
          '$.deployments',
        ),
      ],
      (again) =>
        new sfn.Choice(this, 'Deployments Done?')
          .when(sfn.Condition.booleanEquals('$.deployments.done', true), notifyFlipped)
          .when(sfn.Condition.booleanEquals('$.deployments.failed', true), deploymentsFailed)
          .otherwise(again),
      'DEPLOYMENT_TIMEOUT',
    );
    const setPostFlip = new sfn.Pass(this, 'Target Becomes Writer', {
      result: sfn.Result.fromString('post-flip'),
      resultPath: '$.phase',
    });
    setPostFlip
      .next(
        new sfn.Pass(this, 'Gates Follow Reverse Task', {
          result: sfn.Result.fromObject(replicationOf(props.reverseTask)),
          resultPath: '$.replication',
        }),
      )
      .next(rollbackOn(fence('Unfence Target', { op: 'unfence', side: 'target' }, '$.flip.unfence')))
      .next(pointerTo('Target Pointer', 'target'))
      .next(rollbackOn(putPointer('Point At Target')))
      .next(rollbackOn(redeploy('Redeploy Target Service', 'target')))
      .next(rollbackOn(redeploy('Redeploy Source Service', 'source')))
      .next(waitDeployments);

    const reverseNotStarted = reason('Reverse Task Did Not Start', 'REVERSE_NOT_STARTED', '$.reads.reverseTask').next(
      startRollback,
    );
    const waitReverse = loop(
      'reverseStart',
      'Wait For Reverse Start',
      [describeTask('Describe Reverse Task', props.reverseTask, '$.reads.reverseTask')],
      (again) =>
        new sfn.Choice(this, 'Reverse Running?')
          .when(sfn.Condition.stringEquals('$.reads.reverseTask.ReplicationTasks[0].Status', 'running'), setPostFlip)
          .when(sfn.Condition.stringEquals('$.reads.reverseTask.ReplicationTasks[0].Status', 'starting'), again)
          .otherwise(reverseNotStarted),
      'REVERSE_START_TIMEOUT',
    );
    const startReverse = rollbackOn(startTask('Start Reverse Task', props.reverseTask, 'start-replication'));
    startReverse.next(waitReverse);

    const forwardNotStopped = reason('Forward Task Did Not Stop', 'FORWARD_NOT_STOPPED', '$.reads.forwardTask').next(
      startRollback,
    );
    const waitForwardStop = loop(
      'forwardStop',
      'Wait For Forward Stop',
      [describeTask('Describe Stopping Forward Task', props.forwardTask, '$.reads.forwardTask')],
      (again) =>
        new sfn.Choice(this, 'Forward Stopped?')
          .when(sfn.Condition.stringEquals('$.reads.forwardTask.ReplicationTasks[0].Status', 'stopped'), startReverse)
          .when(sfn.Condition.stringEquals('$.reads.forwardTask.ReplicationTasks[0].Status', 'stopping'), again)
          .when(sfn.Condition.stringEquals('$.reads.forwardTask.ReplicationTasks[0].Status', 'running'), again)
          .otherwise(forwardNotStopped),
      'FORWARD_STOP_TIMEOUT',
    );

    const validationFailed = reason('Validation Pass Failed', 'VALIDATION_FAILED', '$.flip.validation').next(
      startRollback,
    );
    const afterValidation = rollbackOn(
      fence('Advance Target Sequences', { op: 'advance-sequences', from: 'source', to: 'target' }, '$.flip.sequences'),
    );
    afterValidation
      .next(rollbackOn(fence('Record Source Position', { op: 'position', side: 'source' }, '$.flip.sourcePosition')))
      .next(rollbackOn(fence('Record Target Position', { op: 'position', side: 'target' }, '$.flip.targetPosition')))
      .next(rollbackOn(fence('Counters Source At Flip', { op: 'counters', side: 'source' }, '$.flip.counters.source')))
      .next(rollbackOn(fence('Counters Target At Flip', { op: 'counters', side: 'target' }, '$.flip.counters.target')))
      .next(rollbackOn(stopTask('Stop Forward Task', props.forwardTask)))
      .next(waitForwardStop);
    const validationPass = loop(
      'validation',
      'Wait For Validation',
      [
        tableStatistics('Validation: Table Statistics', props.forwardTask, '$.reads.tables'),
        checks(
          'Evaluate Validation Pass',
          { op: 'validation-pass', 'tables.$': '$.reads.tables' },
          '$.flip.validation',
        ),
      ],
      (again) =>
        new sfn.Choice(this, 'Validation Passed?')
          .when(sfn.Condition.booleanEquals('$.flip.validation.done', true), afterValidation)
          .when(sfn.Condition.booleanEquals('$.flip.validation.failed', true), validationFailed)
          .otherwise(again),
      'VALIDATION_TIMEOUT',
    );
    const drainFailed = reason('Forward Task Failed', 'FORWARD_TASK_FAILED', '$.flip.drain').next(startRollback);
    const drain = loop(
      'drain',
      'Wait For Forward Drain',
      [
        describeTask('Drain: Describe Forward Task', props.forwardTask, '$.reads.task'),
        metrics('Drain: Read CDC Latency', dmsQueries(props.forwardTask), '$.flip.fence.at', '$.reads.metrics'),
        checks(
          'Evaluate Forward Drain',
          {
            op: 'drain',
            'task.$': '$.reads.task',
            'metrics.$': '$.reads.metrics',
            'since.$': '$.flip.fence.at',
            bound: drainLatencySeconds,
          },
          '$.flip.drain',
        ),
      ],
      (again) =>
        new sfn.Choice(this, 'Forward Drained?')
          .when(sfn.Condition.booleanEquals('$.flip.drain.drained', true), validationPass)
          .when(sfn.Condition.booleanEquals('$.flip.drain.taskFailed', true), drainFailed)
          .otherwise(again),
      'DRAIN_TIMEOUT',
    );
    const fenceSource = rollbackOn(fence('Fence Source', { op: 'fence', side: 'source' }, '$.flip.fence'));
    fenceSource.next(drain);
    flipStart.next(
      notifyThen('Notify Flip Starting', 'FLIP_STARTING', { plan: sfn.JsonPath.objectAt('$.plan') }, fenceSource),
    );

    // =============================================================================== approval
    const rejected = failWith('Not Approved', 'Cutover.NotApproved', '$.error');
    const notifyRejected = notifyThen(
      'Notify Not Approved',
      'NOT_APPROVED',
      { error: sfn.JsonPath.objectAt('$.error') },
      rejected,
    );
    const approval = new tasks.SnsPublish(this, 'Request Approval', {
      topic: props.notificationTopic,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      subject: `Payment cutover ${props.envName}: approval requested`,
      message: sfn.TaskInput.fromObject({
        decision: 'APPROVAL_REQUESTED',
        environment: props.envName,
        execution: sfn.JsonPath.executionId,
        approver: sfn.JsonPath.stringAt('$.plan.approver'),
        precheck: sfn.JsonPath.objectAt('$.precheck'),
        plan: sfn.JsonPath.objectAt('$.plan'),
        howTo: `npm run cutover -- approve --env ${props.envName}   (or reject)`,
        taskToken: sfn.JsonPath.taskToken,
      }),
      messageAttributes: { decision: { value: 'APPROVAL_REQUESTED' } },
      taskTimeout: sfn.Timeout.duration(approvalTimeout),
      resultPath: '$.approval',
    });
    approval.addCatch(notifyRejected, { errors: ['States.ALL'], resultPath: '$.error' });
    approval.next(
      notifyThen(
        'Notify Approved',
        'APPROVED',
        { approval: sfn.JsonPath.objectAt('$.approval') },
        new sfn.Pass(this, 'First Step', {
          result: sfn.Result.fromObject({ index: 0 }),
          resultPath: '$.progress',
        }).next(moreSteps),
      ),
    );

    // ============================================================================= pre-checks
    const precheckFailed = new sfn.Fail(this, 'Pre-checks Failed', {
      error: 'Cutover.PreCheckFailed',
      causePath: '$.precheck.summary',
    });
    const evaluatePre = noChange(
      checks(
        'Evaluate Pre-checks',
        {
          op: 'evaluate',
          kind: 'pre-check',
          'thresholds.$': '$.plan.thresholds',
          'task.$': '$.reads.task',
          'metrics.$': '$.reads.metrics',
          'tables.$': '$.reads.tables',
          'alarms.$': '$.reads.alarms',
          'targetHealth.$': '$.reads.targetHealth',
          'fence.$': '$.reads.fence',
          'reverseTask.$': '$.reads.reverseTask',
        },
        '$.precheck',
      ),
    );
    const preChecks = noChange(describeTask('Pre-check: Describe Forward Task', props.forwardTask, '$.reads.task'));
    preChecks
      .next(noChange(describeTask('Pre-check: Describe Reverse Task', props.reverseTask, '$.reads.reverseTask')))
      .next(
        noChange(
          metrics('Pre-check: Read CDC Latency', dmsQueries(props.forwardTask), '$.plan.readFrom', '$.reads.metrics'),
        ),
      )
      .next(noChange(tableStatistics('Pre-check: Table Statistics', props.forwardTask, '$.reads.tables')))
      .next(
        noChange(
          sdk(
            'Pre-check: Target Health',
            'elasticloadbalancingv2',
            'describeTargetHealth',
            'elasticloadbalancing:DescribeTargetHealth',
            ['*'], // no resource-level permissions
            { TargetGroupArn: props.target.targetGroup.targetGroupArn },
            '$.reads.targetHealth',
            { 'TargetHealthDescriptions.$': '$.TargetHealthDescriptions' },
          ),
        ),
      )
      .next(noChange(describeAlarms('Pre-check: Describe Alarms', '$.reads.alarms', false)))
      .next(noChange(fence('Pre-check: Fence Status', { op: 'status' }, '$.reads.fence')))
      .next(evaluatePre)
      .next(
        new sfn.Choice(this, 'Pre-checks Passed?')
          .when(sfn.Condition.booleanEquals('$.precheck.ok', true), approval)
          .otherwise(
            notifyThen(
              'Notify Pre-checks Failed',
              'PRECHECK_FAILED',
              { precheck: sfn.JsonPath.objectAt('$.precheck') },
              precheckFailed,
            ),
          ),
      );

    // ================================================================================== start
    const planRefused = new sfn.Fail(this, 'Plan Refused', {
      error: 'Cutover.PlanInvalid',
      causePath: '$.error.Cause',
    });
    const validate = checks('Validate Plan', { op: 'validate-plan', 'plan.$': '$.plan' }, '$.plan');
    validate.addCatch(
      notifyThen('Notify Plan Refused', 'PLAN_REFUSED', { error: sfn.JsonPath.objectAt('$.error') }, planRefused),
      { errors: ['Cutover.PlanInvalid'], resultPath: '$.error' },
    );
    noChange(validate);
    validate.next(preChecks);

    // A rollback command without a running cutover: the pointer says where the data is.
    const readPointer = rbCatch(
      sdk(
        'Read Pointer',
        'ssm',
        'getParameter',
        'ssm:GetParameter',
        [pointer.parameterArn],
        { Name: pointer.parameterName },
        '$.pointerNow',
        { 'value.$': 'States.StringToJson($.Parameter.Value)' },
      ),
    );
    const commandReason = (name: string, phase: string) =>
      new sfn.Pass(this, name, {
        parameters: { phase, rollback: { code: 'ROLLBACK_COMMAND', 'detail.$': '$.reason' } },
        resultPath: '$.rb',
      }).next(
        new sfn.Pass(this, `${name} Apply`, {
          parameters: {
            'action.$': '$.action',
            'execution.$': '$.execution',
            'phase.$': '$.rb.phase',
            'rollback.$': '$.rb.rollback',
            flip: { counters: {} },
            rollbackData: { counters: {} },
            counters: {},
            reads: {},
          },
        }).next(startRollback),
      );
    readPointer.next(
      new sfn.Choice(this, 'Writer Now?')
        .when(
          sfn.Condition.stringEquals('$.pointerNow.value.writer', 'target'),
          commandReason('Rollback After Flip', 'post-flip'),
        )
        .otherwise(commandReason('Rollback Before Flip', 'pre-flip')),
    );

    const init = new sfn.Pass(this, 'Start', {
      parameters: {
        'action.$': '$.action',
        'plan.$': '$.plan',
        'reason.$': '$.reason',
        execution: { 'name.$': '$$.Execution.Name' },
        phase: 'pre-flip',
        replication: replicationOf(props.forwardTask),
        flip: { counters: {} },
        rollbackData: { counters: {} },
        counters: {},
        reads: {},
      },
    });
    const badInput = new sfn.Fail(this, 'Bad Input', {
      error: 'Cutover.BadInput',
      cause:
        'Input must be {"action":"cutover","plan":{...},"reason":"..."} or {"action":"rollback","plan":null,"reason":"..."}',
    });
    const definition = new sfn.Choice(this, 'Input Complete?')
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.action'),
          sfn.Condition.isPresent('$.plan'),
          sfn.Condition.isPresent('$.reason'),
        ),
        init.next(
          new sfn.Choice(this, 'Action?')
            .when(sfn.Condition.stringEquals('$.action', 'cutover'), validate)
            .when(sfn.Condition.stringEquals('$.action', 'rollback'), readPointer)
            .otherwise(badInput),
        ),
      )
      .otherwise(badInput);

    this.logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: logRetention,
      ...(props.logKey !== undefined ? { encryptionKey: props.logKey } : {}),
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: executionTimeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: `Payment cutover ${props.envName}: pre-checks, approval, traffic steps with data gates, one fenced write flip, rollback`,
    });
    // SnsPublish grants sns:Publish; an encrypted topic also needs its key (grantPublish adds it).
    props.notificationTopic.grantPublish(this.stateMachine);

    this.stateMachineArnParameter = new ssm.StringParameter(this, 'StateMachineArnParameter', {
      parameterName: `${prefix}/${CUTOVER_PARAMETERS.stateMachineArn}`,
      stringValue: this.stateMachine.stateMachineArn,
      description: `Cutover workflow of ${props.envName}; read by npm run cutover`,
    });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'DatabasePointerParameter', { value: pointer.parameterName });

    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dms:DescribeReplicationTasks, cloudwatch:GetMetricData, elasticloadbalancing:DescribeTargetHealth, X-Ray and the log delivery actions support no resource-level permissions; route53 changes are per change id.',
    });
    Validations.of(this.fenceFunction.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray and the Lambda VPC network-interface actions support no resource-level permissions.',
    });
    acknowledgeChangeWildcard(this.stateMachine);
    Validations.of(this.stateMachine).acknowledge(
      ...[this.checksFunction, this.fenceFunction].map((fn) => ({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason: `LambdaInvoke grants lambda:InvokeFunction on ${fn.node.id} and its versions (\`:*\`) only.`,
      })),
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          'Publishing to the KMS-encrypted notification topic needs GenerateDataKey* on that topic key only (Topic.grantPublish).',
      },
    );
  }
}
