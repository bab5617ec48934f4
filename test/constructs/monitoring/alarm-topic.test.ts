import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AlarmTopic } from '../../../lib/constructs/monitoring/alarm-topic';
import { isAllowed, type PolicyStatement } from '../../support/policy-evaluator';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';

function build(props: ConstructorParameters<typeof AlarmTopic>[2] = {}) {
  const app = new App();
  const stack = new Stack(app, 'Topics', { env: { account: ACCOUNT, region: REGION } });
  const topic = new AlarmTopic(stack, 'AlarmTopic', { alarmNamePrefix: 'payment-dev', ...props });
  const template = Template.fromStack(stack);
  const only = <T>(type: string): T => {
    const found = Object.values(template.findResources(type));
    expect(found).toHaveLength(1);
    return found[0] as T;
  };
  const topicPolicy = only<{ Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }>(
    'AWS::SNS::TopicPolicy',
  ).Properties.PolicyDocument.Statement;
  const keyPolicy = only<{ Properties: { KeyPolicy: { Statement: PolicyStatement[] } } }>('AWS::KMS::Key').Properties
    .KeyPolicy.Statement;
  return { topic, template, topicPolicy, keyPolicy };
}

const alarmContext = (account: string, alarmName: string) => ({
  'aws:SourceAccount': account,
  'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${account}:alarm:${alarmName}`,
});

describe('AlarmTopic', () => {
  const built = build({ email: 'oncall@example.com' });

  it('encrypts the topic with its own rotating key and refuses plain HTTP', () => {
    built.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    built.template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    const stack = Stack.of(built.topic);
    built.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [stack.getLogicalId(built.topic.key.node.defaultChild as CfnElement), 'Arn'] },
    });
    const denyHttp = built.topicPolicy.find(
      (s) =>
        s.Effect === 'Deny' &&
        JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
    );
    expect(denyHttp).toBeDefined();
  });

  it.each([
    ['topic policy', 'sns:Publish'],
    ['key policy', 'kms:GenerateDataKey'],
    ['key policy', 'kms:Decrypt'],
  ] as const)('the %s lets CloudWatch alarms of this account named with the prefix %s', (which, action) => {
    const statements = which === 'topic policy' ? built.topicPolicy : built.keyPolicy;
    const request = (context: Record<string, string>) => ({
      servicePrincipal: 'cloudwatch.amazonaws.com',
      action,
      context,
    });
    expect(isAllowed(statements, request(alarmContext(ACCOUNT, 'payment-dev-Source-Db-CPU')))).toBe(true);
    // Another account's alarm (confused deputy), an alarm outside the prefix, and a request without source: refused.
    expect(isAllowed(statements, request(alarmContext('222222222222', 'payment-dev-Source-Db-CPU')))).toBe(false);
    expect(isAllowed(statements, request(alarmContext(ACCOUNT, 'someone-else')))).toBe(false);
    expect(isAllowed(statements, request({}))).toBe(false);
  });

  it('lets EventBridge rules of this account publish, and use the key without source conditions it cannot meet', () => {
    const rule = { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': `arn:aws:events:${REGION}:${ACCOUNT}:rule/r` };
    const events = (action: string, context: Record<string, string>) => ({
      servicePrincipal: 'events.amazonaws.com',
      action,
      context,
    });
    expect(isAllowed(built.topicPolicy, events('sns:Publish', rule))).toBe(true);
    expect(isAllowed(built.topicPolicy, events('sns:Publish', { ...rule, 'aws:SourceAccount': '222222222222' }))).toBe(
      false,
    );
    // EventBridge sends no aws:Source* keys to KMS.
    expect(isAllowed(built.keyPolicy, events('kms:GenerateDataKey', {}))).toBe(true);
  });

  it('never allows any principal but the account and these services', () => {
    for (const s of [...built.topicPolicy, ...built.keyPolicy].filter((s) => s.Effect === 'Allow')) {
      expect(s.Principal).not.toBe('*');
      expect(JSON.stringify(s.Principal)).not.toContain('"AWS":"*"');
    }
  });

  it('subscribes the e-mail address when given, and nothing otherwise', () => {
    built.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    build().template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('without a prefix, any alarm of the account may publish', () => {
    const { topicPolicy } = build({ alarmNamePrefix: '' });
    expect(
      isAllowed(topicPolicy, {
        servicePrincipal: 'cloudwatch.amazonaws.com',
        action: 'sns:Publish',
        context: alarmContext(ACCOUNT, 'anything'),
      }),
    ).toBe(true);
  });
});
