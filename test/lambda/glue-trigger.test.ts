import 'aws-sdk-client-mock-jest';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  ConcurrentRunsExceededException,
  EntityNotFoundException,
  GetJobRunsCommand,
  GlueClient,
  InternalServiceException,
  InvalidInputException,
  StartJobRunCommand,
} from '@aws-sdk/client-glue';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda/glue-trigger';
import { correlationIdFor } from '../../lambda/glue-trigger/correlation';
import { retryVisibilitySeconds } from '../../lambda/glue-trigger/retry-delay';
import { processBatch } from '../../lambda/glue-trigger/start-validation';
import { loadConfig } from '../../lambda/glue-trigger/config';
import { MissingConfigError } from '../../lambda/shared/env';
import { logger } from '../../lambda/shared/powertools';
import { captureStdout, lambdaContext, loadEvent } from '../fixtures/events';

const glue = mockClient(GlueClient);
const dynamodb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);
const sns = mockClient(SNSClient);

const ENV = {
  GLUE_JOB_NAME: 'validation-job',
  STATE_TABLE_NAME: 'pipeline-state',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-west-2.amazonaws.com/123456789012/glue-trigger-dlq',
  QUEUE_URL: 'https://sqs.us-west-2.amazonaws.com/123456789012/glue-trigger',
  DATA_BUCKET_NAME: 'data-bucket',
};

type S3Event = ReturnType<typeof s3Event>;

function s3Event(key = 'incoming/sales/2026-01-01.csv', changes: { size?: number; versionId?: string | null } = {}) {
  const event = loadEvent<{
    detail: { bucket: { name: string }; object: Record<string, unknown> };
  }>('s3-object-created');
  event.detail.bucket.name = 'data-bucket';
  event.detail.object.key = key;
  if (changes.size !== undefined) event.detail.object.size = changes.size;
  if (changes.versionId === null) delete event.detail.object['version-id'];
  else if (changes.versionId !== undefined) event.detail.object['version-id'] = changes.versionId;
  return event;
}

function sqsRecord(body: unknown, messageId = 'msg-1', receiveCount = 1): SQSRecord {
  const template = loadEvent<SQSEvent>('sqs-event').Records[0]!;
  return {
    ...template,
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ...template.attributes, ApproximateReceiveCount: String(receiveCount) },
  };
}

const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

function correlationOf(event: S3Event): string {
  const o = event.detail.object;
  return correlationIdFor({
    bucket: event.detail.bucket.name,
    key: o.key as string,
    versionId: o['version-id'] as string | undefined,
    etag: o.etag as string | undefined,
    sequencer: o.sequencer as string | undefined,
  });
}

let stdout: ReturnType<typeof captureStdout>;

beforeEach(() => {
  for (const client of [glue, dynamodb, sqs, sns]) client.reset();
  Object.assign(process.env, ENV);
  dynamodb.on(PutItemCommand).resolves({});
  dynamodb.on(UpdateItemCommand).resolves({});
  dynamodb.on(DeleteItemCommand).resolves({});
  glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_new' });
  glue.on(GetJobRunsCommand).resolves({ JobRuns: [] });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
  stdout = captureStdout();
  logger.setLogLevel('INFO');
});

afterEach(() => {
  stdout.restore();
  for (const name of Object.keys(ENV)) delete process.env[name];
});

describe('glue trigger: a new object under incoming/', () => {
  test('claims the object, starts the job with bucket, key, version and correlation id, and records the run', async () => {
    const event = s3Event();
    const result = await handler(sqsEvent(sqsRecord(event)), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    const correlationId = correlationOf(event);
    expect(glue).toHaveReceivedCommandTimes(StartJobRunCommand, 1);
    expect(glue).toHaveReceivedCommandWith(StartJobRunCommand, {
      JobName: 'validation-job',
      Arguments: {
        '--bucket': 'data-bucket',
        '--key': 'incoming/sales/2026-01-01.csv',
        '--version_id': 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
        '--correlation_id': correlationId,
      },
    });
    const put = dynamodb.commandCalls(PutItemCommand)[0]!.args[0].input;
    expect(put.TableName).toBe('pipeline-state');
    expect(put.Item?.id).toEqual({ S: `glue-run#${correlationId}` });
    expect(put.ConditionExpression).toContain('attribute_not_exists(id)');
    const complete = dynamodb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(complete.Key).toEqual({ id: { S: `glue-run#${correlationId}` } });
    expect(Object.values(complete.ExpressionAttributeValues ?? {})).toContainEqual({ S: 'jr_new' });
    expect(complete.ConditionExpression).toContain('leaseOwner = :owner');
  });

  test('the correlation id depends only on the object identity', () => {
    const a = correlationOf(s3Event());
    expect(correlationOf(s3Event())).toBe(a);
    expect(correlationOf(s3Event(undefined, { versionId: 'another-version' }))).not.toBe(a);
    expect(correlationOf(s3Event('incoming/sales/other.csv'))).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });

  test('an unversioned object is identified by etag and sequencer and passes version "null"', async () => {
    const event = s3Event(undefined, { versionId: null });
    await handler(sqsEvent(sqsRecord(event)), lambdaContext());
    const args = glue.commandCalls(StartJobRunCommand)[0]!.args[0].input.Arguments!;
    expect(args['--version_id']).toBe('null');
    expect(args['--correlation_id']).toBe(correlationOf(event));
  });

  test('version id "null" (versioning suspended) is no identity: re-uploads of the key are new objects', async () => {
    const first = s3Event(undefined, { versionId: 'null' });
    const second = s3Event(undefined, { versionId: 'null' });
    second.detail.object.sequencer = '0062E99A88DC407461';
    second.detail.object.etag = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
    await handler(sqsEvent(sqsRecord(first, 'first'), sqsRecord(second, 'second')), lambdaContext());

    const ids = glue.commandCalls(StartJobRunCommand).map((c) => c.args[0].input.Arguments!['--correlation_id']);
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids[0]).toBe(
      correlationIdFor({
        bucket: 'data-bucket',
        key: first.detail.object.key as string,
        etag: first.detail.object.etag as string,
        sequencer: first.detail.object.sequencer as string,
      }),
    );
    expect(glue.commandCalls(StartJobRunCommand)[0]!.args[0].input.Arguments!['--version_id']).toBe('null');
  });

  test('keys are used exactly as EventBridge delivers them, never URL-decoded', async () => {
    await handler(sqsEvent(sqsRecord(s3Event('incoming/a+b c%20d.csv'))), lambdaContext());
    expect(glue.commandCalls(StartJobRunCommand)[0]!.args[0].input.Arguments!['--key']).toBe('incoming/a+b c%20d.csv');
  });

  test('every log line about a record carries its correlation id', async () => {
    const event = s3Event();
    await handler(sqsEvent(sqsRecord(event)), lambdaContext());
    const recordLines = stdout.lines().filter((line) => typeof line.message === 'string');
    expect(recordLines.length).toBeGreaterThan(0);
    for (const line of recordLines) expect(line.correlationId).toBe(correlationOf(event));
  });
});

describe('glue trigger: duplicates and replays', () => {
  test('a completed claim means the job already ran: no second run', async () => {
    const event = s3Event();
    dynamodb.on(PutItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: {
          id: { S: `glue-run#${correlationOf(event)}` },
          claimState: { S: 'COMPLETED' },
          jobRunId: { S: 'jr_first' },
        },
      }),
    );
    const result = await handler(sqsEvent(sqsRecord(event)), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
  });

  test('a claim held by a live invocation is retried later, not started twice', async () => {
    dynamodb.on(PutItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: {
          id: { S: 'glue-run#x' },
          claimState: { S: 'IN_PROGRESS' },
          leaseOwner: { S: 'other-request' },
          leaseExpiresAt: { N: String(Date.now() + 60_000) },
        },
      }),
    );
    const result = await handler(sqsEvent(sqsRecord(s3Event())), lambdaContext());

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { ReceiptHandle: 'receipt-msg-1' });
  });

  test('taking over an expired claim finds the run the dead holder started instead of starting another', async () => {
    const event = s3Event();
    const correlationId = correlationOf(event);
    dynamodb.on(PutItemCommand).resolves({
      Attributes: {
        id: { S: `glue-run#${correlationId}` },
        claimState: { S: 'IN_PROGRESS' },
        leaseOwner: { S: 'dead-request' },
        leasedAt: { N: String(Date.now() - 120_000) },
        leaseExpiresAt: { N: String(Date.now() - 60_000) },
      },
    });
    glue.on(GetJobRunsCommand).resolves({
      JobRuns: [
        { Id: 'jr_other', StartedOn: new Date(), Arguments: { '--correlation_id': 'someone-else' } },
        { Id: 'jr_orphan', StartedOn: new Date(Date.now() - 90_000), Arguments: { '--correlation_id': correlationId } },
      ],
    });
    const result = await handler(sqsEvent(sqsRecord(event)), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
    const complete = dynamodb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(Object.values(complete.ExpressionAttributeValues ?? {})).toContainEqual({ S: 'jr_orphan' });
  });

  test('taking over an expired claim whose holder never started the job starts it', async () => {
    dynamodb.on(PutItemCommand).resolves({
      Attributes: {
        id: { S: 'glue-run#x' },
        claimState: { S: 'IN_PROGRESS' },
        leasedAt: { N: String(Date.now() - 120_000) },
      },
    });
    const result = await handler(sqsEvent(sqsRecord(s3Event())), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(glue).toHaveReceivedCommand(GetJobRunsCommand);
    expect(glue).toHaveReceivedCommandTimes(StartJobRunCommand, 1);
  });
});

describe('glue trigger: Glue concurrency and throttling', () => {
  test('ConcurrentRunsExceeded returns the record as a batch item failure, extends visibility and frees the claim', async () => {
    glue
      .on(StartJobRunCommand)
      .rejects(new ConcurrentRunsExceededException({ message: 'Concurrent runs exceeded', $metadata: {} }));
    const deps = { invocation: { owner: 'req', now: () => 1_000_000, leaseExpiresAt: 1_040_000 }, random: () => 1 };
    const { batchItemFailures, outcomes } = await processBatch([sqsRecord(s3Event(), 'msg-1', 3)], loadConfig(), deps);

    expect(batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(outcomes[0]).toMatchObject({ result: 'retry', visibilitySeconds: 120 });
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
      QueueUrl: ENV.QUEUE_URL,
      ReceiptHandle: 'receipt-msg-1',
      VisibilityTimeout: 120,
    });
    expect(dynamodb).toHaveReceivedCommandWith(DeleteItemCommand, { TableName: 'pipeline-state' });
    expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
  });

  test.each([
    ['InvalidInputException', () => new InvalidInputException({ message: 'bad argument', $metadata: {} })],
    ['EntityNotFoundException', () => new EntityNotFoundException({ message: 'no such job', $metadata: {} })],
  ])('a refusal (%s) frees the claim: the run certainly does not exist', async (_name, error) => {
    glue.on(StartJobRunCommand).rejects(error());
    const result = await handler(sqsEvent(sqsRecord(s3Event())), lambdaContext());

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(dynamodb).toHaveReceivedCommandTimes(DeleteItemCommand, 1);
  });

  test.each([
    ['a 5xx', () => new InternalServiceException({ message: 'Internal failure', $metadata: { httpStatusCode: 500 } })],
    ['a client timeout', () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })],
  ])('after %s the run may exist: the claim is kept for the next taker to look it up', async (_name, error) => {
    glue.on(StartJobRunCommand).rejects(error());
    const result = await handler(sqsEvent(sqsRecord(s3Event())), lambdaContext());

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(dynamodb).not.toHaveReceivedCommand(DeleteItemCommand);
    expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
  });

  test('the retry delay doubles per receive, is capped at 15 minutes, and is jittered within the upper half', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 30].map((n) => retryVisibilitySeconds(n, () => 1))).toEqual([
      30, 60, 120, 240, 480, 900, 900, 900,
    ]);
    expect(retryVisibilitySeconds(3, () => 0)).toBe(60);
  });

  test('only the failing record of a batch is retried', async () => {
    glue.on(StartJobRunCommand).callsFake((input: { Arguments: Record<string, string> }) => {
      if (input.Arguments['--key'] === 'incoming/b.csv') {
        throw new ConcurrentRunsExceededException({ message: 'busy', $metadata: {} });
      }
      return { JobRunId: 'jr_a' };
    });
    const result = await handler(
      sqsEvent(sqsRecord(s3Event('incoming/a.csv'), 'ok'), sqsRecord(s3Event('incoming/b.csv'), 'busy')),
      lambdaContext(),
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'busy' }]);
  });
});

describe('glue trigger: input it does not validate', () => {
  test('a body that is not JSON goes to the dead-letter queue with the reason and is not retried', async () => {
    const result = await handler(sqsEvent(sqsRecord('not json')), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: ENV.DEAD_LETTER_QUEUE_URL,
      MessageBody: 'not json',
      MessageAttributes: expect.objectContaining({
        error: {
          DataType: 'String',
          StringValue: 'body is not JSON: expected an S3 Object Created event from EventBridge',
        },
      }) as never,
    });
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
  });

  test('a missing key is named in the dead-letter message', async () => {
    const event = s3Event();
    delete event.detail.object.key;
    await handler(sqsEvent(sqsRecord(event)), lambdaContext());

    const attrs = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageAttributes!;
    expect(attrs.error!.StringValue).toBe(
      'detail.object.key is missing: expected an S3 Object Created event from EventBridge',
    );
  });

  test('version id "null" without a sequencer cannot identify the upload: malformed, named', async () => {
    const event = s3Event(undefined, { versionId: 'null' });
    delete event.detail.object.sequencer;
    await handler(sqsEvent(sqsRecord(event)), lambdaContext());
    const attrs = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageAttributes!;
    expect(attrs.error!.StringValue).toBe(
      "detail.object.sequencer is missing (and detail.object.version-id is 'null'): expected an S3 Object Created event from EventBridge",
    );
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
  });

  test('another S3 event type is malformed input, not data', async () => {
    const event = s3Event() as Record<string, unknown>;
    event['detail-type'] = 'Object Deleted';
    await handler(sqsEvent(sqsRecord(event)), lambdaContext());
    const attrs = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageAttributes!;
    expect(attrs.error!.StringValue).toMatch(/^detail-type is 'Object Deleted', not 'Object Created'/);
  });

  test('if the dead-letter queue cannot take the record, SQS keeps it', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('SQS unavailable'));
    const result = await handler(sqsEvent(sqsRecord('not json')), lambdaContext());
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
  });

  test('keys outside incoming/ are ignored without touching Glue or the state table', async () => {
    const result = await handler(sqsEvent(sqsRecord(s3Event('validated/sales/2026-01-01.csv'))), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(glue).not.toHaveReceivedAnyCommand();
    expect(dynamodb).not.toHaveReceivedAnyCommand();
    expect(stdout.lines().find((line) => line.message === 'Ignoring object outside the incoming prefix')).toMatchObject(
      {
        key: 'validated/sales/2026-01-01.csv',
      },
    );
  });

  test('an object in another bucket is skipped and logged, without any AWS call', async () => {
    const event = s3Event('incoming/sales/2026-01-01.csv');
    event.detail.bucket.name = 'someone-elses-bucket';
    const result = await handler(sqsEvent(sqsRecord(event)), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    for (const client of [glue, dynamodb, sqs, sns]) expect(client).not.toHaveReceivedAnyCommand();
    const skip = stdout
      .lines()
      .find((line) => line.message === "Skipping an object in a bucket that is not this stage's data bucket");
    expect(skip).toMatchObject({ level: 'WARN', bucket: 'someone-elses-bucket', dataBucketName: 'data-bucket' });
  });

  test('the bucket check compares the whole name, not a prefix of it', async () => {
    const event = s3Event('incoming/sales/2026-01-01.csv');
    event.detail.bucket.name = 'data-bucket-2';
    await handler(sqsEvent(sqsRecord(event)), lambdaContext());
    expect(glue).not.toHaveReceivedAnyCommand();
  });

  test('a folder marker is logged and counted, not validated and not alerted', async () => {
    const event = s3Event('incoming/sales/', { size: 0 });
    const result = await handler(sqsEvent(sqsRecord(event), sqsRecord(event, 'msg-2')), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(glue).not.toHaveReceivedAnyCommand();
    expect(dynamodb).not.toHaveReceivedAnyCommand();
    expect(sns).not.toHaveReceivedAnyCommand();
    const emf = stdout.lines().find((line) => line._aws !== undefined);
    expect(emf).toMatchObject({ FolderMarkersSkipped: [1, 1] });
  });

  test('a zero-byte file is validated like any other, so the job can give it a FAILED report', async () => {
    const event = s3Event('incoming/sales/empty.csv', { size: 0 });
    const result = await handler(sqsEvent(sqsRecord(event)), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(glue).toHaveReceivedCommandWith(StartJobRunCommand, {
      Arguments: expect.objectContaining({
        '--key': 'incoming/sales/empty.csv',
        '--correlation_id': correlationOf(event),
      }) as never,
    });
    expect(sns).not.toHaveReceivedAnyCommand();
  });

  test('a missing variable fails the invocation naming it', async () => {
    delete process.env.QUEUE_URL;
    await expect(handler(sqsEvent(sqsRecord(s3Event())), lambdaContext())).rejects.toThrow(MissingConfigError);
    await expect(handler(sqsEvent(sqsRecord(s3Event())), lambdaContext())).rejects.toThrow(/QUEUE_URL/);
  });
});
