import { App, CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import { AUDIT_EVENT_DLQ_ID, AuditEventTarget, AuditEventTargetProps } from '../../../lib/constructs/audit';
import { unacknowledgedAwsSolutionsFindings } from '../../support/nag';

const ENV = { account: '111111111111', region: 'us-west-2' };
const STREAM_ARN = 'arn:aws:firehose:us-west-2:111111111111:deliverystream/audit-events';
const ROLE_ARN = 'arn:aws:iam::111111111111:role/events-to-firehose';

/** Two rules in a bare stack targeting an imported stream through an imported role. */
function build(options: Partial<AuditEventTargetProps> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Rules', { env: ENV });
  const target = new AuditEventTarget({
    stream: firehose.DeliveryStream.fromDeliveryStreamArn(stack, 'Stream', STREAM_ARN),
    role: iam.Role.fromRoleArn(stack, 'PutRole', ROLE_ARN, { mutable: false }),
    ...options,
  });
  const rules = ['GlueStateChange', 'SfnStatusChange'].map(
    (id) =>
      new events.Rule(stack, id, {
        eventPattern: { source: [id === 'GlueStateChange' ? 'aws.glue' : 'aws.states'] },
        targets: [target],
      }),
  );
  const queue = AuditEventTarget.deadLetterQueue(stack);
  return { stack, rules, queue, template: Template.fromStack(stack) };
}

describe('AuditEventTarget', () => {
  const built = build();
  const t = built.template;
  const queueId = built.stack.getLogicalId(built.queue.node.defaultChild as CfnElement);

  it('sends each event to the stream through the role, with retries for 24 hours, then to the dead-letter queue', () => {
    const rules = Object.values(t.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(2);
    for (const rule of rules) {
      expect((rule as { Properties: { Targets: unknown[] } }).Properties.Targets).toEqual([
        expect.objectContaining({
          Arn: STREAM_ARN,
          RoleArn: ROLE_ARN,
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        }),
      ]);
    }
  });

  it('takes other retry bounds from its props', () => {
    build({ retryAttempts: 3, maxEventAge: Duration.hours(1) }).template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 } })],
    });
  });

  it('keeps one encrypted, TLS-only dead-letter queue per stack for 14 days', () => {
    t.resourceCountIs('AWS::SQS::Queue', 1);
    expect(queueId.startsWith(AUDIT_EVENT_DLQ_ID)).toBe(true);
    t.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    expect(AuditEventTarget.deadLetterQueue(built.rules[0]!)).toBe(built.queue);
  });

  it('lets each rule, and only that rule, send to the queue; plain HTTP is refused', () => {
    const [policy] = Object.values(t.findResources('AWS::SQS::QueuePolicy')) as {
      Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } };
    }[];
    const statements = policy!.Properties.PolicyDocument.Statement;
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(2);
    expect(
      allows.map((s) => (s.Condition as { ArnEquals: { 'aws:SourceArn': unknown } }).ArnEquals['aws:SourceArn']),
    ).toEqual(
      built.rules.map((r) => ({ 'Fn::GetAtt': [built.stack.getLogicalId(r.node.defaultChild as CfnElement), 'Arn'] })),
    );
    for (const s of allows) {
      expect(s).toMatchObject({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
      });
    }
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(built.stack)).toEqual([]);
  });
});
