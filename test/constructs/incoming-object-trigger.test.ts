import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { GLUE_TRIGGER_TIMEOUT_SECONDS, queueSizing } from '../../lib/config/burst-sizing';
import type { GlueConfig } from '../../lib/config/environment-config';
import { IncomingObjectTrigger } from '../../lib/constructs/incoming-object-trigger';
import { loadEvent } from '../fixtures/events';
import { matchesPattern } from '../support/event-pattern';
import { actionsOn, HOP, hopStack, statementsOf } from '../support/hop-fixture';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';

const GLUE: Pick<GlueConfig, 'batch' | 'maxConcurrentRuns' | 'maxRetries'> = {
  maxConcurrentRuns: 4,
  maxRetries: 0,
  batch: { maxObjects: 50, maxBatchingWindowSeconds: 20, maxTriggerConcurrency: 3 },
};

function build(glue = GLUE) {
  const { app, stack, inputs } = hopStack();
  const trigger = new IncomingObjectTrigger(stack, 'IncomingObjectTrigger', {
    logRetention: logs.RetentionDays.ONE_MONTH,
    dataBucket: inputs.dataBucket,
    validationJob: inputs.validationJob,
    glue,
    stateTable: inputs.stateTable,
    stateTableKey: inputs.key,
    queueKey: inputs.queueKey,
  });
  const template = Template.fromStack(stack);
  return { app, stack, inputs, trigger, template };
}

const arnOf = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => ({
  'Fn::GetAtt': [stack.getLogicalId(construct.node.defaultChild as never), 'Arn'],
});

interface S3Event {
  'detail-type': string;
  detail: { bucket: { name: string }; object: { key: string } };
}

describe('IncomingObjectTrigger', () => {
  const { app, stack, inputs, trigger, template } = build();
  const sizing = queueSizing(GLUE, GLUE_TRIGGER_TIMEOUT_SECONDS);
  const statements = statementsOf(template, stack, trigger.handler.role);

  test('the queue is sized from the drain time: visibility covers six function timeouts plus the window', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 6 * GLUE_TRIGGER_TIMEOUT_SECONDS + 20,
      MessageRetentionPeriod: Math.min(sizing.retentionSeconds, 14 * 24 * 3600),
      RedrivePolicy: {
        deadLetterTargetArn: arnOf(stack, trigger.deadLetterQueue),
        maxReceiveCount: sizing.maxReceiveCount,
      },
      KmsMasterKeyId: HOP.queueKeyArn,
    });
    const fn = template.findResources('AWS::Lambda::Function');
    const [timeout] = Object.values(fn).map((f) => (f as { Properties: { Timeout: number } }).Properties.Timeout);
    expect(timeout).toBe(GLUE_TRIGGER_TIMEOUT_SECONDS);
    expect(6 * (timeout as number)).toBeLessThan(sizing.visibilityTimeoutSeconds);
  });

  test('the event source reads batches of maxObjects within the window, with few pollers and partial failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(stack, trigger.queue),
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 20,
      ScalingConfig: { MaximumConcurrency: 3 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('the function gets every variable the handler reads, from the same config', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          GLUE_JOB_NAME: HOP.jobName,
          STATE_TABLE_NAME: HOP.tableName,
          INCOMING_PREFIX: 'incoming/',
          DATA_BUCKET_NAME: HOP.bucketName,
          BATCH_MAX_OBJECTS: '50',
          BATCH_MAX_BYTES: String(10 * 1024 ** 3),
          MAX_CONCURRENT_RUNS: '4',
          // maxRetries 0: Glue queues runs itself.
          PROBE_CAPACITY: 'false',
          WAIT_MIN_SECONDS: String(sizing.waitSeconds.min),
          WAIT_MAX_SECONDS: String(sizing.waitSeconds.max),
          MAX_RECEIVE_COUNT: String(sizing.maxReceiveCount),
        }),
      },
    });
  });

  test('with Glue retries the trigger counts running runs itself', () => {
    const withRetries = build({ ...GLUE, maxRetries: 1 }).template;
    withRetries.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PROBE_CAPACITY: 'true' }) },
    });
  });

  test('the rule sends events to the queue with retries, and keeps what it cannot deliver', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: arnOf(stack, trigger.queue),
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 24 * 3600 },
          DeadLetterConfig: { Arn: arnOf(stack, trigger.deadLetterQueue) },
        }),
      ],
    });
  });

  test('grants: start and find runs of this job, hand back its own messages, park in its DLQ, claim in the table', () => {
    expect(actionsOn(statements, stack.resolve(inputs.validationJob.jobArn))).toEqual([
      'glue:GetJobRuns',
      'glue:StartJobRun',
    ]);
    // The event source's receive/delete grant, plus ChangeMessageVisibility to hand a record back with a delay.
    expect(actionsOn(statements, arnOf(stack, trigger.queue))).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
    expect(actionsOn(statements, arnOf(stack, trigger.deadLetterQueue))).toEqual(
      expect.arrayContaining(['sqs:SendMessage']),
    );
    expect(actionsOn(statements, stack.resolve(inputs.stateTable.tableArn))).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn(statements, HOP.keyArn)).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt']));
  });

  describe('the rule against documented sample events', () => {
    const [rule] = Object.values(template.findResources('AWS::Events::Rule')) as {
      Properties: { EventPattern: object };
    }[];
    const pattern = rule!.Properties.EventPattern;
    const created = (mutate: (e: S3Event) => void): S3Event => {
      const e = loadEvent<S3Event>('s3-object-created');
      mutate(e);
      return e;
    };

    test('an object created under incoming/ in our bucket starts a validation', () => {
      expect(
        matchesPattern(
          pattern,
          created((e) => (e.detail.object.key = 'incoming/orders/2026-01-01.csv')),
        ),
      ).toBe(true);
    });

    test.each([
      ['the verbatim sample (key outside incoming/)', () => undefined],
      ["an object under validated/ (the job's own output)", (e: S3Event) => (e.detail.object.key = 'validated/o.csv')],
      ['an object under quarantine/', (e: S3Event) => (e.detail.object.key = 'quarantine/incoming/orders.csv')],
      ['a key that only contains incoming/', (e: S3Event) => (e.detail.object.key = 'reports/incoming/orders.csv')],
      [
        'another bucket',
        (e: S3Event) => {
          e.detail.object.key = 'incoming/orders.csv';
          e.detail.bucket.name = 'someone-elses-bucket';
        },
      ],
      [
        'an Object Deleted event',
        (e: S3Event) => {
          e.detail.object.key = 'incoming/orders.csv';
          e['detail-type'] = 'Object Deleted';
        },
      ],
    ])('%s does not', (_name, mutate) => {
      expect(matchesPattern(pattern, created(mutate as (e: S3Event) => void))).toBe(false);
    });
  });

  test('leaves no unacknowledged AwsSolutions finding in a bare stack', () => {
    expect(unacknowledgedAwsSolutionsFindings(app)).toEqual([]);
  });
});
