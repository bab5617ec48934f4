import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { powertoolsMetric } from '../../../lib/constructs/monitoring/metrics';
import { StageMonitoring, StageMonitoringProps } from '../../../lib/constructs/monitoring/stage-monitoring';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:alerts`;
const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;

interface AlarmJson {
  AlarmName: string;
  AlarmDescription: string;
  AlarmActions?: unknown[];
  OKActions?: unknown[];
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  DatapointsToAlarm: number;
  TreatMissingData: string;
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  Period?: number;
  Dimensions?: { Name: string; Value: unknown }[];
  Metrics?: {
    Id: string;
    Expression?: string;
    MetricStat?: {
      Metric: { MetricName: string; Namespace: string; Dimensions: { Name: string; Value: unknown }[] };
      Period: number;
      Stat: string;
    };
  }[];
}

/** The one metric an alarm watches, whether the alarm names it directly or (labelled) in a MetricStat. */
function metricOf(a: AlarmJson) {
  if (a.MetricName) {
    return { name: a.MetricName, namespace: a.Namespace, stat: a.Statistic, period: a.Period, dims: a.Dimensions };
  }
  const stats = (a.Metrics ?? []).filter((m) => m.MetricStat);
  expect(stats).toHaveLength(1);
  const s = stats[0]!.MetricStat!;
  return {
    name: s.Metric.MetricName,
    namespace: s.Metric.Namespace,
    stat: s.Stat,
    period: s.Period,
    dims: s.Metric.Dimensions,
  };
}

/** A bare stack whose inputs are all imported, and a StageMonitoring in it. */
function build(props: Partial<StageMonitoringProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Watch', { env: { account: ACCOUNT, region: REGION } });
  const monitoring = new StageMonitoring(stack, 'Monitoring', {
    name: 'migration-dev',
    alarmTopic: sns.Topic.fromTopicArn(stack, 'Alerts', TOPIC_ARN),
    ...props,
  });
  const inputs = {
    fn: lambda.Function.fromFunctionArn(stack, 'Fn', arn('lambda', 'function:glue-trigger')),
    dlq: sqs.Queue.fromQueueArn(stack, 'Dlq', arn('sqs', 'glue-trigger-dlq')),
    queue: sqs.Queue.fromQueueArn(stack, 'Queue', arn('sqs', 'object-events')),
    rule: events.Rule.fromEventRuleArn(stack, 'Rule', arn('events', 'rule/glue-job-failed')),
    stateMachine: sfn.StateMachine.fromStateMachineArn(stack, 'Workflow', arn('states', 'stateMachine:workflow')),
    cluster: rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'Cluster', { clusterIdentifier: 'aurora-dev' }),
    domain: opensearch.Domain.fromDomainAttributes(stack, 'Domain', {
      domainArn: arn('es', 'domain/audit'),
      domainEndpoint: `https://search-audit-abc.${REGION}.es.amazonaws.com`,
    }),
  };
  const alarms = (t: Template) =>
    new Map(
      Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((r) => {
        const p = (r as { Properties: AlarmJson }).Properties;
        return [p.AlarmName.replace(/^migration-dev-/, '').replace(/-Critical$/, ''), p] as const;
      }),
    );
  return { app, stack, monitoring, inputs, alarms };
}

/** Everything the migration stage asks of the blocks, in one stack. */
function buildAll(props: Partial<StageMonitoringProps> = {}) {
  const built = build(props);
  const { monitoring: m, inputs: i } = built;
  m.addHeader('Migration data path (dev)').addText('S3 → Glue → DMS');
  m.monitorQueueAge('ObjectEventsQueue', i.queue, { maxAgeSeconds: 6720 });
  m.addGraphs('Validation runs', [
    {
      title: 'Runs',
      metrics: [
        powertoolsMetric({ namespace: 'Ns', service: 'glue-trigger' }, 'GlueRunsRunning', {
          statistic: 'Maximum',
          label: 'running',
        }),
      ],
    },
  ]);
  m.monitorFunctions([{ name: 'GlueTrigger', fn: i.fn }]);
  m.monitorRuleMatches('Failure rules', [{ name: 'GlueJobFailures', description: 'Job runs failed', rule: i.rule }]);
  m.monitorStateMachine('Workflow', i.stateMachine);
  m.monitorDmsCdcLatency(
    'Replication',
    { replicationInstanceIdentifier: 'dms-dev', replicationTaskResourceId: 'TASKRESOURCEID' },
    { cdcLatencySeconds: 120, sides: ['Target'], descriptionNote: 'task generation abc123def456' },
  );
  m.monitorAuroraCluster('Aurora', i.cluster, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING });
  m.monitorOpenSearchDomain('OpenSearch', i.domain);
  m.monitorDeadLetterQueues([{ name: 'GlueTriggerDlq', queue: i.dlq }]);
  m.addAlarmStatus();
  const template = Template.fromStack(built.stack);
  return { ...built, template, byName: built.alarms(template) };
}

describe('StageMonitoring (migration blocks)', () => {
  const built = buildAll();
  const a = (name: string) => {
    const found = built.byName.get(name);
    if (!found) throw new Error(`no alarm ${name}; have ${[...built.byName.keys()].join(', ')}`);
    return found;
  };
  /** Any occurrence in one 5-minute period; silence is fine. */
  const anyOccurrence = {
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    TreatMissingData: 'notBreaching',
  };

  it('creates exactly the alarms asked for, each publishing to the topic on ALARM and OK', () => {
    expect([...built.byName.keys()].sort()).toEqual(
      [
        'Aurora-Cluster-CPU-Usage',
        'Aurora-cluster-memory-FreeableMemory',
        'Failure-rules-GlueJobFailures',
        'GlueTrigger-Fault-Count',
        'GlueTrigger-Throttled-Count',
        'GlueTriggerDlq-Queue-Message-Count-Max',
        'ObjectEventsQueue-Queue-Message-Age-Max',
        'OpenSearch-Cluster-ClusterIndexWritesBlocked',
        'OpenSearch-Cluster-ClusterStatus',
        'Replication-DMS-CDC-latency-CdcLatencyTarget',
        'Workflow-failures-Failures',
      ].sort(),
    );
    for (const alarm of built.byName.values()) {
      expect([alarm.AlarmName, alarm.AlarmActions, alarm.OKActions]).toEqual([
        alarm.AlarmName,
        [TOPIC_ARN],
        [TOPIC_ARN],
      ]);
    }
    expect(built.monitoring.alarms()).toHaveLength(built.byName.size);
  });

  it('publishes on ALARM only when notifyOnOk is off', () => {
    const quiet = buildAll({ notifyOnOk: false });
    for (const alarm of quiet.byName.values()) {
      expect([alarm.AlarmName, alarm.AlarmActions, alarm.OKActions]).toEqual([alarm.AlarmName, [TOPIC_ARN], undefined]);
    }
  });

  it('handler errors and throttles: Sum per 5 minutes, any at all', () => {
    for (const [alarm, metric] of [
      ['GlueTrigger-Fault-Count', 'Errors'],
      ['GlueTrigger-Throttled-Count', 'Throttles'],
    ] as const) {
      expect(a(alarm)).toMatchObject(anyOccurrence);
      expect(metricOf(a(alarm))).toEqual({
        name: metric,
        namespace: 'AWS/Lambda',
        stat: 'Sum',
        period: 300,
        dims: [{ Name: 'FunctionName', Value: 'glue-trigger' }],
      });
    }
    expect(a('GlueTrigger-Fault-Count').AlarmDescription).toBe('GlueTrigger handler reported errors');
  });

  it('dead-letter queue depth: Maximum visible messages per 5 minutes, any at all', () => {
    const alarm = a('GlueTriggerDlq-Queue-Message-Count-Max');
    expect(alarm).toMatchObject({
      ...anyOccurrence,
      AlarmDescription: 'Messages waiting in dead-letter queue GlueTriggerDlq',
    });
    expect(metricOf(alarm)).toMatchObject({ name: 'ApproximateNumberOfMessagesVisible', stat: 'Maximum', period: 300 });
    expect(metricOf(alarm).dims).toEqual([{ Name: 'QueueName', Value: 'glue-trigger-dlq' }]);
  });

  it('queue age: oldest message above the bound in 3 consecutive minutes; an empty queue reports nothing', () => {
    const alarm = a('ObjectEventsQueue-Queue-Message-Age-Max');
    expect(alarm).toMatchObject({
      Threshold: 6720,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
    expect(metricOf(alarm)).toMatchObject({ name: 'ApproximateAgeOfOldestMessage', stat: 'Maximum', period: 60 });
  });

  it("failure rules: matched events under the rule's own name, any in 5 minutes", () => {
    const alarm = a('Failure-rules-GlueJobFailures');
    expect(alarm).toMatchObject({ ...anyOccurrence, AlarmDescription: 'Job runs failed' });
    expect(metricOf(alarm)).toEqual({
      name: 'MatchedEvents',
      namespace: 'AWS/Events',
      stat: 'Sum',
      period: 300,
      dims: [{ Name: 'RuleName', Value: 'glue-job-failed' }],
    });
  });

  it('workflow: one alarm on failed + timed out + aborted executions', () => {
    const alarm = a('Workflow-failures-Failures');
    expect(alarm).toMatchObject(anyOccurrence);
    const metrics = alarm.Metrics ?? [];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('failed + timedOut + aborted');
    expect(
      Object.fromEntries(
        metrics
          .filter((m) => m.MetricStat)
          .map((m) => [m.Id, [m.MetricStat!.Metric.MetricName, m.MetricStat!.Stat, m.MetricStat!.Period]]),
      ),
    ).toEqual({
      failed: ['ExecutionsFailed', 'Sum', 300],
      timedOut: ['ExecutionsTimedOut', 'Sum', 300],
      aborted: ['ExecutionsAborted', 'Sum', 300],
    });
  });

  it('DMS CDC latency: only the sides asked for, breaching on silence, the note in the description', () => {
    const alarm = a('Replication-DMS-CDC-latency-CdcLatencyTarget');
    expect(alarm).toMatchObject({
      Threshold: 120,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      TreatMissingData: 'breaching',
    });
    expect(alarm.AlarmDescription).toMatch(/; task generation abc123def456$/);
    expect(metricOf(alarm)).toMatchObject({ name: 'CDCLatencyTarget', stat: 'Maximum', period: 60 });
    expect(metricOf(alarm).dims).toEqual(
      expect.arrayContaining([
        { Name: 'ReplicationInstanceIdentifier', Value: 'dms-dev' },
        { Name: 'ReplicationTaskIdentifier', Value: 'TASKRESOURCEID' },
      ]),
    );
  });

  it('the payment DMS task block still alarms on both sides and on validation', () => {
    const { monitoring, stack, alarms } = build();
    monitoring.monitorDmsTask('Payments', { replicationInstanceIdentifier: 'i', replicationTaskResourceId: 't' });
    expect([...alarms(Template.fromStack(stack)).keys()].sort()).toEqual([
      'Payments-DMS-task-CdcLatencySource',
      'Payments-DMS-task-CdcLatencyTarget',
      'Payments-DMS-task-ValidationFailed',
      'Payments-DMS-task-ValidationSuspended',
    ]);
  });

  it('Aurora: CPU at or above 80 % and freeable memory under 256 MiB, 5-minute averages in 3 periods', () => {
    const cpu = a('Aurora-Cluster-CPU-Usage');
    const memory = a('Aurora-cluster-memory-FreeableMemory');
    expect(cpu).toMatchObject({
      Threshold: 80,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
    expect(memory).toMatchObject({
      Threshold: 256 * 1024 * 1024,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
    for (const [alarm, name] of [
      [cpu, 'CPUUtilization'],
      [memory, 'FreeableMemory'],
    ] as const) {
      expect(metricOf(alarm)).toEqual({
        name,
        namespace: 'AWS/RDS',
        stat: 'Average',
        period: 300,
        dims: [{ Name: 'DBClusterIdentifier', Value: 'aurora-dev' }],
      });
    }
  });

  it.each([cloudwatch.TreatMissingData.BREACHING, cloudwatch.TreatMissingData.NOT_BREACHING])(
    'Aurora: missing data is what the caller decides (%s)',
    (treatMissingData) => {
      const { monitoring, stack, alarms, inputs } = build();
      monitoring.monitorAuroraCluster('Aurora', inputs.cluster, { treatMissingData });
      const treatments = [...alarms(Template.fromStack(stack)).values()].map((x) => x.TreatMissingData);
      expect(treatments).toEqual([treatMissingData, treatMissingData]);
    },
  );

  it('OpenSearch: status red and index writes blocked per minute, breaching on silence', () => {
    const red = a('OpenSearch-Cluster-ClusterStatus');
    const blocked = a('OpenSearch-Cluster-ClusterIndexWritesBlocked');
    // ClusterStatus.red is 0 or 1: "above 0" is "at least 1".
    expect(red).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'breaching',
    });
    expect(blocked).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'breaching',
    });
    expect(metricOf(red)).toMatchObject({
      name: 'ClusterStatus.red',
      namespace: 'AWS/ES',
      stat: 'Maximum',
      period: 60,
    });
    expect(metricOf(blocked)).toMatchObject({ name: 'ClusterIndexWritesBlocked', stat: 'Maximum', period: 60 });
    expect(metricOf(red).dims).toEqual(
      expect.arrayContaining([
        { Name: 'DomainName', Value: 'audit' },
        { Name: 'ClientId', Value: ACCOUNT },
      ]),
    );
  });

  it('builds one dashboard named for the stage, with the text, the graphs and an alarm status widget', () => {
    built.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    built.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'migration-dev' });
    const body = JSON.stringify(Object.values(built.template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    expect(body).toContain('S3 → Glue → DMS');
    expect(body).toContain('GlueRunsRunning');
    expect(body).toContain('\\"type\\":\\"alarm\\"');
  });

  it('refuses a name that cannot be part of an alarm name', () => {
    const { monitoring, inputs } = build();
    expect(() => monitoring.monitorFunctions([{ name: 'Glue Trigger', fn: inputs.fn }])).toThrow(
      /must be 1-100 letters/,
    );
    expect(() => build({ name: 'migration dev' })).toThrow(/must be 1-100 letters/);
  });

  describe('cdk-nag', () => {
    const findings = (app: App) =>
      new AwsSolutionsChecks(app).validateScope(app).violations.flatMap((v) =>
        v.violatingResources
          .map((r) => (r as { constructPath?: string }).constructPath ?? '')
          .filter((p) => p.includes('/Monitoring/'))
          .map((p) => `${v.ruleName} ${p}`),
      );

    it('reaches the resources of the construct (a planted violation is found)', () => {
      const { app, monitoring } = build();
      new sqs.Queue(monitoring, 'Planted', { retentionPeriod: Duration.days(1) });
      expect(findings(app).some((f) => f.includes('/Monitoring/Planted'))).toBe(true);
    });

    it('leaves no unacknowledged AwsSolutions finding', () => {
      expect(findings(buildAll().app)).toEqual([]);
    });
  });
});
