import { Template } from 'aws-cdk-lib/assertions';
import { DeadLetterQueue } from '../../lib/constructs/dead-letter-queue';
import { HOP, hopStack } from '../support/hop-fixture';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';

describe('DeadLetterQueue', () => {
  const { app, stack, inputs } = hopStack();
  new DeadLetterQueue(stack, 'Dlq', { key: inputs.queueKey, deadLetterOf: 'a test queue' });
  const template = Template.fromStack(stack);

  test('is encrypted with the given key, keeps messages 14 days and refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: HOP.queueKeyArn,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'sqs:*',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: {
              'Fn::GetAtt': [stack.getLogicalId(stack.node.findChild('Dlq').node.defaultChild as never), 'Arn'],
            },
          },
        ],
      },
    });
  });

  test('leaves no unacknowledged AwsSolutions finding in a bare stack (it needs no DLQ of its own)', () => {
    expect(unacknowledgedAwsSolutionsFindings(app)).toEqual([]);
  });
});
