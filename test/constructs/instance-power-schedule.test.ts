import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { InstancePowerSchedule, InstancePowerScheduleProps } from '../../lib/constructs/instance-power-schedule';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';
import { resolveJoins } from './resolve-joins';

const ENV = { account: '111111111111', region: 'us-east-1' };
const START = 'cron(0 7 ? * MON-FRI *)';
const STOP = 'cron(0 19 ? * MON-FRI *)';

/** The instance lives in a fixture stack; the schedules in a bare stack meet it as a cross-stack reference. */
function build(options: Partial<InstancePowerScheduleProps> = {}) {
  const app = new App();
  const fixtures = new Stack(app, 'Fixtures', { env: ENV });
  const vpc = new ec2.Vpc(fixtures, 'Vpc', { maxAzs: 1, natGateways: 0 });
  const instance = new ec2.Instance(fixtures, 'Agent', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    instanceType: new ec2.InstanceType('m5.large'),
    machineImage: ec2.MachineImage.latestAmazonLinux2023(),
  });
  const stack = new Stack(app, 'Schedules', { env: ENV });
  const schedule = new InstancePowerSchedule(stack, 'AgentPower', {
    instance,
    startExpression: START,
    stopExpression: STOP,
    ...options,
  });
  const template = Template.fromStack(stack);
  return { stack, instance, schedule, template };
}

/** Joins resolved, with the instance id the fixture stack exports read as `<instance>`. */
const resolveInstance = (value: unknown) =>
  resolveJoins(value, (o) =>
    String(o['Fn::ImportValue']).startsWith('Fixtures:ExportsOutputRefAgent') ? '<instance>' : o,
  );

describe('InstancePowerSchedule', () => {
  const { stack, schedule, template } = build();
  const resources = template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
  const instanceArn = `arn:aws:ec2:${ENV.region}:${ENV.account}:instance/<instance>`;

  test.each([
    ['Start', START, 'startInstances'],
    ['Stop', STOP, 'stopInstances'],
  ])('%s: calls EC2 directly at %s (UTC) with the instance, retrying for up to an hour', (name, expression, action) => {
    const s = name === 'Start' ? schedule.startSchedule : schedule.stopSchedule;
    const properties = resources[stack.getLogicalId(s.node.defaultChild as never)]!.Properties;
    expect(resolveInstance(properties)).toMatchObject({
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: 'Etc/UTC',
      Description: `${name}s Fixtures/Agent: Runs the instance only when it is needed`,
      State: 'ENABLED',
      Target: {
        Arn: `arn:aws:scheduler:::aws-sdk:ec2:${action}`,
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    });
    const target = resolveInstance(properties.Target) as { Input: string };
    expect(JSON.parse(target.Input)).toEqual({ InstanceIds: ['<instance>'] });
  });

  it('lets the schedules start and stop that one instance, and nothing else', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
    );
    expect(resolveInstance(statements)).toEqual(
      expect.arrayContaining([
        { Action: 'ec2:StartInstances', Effect: 'Allow', Resource: instanceArn },
        { Action: 'ec2:StopInstances', Effect: 'Allow', Resource: instanceArn },
      ]),
    );
    expect(statements).toHaveLength(2);
  });

  it('says what the schedules are for', () => {
    build({ purpose: 'DataSync agent, weekdays only' }).template.resourcePropertiesCountIs(
      'AWS::Scheduler::Schedule',
      { Description: Match.stringLikeRegexp(': DataSync agent, weekdays only$') },
      2,
    );
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(stack)).toEqual([]);
  });
});
