import { CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { AwsSolutionsChecks } from 'cdk-nag';
import { enforceEncryptionAtRest } from '../../../lib/compliance/encryption-aspect';
import {
  PaymentMonitoringStack,
  type PaymentMonitoringStackProps,
} from '../../../lib/stacks/payment/payment-monitoring-stack';
import { FIXTURE_ENV, paymentFixtures, type PaymentFixtures } from '../../support/payment-fixtures';
import { isAllowed, type PolicyStatement } from '../../support/policy-evaluator';

interface AlarmJson {
  AlarmName: string;
  AlarmActions?: unknown[];
  OKActions?: unknown[];
  TreatMissingData?: string;
  Threshold?: number;
  Namespace?: string;
  MetricName?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Metrics?: {
    MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: { Name: string; Value: unknown }[] } };
  }[];
}

function build(overrides: Partial<PaymentMonitoringStackProps> = {}) {
  const fixtures = paymentFixtures();
  const stack = new PaymentMonitoringStack(fixtures.app, 'PaymentMonitoring', {
    env: FIXTURE_ENV,
    envName: 'dev',
    source: fixtures.source,
    target: fixtures.target,
    replicationTask: fixtures.replicationTask,
    replicationInstanceIdentifier: 'payments-dev',
    logReplication: { sourceBucket: fixtures.logBucket, destinationBucketName: 'payments-dev-replica', ruleId: 'logs' },
    ...overrides,
  });
  const template = Template.fromStack(stack);
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
    (r) => (r as { Properties: AlarmJson }).Properties,
  );
  return { fixtures, stack, template, alarms, fixtureTemplate: Template.fromStack(fixtures.stack) };
}

const suffix = (a: AlarmJson) => a.AlarmName.replace(/^payment-dev-/, '').replace(/-Critical$/, '');

/** What a cross-stack import stands for: the exported value in the fixture stack. */
function exported(fixtureTemplate: Template, value: unknown): unknown {
  const name = (value as { 'Fn::ImportValue'?: string })['Fn::ImportValue'];
  if (name === undefined) return value;
  const outputs = fixtureTemplate.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>;
  const found = Object.values(outputs).find((o) => o.Export?.Name === name);
  if (!found) throw new Error(`no export ${name}`);
  return found.Value;
}

function dimensionsOf(alarm: AlarmJson): { metric: string; dims: Record<string, unknown> }[] {
  const stats = alarm.Metrics?.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : [])) ?? [];
  const all = alarm.MetricName
    ? [{ MetricName: alarm.MetricName, Dimensions: alarm.Dimensions ?? [] }]
    : stats.map((s) => ({ MetricName: s.MetricName, Dimensions: s.Dimensions }));
  return all.map((m) => ({
    metric: m.MetricName,
    dims: Object.fromEntries(m.Dimensions.map((d) => [d.Name, d.Value])),
  }));
}

const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as CfnElement);

describe('PaymentMonitoringStack', () => {
  const built = build();
  const byName = new Map(built.alarms.map((a) => [suffix(a), a]));

  it('raises every alarm issue 10 asks for, on both sides where it applies', () => {
    expect([...byName.keys()].sort()).toEqual(
      [
        ...['Source', 'Target'].flatMap((side) => [
          `${side}-Service-CPU-Usage`,
          `${side}-Service-Memory-Usage`,
          `${side}-Service-Unhealthy-Tasks`,
          `${side}-load-balancer-Http5xx`,
          `${side}-load-balancer-LatencyP99`,
          `${side}-Db-CPU-Usage`,
          `${side}-Db-Min-Usage-Count`,
          `${side}-database-Connections`,
          `${side}-database-Iops`,
        ]),
        'Payments-DMS-task-CdcLatencySource',
        'Payments-DMS-task-CdcLatencyTarget',
        'Payments-DMS-task-ValidationFailed',
        'Payments-DMS-task-ValidationSuspended',
        'Source-logical-replication-ReplicationSlotLag',
        'Source-logical-replication-TransactionLogsDiskUsage',
        'Logs-bucket-replication-ReplicationLatency',
        'Logs-bucket-replication-ReplicationFailed',
      ].sort(),
    );
  });

  it('gives every alarm an ALARM and an OK action to the alarm topic, and nothing else', () => {
    const topic = { Ref: logicalId(built.stack, built.stack.alarmTopic as never) };
    for (const alarm of built.alarms) {
      expect({ name: alarm.AlarmName, actions: alarm.AlarmActions, ok: alarm.OKActions }).toEqual({
        name: alarm.AlarmName,
        actions: [topic],
        ok: [topic],
      });
    }
  });

  it('names every alarm so that the topic and key policies let CloudWatch publish its notifications', () => {
    const policy = Object.values(built.template.findResources('AWS::SNS::TopicPolicy'))[0] as {
      Properties: { PolicyDocument: { Statement: PolicyStatement[] } };
    };
    const key = Object.values(built.template.findResources('AWS::KMS::Key'))[0] as {
      Properties: { KeyPolicy: { Statement: PolicyStatement[] } };
    };
    for (const alarm of built.alarms) {
      const context = {
        'aws:SourceAccount': FIXTURE_ENV.account,
        'aws:SourceArn': `arn:aws:cloudwatch:${FIXTURE_ENV.region}:${FIXTURE_ENV.account}:alarm:${alarm.AlarmName}`,
      };
      const req = (action: string) => ({ servicePrincipal: 'cloudwatch.amazonaws.com', action, context });
      expect([alarm.AlarmName, isAllowed(policy.Properties.PolicyDocument.Statement, req('sns:Publish'))]).toEqual([
        alarm.AlarmName,
        true,
      ]);
      expect(isAllowed(key.Properties.KeyPolicy.Statement, req('kms:GenerateDataKey'))).toBe(true);
    }
  });

  it.each([
    // Something that must always report: silence is the failure.
    ['Payments-DMS-task-CdcLatencySource', 'breaching'],
    ['Payments-DMS-task-CdcLatencyTarget', 'breaching'],
    ['Source-logical-replication-TransactionLogsDiskUsage', 'breaching'],
    ['Source-Db-CPU-Usage', 'breaching'],
    ['Target-Db-Min-Usage-Count', 'breaching'],
    ['Target-database-Connections', 'breaching'],
    ['Source-database-Iops', 'breaching'],
    ['Target-Service-CPU-Usage', 'breaching'],
    ['Source-Service-Memory-Usage', 'breaching'],
    ['Target-Service-Unhealthy-Tasks', 'breaching'],
    // Emitted only when there is something to count.
    ['Payments-DMS-task-ValidationFailed', 'notBreaching'],
    ['Payments-DMS-task-ValidationSuspended', 'notBreaching'],
    ['Source-logical-replication-ReplicationSlotLag', 'notBreaching'],
    ['Target-load-balancer-Http5xx', 'notBreaching'],
    ['Target-load-balancer-LatencyP99', 'notBreaching'],
    ['Logs-bucket-replication-ReplicationLatency', 'notBreaching'],
    ['Logs-bucket-replication-ReplicationFailed', 'notBreaching'],
  ])('%s treats missing data as %s', (name, treatment) => {
    expect(byName.get(name)?.TreatMissingData).toBe(treatment);
  });

  it('alarms on CDC latency above 60 s on both sides by default', () => {
    for (const side of ['Source', 'Target']) {
      const alarm = byName.get(`Payments-DMS-task-CdcLatency${side}`)!;
      expect([alarm.Namespace, alarm.MetricName, alarm.Threshold]).toEqual(['AWS/DMS', `CDCLatency${side}`, 60]);
    }
  });

  describe('dimensions come from resource attributes', () => {
    const f: PaymentFixtures = built.fixtures;
    const fx = f.stack;
    const resolve = (v: unknown) => exported(built.fixtureTemplate, v);
    const dims = (name: string) => dimensionsOf(byName.get(name)!);

    it('DMS: the task resource id the custom resource reports, and the instance identifier given', () => {
      const task = logicalId(fx, f.replicationTask.resource as never);
      for (const { dims: d } of dims('Payments-DMS-task-CdcLatencySource')) {
        expect(resolve(d.ReplicationTaskIdentifier)).toEqual({ 'Fn::GetAtt': [task, 'TaskResourceId'] });
        expect(d.ReplicationInstanceIdentifier).toBe('payments-dev');
      }
    });

    it.each(['Source', 'Target'] as const)('%s database: the instance Ref', (side) => {
      const db = { Ref: logicalId(fx, f[side === 'Source' ? 'source' : 'target'].database as never) };
      for (const name of [`${side}-Db-CPU-Usage`, `${side}-database-Connections`, `${side}-database-Iops`]) {
        for (const { dims: d } of dims(name)) expect(resolve(d.DBInstanceIdentifier)).toEqual(db);
      }
      if (side === 'Source') {
        for (const { dims: d } of dims('Source-logical-replication-ReplicationSlotLag'))
          expect(resolve(d.DBInstanceIdentifier)).toEqual(db);
      }
    });

    it.each(['Source', 'Target'] as const)('%s load balancer and service: full names and the service name', (side) => {
      const env = f[side === 'Source' ? 'source' : 'target'];
      const lb = logicalId(fx, env.loadBalancer as never);
      const tg = logicalId(fx, env.targetGroup as never);
      const [elb] = dims(`${side}-load-balancer-Http5xx`).filter((m) => m.metric === 'HTTPCode_ELB_5XX_Count');
      expect(resolve(elb!.dims.LoadBalancer)).toEqual({ 'Fn::GetAtt': [lb, 'LoadBalancerFullName'] });
      for (const { dims: d } of dims(`${side}-load-balancer-LatencyP99`))
        expect(resolve(d.TargetGroup)).toEqual({ 'Fn::GetAtt': [tg, 'TargetGroupFullName'] });
      for (const { dims: d } of dims(`${side}-Service-CPU-Usage`)) {
        expect(resolve(d.ServiceName)).toEqual({ 'Fn::GetAtt': [logicalId(fx, env.service as never), 'Name'] });
      }
    });

    it('log bucket replication: the bucket Ref, the destination name and the rule id', () => {
      for (const { dims: d } of dims('Logs-bucket-replication-ReplicationLatency')) {
        expect(resolve(d.SourceBucket)).toEqual({ Ref: logicalId(fx, f.logBucket as never) });
        expect([d.DestinationBucket, d.RuleId]).toEqual(['payments-dev-replica', 'logs']);
      }
    });
  });

  it('exposes the application alarms the cutover workflow gates on, and no replication alarm among them', () => {
    const resources = built.template.toJSON().Resources as Record<string, { Properties: AlarmJson }>;
    const names = (alarms: cloudwatch.IAlarm[]) =>
      alarms.map((a) => resources[logicalId(built.stack, a as cloudwatch.Alarm)]!.Properties.AlarmName);
    const app = names(built.stack.appAlarms);
    expect(app).toHaveLength(18);
    expect(app.every((n) => /^payment-dev-(Source|Target)-(Service|load-balancer|Db|database)-/.test(n))).toBe(true);
    expect(names(built.stack.replicationAlarms)).toHaveLength(8);
    expect(built.stack.alarms).toHaveLength(built.alarms.length);
  });

  it('creates one dashboard, named for the environment', () => {
    built.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    built.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'payment-dev' });
  });

  it('applies thresholds given in props', () => {
    const { alarms } = build({ cdcLatencyThresholdSeconds: 30, databaseMaxConnections: 900 });
    const named = new Map(alarms.map((a) => [suffix(a), a]));
    expect(named.get('Payments-DMS-task-CdcLatencyTarget')?.Threshold).toBe(30);
    expect(named.get('Source-database-Connections')?.Threshold).toBe(900);
  });

  it('keeps the topic key in prod and lets it go elsewhere', () => {
    built.template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    build({ envName: 'prod' }).template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });

  it('subscribes the alarm e-mail', () => {
    build({ alarmEmail: 'payments@example.com' }).template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'payments@example.com',
    });
  });

  it('leaves no AwsSolutions finding', () => {
    const report = new AwsSolutionsChecks(built.stack).validateScope(built.stack);
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources.map((r) => r.resourceLogicalId))}`,
      ),
    ).toEqual([]);
  });

  it('passes the encryption-at-rest checks, with customer managed keys required', () => {
    const fixtures = paymentFixtures();
    const stack = new PaymentMonitoringStack(fixtures.app, 'Encrypted', {
      env: FIXTURE_ENV,
      envName: 'prod',
      source: fixtures.source,
      target: fixtures.target,
      replicationTask: fixtures.replicationTask,
      replicationInstanceIdentifier: 'payments-prod',
      logReplication: { sourceBucket: fixtures.logBucket, destinationBucketName: 'replica', ruleId: 'logs' },
    });
    enforceEncryptionAtRest(stack, { requireCustomerManagedKeys: true });
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });

  it('refuses a name prefix that cannot be part of an alarm name', () => {
    expect(() => build({ namePrefix: 'payment dev' })).toThrow(/must be 1-100 letters, digits/);
  });
});
