import 'aws-sdk-client-mock-jest';
import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
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
import { ChangeMessageVisibilityBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda/glue-trigger';
import { correlationIdFor } from '../../lambda/glue-trigger/correlation';
import { retryVisibilitySeconds, waitVisibilitySeconds } from '../../lambda/glue-trigger/retry-delay';
import { chunkObjects } from '../../lambda/glue-trigger/batches';
import { processBatch } from '../../lambda/glue-trigger/start-validation';
import { loadConfig } from '../../lambda/glue-trigger/config';
import { MissingConfigError } from '../../lambda/shared/env';
import { logger } from '../../lambda/shared/powertools';
import { captureStdout, lambdaContext, loadEvent } from '../fixtures/events';

const glue = mockClient(GlueClient);
const dynamodb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const sns = mockClient(SNSClient);

const ENV = {
  GLUE_JOB_NAME: 'validation-job',
  STATE_TABLE_NAME: 'pipeline-state',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-west-2.amazonaws.com/123456789012/glue-trigger-dlq',
  QUEUE_URL: 'https://sqs.us-west-2.amazonaws.com/123456789012/glue-trigger',
  DATA_BUCKET_NAME: 'data-bucket',
  INCOMING_PREFIX: 'incoming/',
  BATCH_MAX_OBJECTS: '100',
  BATCH_MAX_BYTES: String(10 * 1024 ** 3),
  PROBE_CAPACITY: 'true',
  MAX_CONCURRENT_RUNS: '3',
  WAIT_MIN_SECONDS: '300',
  WAIT_MAX_SECONDS: '600',
  MAX_RECEIVE_COUNT: '25',
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

interface ObjectArg {
  bucket: string;
  key: string;
  versionId: string | null;
  correlationId: string;
}

/** The objects of each StartJobRun, from its --objects argument. */
function startedBatches(): ObjectArg[][] {
  return glue
    .commandCalls(StartJobRunCommand)
    .map((c) => JSON.parse(c.args[0].input.Arguments!['--objects']!) as ObjectArg[]);
}

// The Document client leaves the item of a failed condition in AttributeValue form; its results are plain values.
const conditionFailed = (item: Record<string, AttributeValue>) =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: item });

let stdout: ReturnType<typeof captureStdout>;

beforeEach(() => {
  for (const client of [glue, dynamodb, sqs, sns]) client.reset();
  Object.assign(process.env, ENV);
  dynamodb.on(PutCommand).resolves({});
  dynamodb.on(UpdateCommand).resolves({});
  dynamodb.on(DeleteCommand).resolves({});
  glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_new' });
  glue.on(GetJobRunsCommand).resolves({ JobRuns: [] });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
  stdout = captureStdout();
  logger.setLogLevel('INFO');
});

afterEach(() => {
  stdout.restore();
  for (const name of Object.keys(ENV)) delete process.env[name];
  for (const name of ['BATCH_MAX_OBJECTS', 'BATCH_MAX_BYTES', 'PROBE_CAPACITY']) delete process.env[name];
});

describe('glue trigger: a batch of new objects under incoming/', () => {
  test('claims each object with the batch id and starts ONE run with every object in --objects', async () => {
    const a = s3Event('incoming/sales/a.csv');
    const b = s3Event('incoming/sales/b.csv');
    const result = await handler(sqsEvent(sqsRecord(a, 'm-a'), sqsRecord(b, 'm-b')), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(glue).toHaveReceivedCommandTimes(StartJobRunCommand, 1);
    const input = glue.commandCalls(StartJobRunCommand)[0]!.args[0].input;
    expect(input.JobName).toBe('validation-job');
    expect(Object.keys(input.Arguments!).sort()).toEqual(['--batch_id', '--objects']);
    const batchId = input.Arguments!['--batch_id']!;
    expect(batchId).toMatch(/^[0-9a-f]{32}$/);
    expect(startedBatches()).toEqual([
      [
        {
          bucket: 'data-bucket',
          key: 'incoming/sales/a.csv',
          versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
          correlationId: correlationOf(a),
        },
        {
          bucket: 'data-bucket',
          key: 'incoming/sales/b.csv',
          versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
          correlationId: correlationOf(b),
        },
      ],
    ]);
    const puts = dynamodb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Item?.id).sort()).toEqual(
      [`glue-run#${correlationOf(a)}`, `glue-run#${correlationOf(b)}`].sort(),
    );
    for (const put of puts) {
      expect(put.TableName).toBe('pipeline-state');
      expect(put.Item?.batchId).toEqual(batchId);
      expect(put.ConditionExpression).toContain('attribute_not_exists(id)');
    }
    const completes = dynamodb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(completes).toHaveLength(2);
    for (const complete of completes) {
      expect(Object.values(complete.ExpressionAttributeValues ?? {})).toEqual(
        expect.arrayContaining(['jr_new', batchId]),
      );
      expect(complete.ConditionExpression).toContain('leaseOwner = :owner');
    }
  });

  test('the start log line names every correlation id of the batch, so a search by object finds its run', async () => {
    const a = s3Event('incoming/sales/a.csv');
    const b = s3Event('incoming/sales/b.csv');
    await handler(sqsEvent(sqsRecord(a, 'm-a'), sqsRecord(b, 'm-b')), lambdaContext());
    const line = stdout.lines().find((l) => l.message === 'Started the validation job for a batch');
    expect(line).toMatchObject({
      jobRunId: 'jr_new',
      objects: 2,
      correlationIds: [correlationOf(a), correlationOf(b)],
    });
  });

  test('the correlation id depends only on the object identity', () => {
    const a = correlationOf(s3Event());
    expect(correlationOf(s3Event())).toBe(a);
    expect(correlationOf(s3Event(undefined, { versionId: 'another-version' }))).not.toBe(a);
    expect(correlationOf(s3Event('incoming/sales/other.csv'))).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });

  test('an unversioned object is identified by etag and sequencer and passes versionId null', async () => {
    const event = s3Event(undefined, { versionId: null });
    await handler(sqsEvent(sqsRecord(event)), lambdaContext());
    expect(startedBatches()[0]).toEqual([
      expect.objectContaining({ versionId: null, correlationId: correlationOf(event) }),
    ]);
  });

  test('version id "null" (versioning suspended) is no identity: re-uploads of the key are new objects', async () => {
    const first = s3Event(undefined, { versionId: 'null' });
    const second = s3Event(undefined, { versionId: 'null' });
    second.detail.object.sequencer = '0062E99A88DC407461';
    second.detail.object.etag = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
    await handler(sqsEvent(sqsRecord(first, 'first'), sqsRecord(second, 'second')), lambdaContext());

    const ids = startedBatches()[0]!.map((o) => o.correlationId);
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
    expect(startedBatches()[0]![0]!.versionId).toBeNull();
  });

  test('keys are used exactly as EventBridge delivers them, never URL-decoded', async () => {
    await handler(sqsEvent(sqsRecord(s3Event('incoming/a+b c%20d.csv'))), lambdaContext());
    expect(startedBatches()[0]![0]!.key).toBe('incoming/a+b c%20d.csv');
  });

  test('two deliveries of one object in the same batch start it once and both records succeed', async () => {
    const event = s3Event();
    const result = await handler(sqsEvent(sqsRecord(event, 'm-1'), sqsRecord(event, 'm-2')), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(startedBatches()).toEqual([[expect.objectContaining({ correlationId: correlationOf(event) })]]);
    expect(dynamodb).toHaveReceivedCommandTimes(PutCommand, 1);
  });

  test('objects are cut into runs by count and by bytes; a larger object runs alone', () => {
    const item = (n: number, size: number) => ({
      object: { bucket: 'b', key: `incoming/${n}`, versionId: null, correlationId: `c${n}` },
      size,
    });
    const sizes = (chunks: ReturnType<typeof item>[][]) => chunks.map((c) => c.map((i) => i.size));
    const bounds = { maxObjects: 3, maxBytes: 100, maxArgumentChars: 100_000 };
    expect(
      sizes(
        chunkObjects(
          [1, 2, 3, 4, 5].map((n) => item(n, 10)),
          bounds,
        ),
      ),
    ).toEqual([
      [10, 10, 10],
      [10, 10],
    ]);
    expect(sizes(chunkObjects([item(1, 60), item(2, 60), item(3, 500), item(4, 1)], bounds))).toEqual([
      [60],
      [60],
      [500],
      [1],
    ]);
    const long = { ...bounds, maxObjects: 100, maxBytes: 1e9, maxArgumentChars: 200 };
    const chunks = chunkObjects(
      Array.from({ length: 10 }, (_, n) => item(n, 1)),
      long,
    );
    for (const chunk of chunks) expect(JSON.stringify(chunk.map((c) => c.object)).length).toBeLessThanOrEqual(200);
    expect(chunks.flat()).toHaveLength(10);
  });

  test('BATCH_MAX_OBJECTS and BATCH_MAX_BYTES split one event batch into several runs', async () => {
    process.env.BATCH_MAX_OBJECTS = '2';
    const events = [1, 2, 3].map((n) => s3Event(`incoming/sales/${n}.csv`));
    const result = await handler(sqsEvent(...events.map((e, n) => sqsRecord(e, `m-${n}`))), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(startedBatches().map((b) => b.length)).toEqual([2, 1]);
    const ids = glue.commandCalls(StartJobRunCommand).map((c) => c.args[0].input.Arguments!['--batch_id']);
    expect(new Set(ids).size).toBe(2);
  });
});

describe('glue trigger: duplicates and replays', () => {
  test('a completed claim means the job already ran: no second run', async () => {
    const event = s3Event();
    dynamodb.on(PutCommand).rejects(
      conditionFailed({
        id: { S: `glue-run#${correlationOf(event)}` },
        claimState: { S: 'COMPLETED' },
        jobRunId: { S: 'jr_first' },
      }),
    );
    const result = await handler(sqsEvent(sqsRecord(event)), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
  });

  test('duplicates in a batch are left out of the run; only the new objects are validated', async () => {
    const old = s3Event('incoming/sales/old.csv');
    const fresh = s3Event('incoming/sales/new.csv');
    dynamodb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
      if (input.Item.id === `glue-run#${correlationOf(old)}`) {
        throw conditionFailed({ id: { S: 'x' }, claimState: { S: 'COMPLETED' }, jobRunId: { S: 'jr_first' } });
      }
      return {};
    });
    const result = await handler(sqsEvent(sqsRecord(old, 'old'), sqsRecord(fresh, 'new')), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(startedBatches()).toEqual([[expect.objectContaining({ correlationId: correlationOf(fresh) })]]);
  });

  test('a claim held by a live invocation is retried later, not started twice', async () => {
    dynamodb.on(PutCommand).rejects(
      conditionFailed({
        id: { S: 'glue-run#x' },
        claimState: { S: 'IN_PROGRESS' },
        leaseOwner: { S: 'other-request' },
        leaseExpiresAt: { N: String(Date.now() + 60_000) },
      }),
    );
    const result = await handler(sqsEvent(sqsRecord(s3Event())), lambdaContext());

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityBatchCommand, {
      Entries: [expect.objectContaining({ ReceiptHandle: 'receipt-msg-1' })] as never,
    });
  });

  test('taking over an expired claim finds the run that names the object instead of starting another', async () => {
    const event = s3Event();
    const correlationId = correlationOf(event);
    dynamodb.on(PutCommand).resolves({
      Attributes: {
        id: `glue-run#${correlationId}`,
        claimState: 'IN_PROGRESS',
        leaseOwner: 'dead-request',
        batchId: 'dead-batch',
        leasedAt: Date.now() - 120_000,
        leaseExpiresAt: Date.now() - 60_000,
      },
    });
    const objects = (ids: string[]) =>
      JSON.stringify(ids.map((id) => ({ bucket: 'data-bucket', key: 'k', versionId: null, correlationId: id })));
    glue.on(GetJobRunsCommand).resolves({
      JobRuns: [
        {
          Id: 'jr_other',
          StartedOn: new Date(),
          Arguments: { '--batch_id': 'another', '--objects': objects(['someone-else']) },
        },
        {
          Id: 'jr_orphan',
          StartedOn: new Date(Date.now() - 90_000),
          Arguments: { '--batch_id': 'dead-batch', '--objects': objects(['x', correlationId]) },
        },
      ],
    });
    process.env.PROBE_CAPACITY = 'false';
    const result = await handler(sqsEvent(sqsRecord(event)), lambdaContext());

    expect(result.batchItemFailures).toEqual([]);
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
    const complete = dynamodb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(Object.values(complete.ExpressionAttributeValues ?? {})).toEqual(
      expect.arrayContaining(['jr_orphan', 'dead-batch']),
    );
  });

  test('a run of the dead holder that does not name the object does not count: the object is started', async () => {
    dynamodb.on(PutCommand).resolves({
      Attributes: {
        id: 'glue-run#x',
        claimState: 'IN_PROGRESS',
        batchId: 'dead-batch',
        leasedAt: Date.now() - 120_000,
      },
    });
    glue.on(GetJobRunsCommand).resolves({
      JobRuns: [
        { Id: 'jr_orphan', StartedOn: new Date(), Arguments: { '--batch_id': 'dead-batch', '--objects': '[]' } },
      ],
    });
    const result = await handler(sqsEvent(sqsRecord(s3Event())), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(glue).toHaveReceivedCommandTimes(StartJobRunCommand, 1);
  });
});

describe('glue trigger: Glue full, throttling and errors', () => {
  const deps = (random = 1) => ({
    invocation: { owner: 'req', now: () => 1_000_000, leaseExpiresAt: 1_070_000 },
    random: () => random,
  });

  test('at the job concurrency nothing is claimed: the records wait about a run time, with one API call', async () => {
    glue.on(GetJobRunsCommand).resolves({
      JobRuns: [
        { JobRunState: 'RUNNING' },
        { JobRunState: 'STARTING' },
        { JobRunState: 'WAITING' },
        { JobRunState: 'SUCCEEDED' },
      ],
    });
    const { batchItemFailures, outcomes } = await processBatch(
      [sqsRecord(s3Event('incoming/a.csv'), 'a', 7), sqsRecord(s3Event('incoming/b.csv'), 'b')],
      loadConfig(),
      deps(0),
    );
    expect(batchItemFailures).toEqual([{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }]);
    expect(outcomes.get('a')).toMatchObject({ result: 'retry', visibilitySeconds: 300 });
    expect(dynamodb).not.toHaveReceivedAnyCommand();
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityBatchCommand, {
      QueueUrl: ENV.QUEUE_URL,
      Entries: [
        { Id: '0', ReceiptHandle: 'receipt-a', VisibilityTimeout: 300 },
        { Id: '1', ReceiptHandle: 'receipt-b', VisibilityTimeout: 300 },
      ],
    });
  });

  test('with PROBE_CAPACITY false (Glue queues runs) the trigger does not count runs', async () => {
    process.env.PROBE_CAPACITY = 'false';
    await handler(sqsEvent(sqsRecord(s3Event())), lambdaContext());
    expect(glue).not.toHaveReceivedCommand(GetJobRunsCommand);
    expect(glue).toHaveReceivedCommandTimes(StartJobRunCommand, 1);
  });

  test('ConcurrentRunsExceeded hands the batch back for a run time (not the exponential backoff) and frees the claims', async () => {
    glue
      .on(StartJobRunCommand)
      .rejects(new ConcurrentRunsExceededException({ message: 'Concurrent runs exceeded', $metadata: {} }));
    const { batchItemFailures, outcomes } = await processBatch(
      [sqsRecord(s3Event(), 'msg-1', 3)],
      loadConfig(),
      deps(1),
    );

    expect(batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(outcomes.get('msg-1')).toMatchObject({ result: 'retry', visibilitySeconds: 600 });
    expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, { TableName: 'pipeline-state' });
    expect(dynamodb).not.toHaveReceivedCommand(UpdateCommand);
  });

  test('after Glue refuses one run for lack of room the next chunks wait too, unclaimed', async () => {
    process.env.BATCH_MAX_OBJECTS = '1';
    glue.on(StartJobRunCommand).rejects(new ConcurrentRunsExceededException({ message: 'busy', $metadata: {} }));
    const result = await handler(
      sqsEvent(sqsRecord(s3Event('incoming/a.csv'), 'a'), sqsRecord(s3Event('incoming/b.csv'), 'b')),
      lambdaContext(),
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }]);
    expect(glue).toHaveReceivedCommandTimes(StartJobRunCommand, 1);
    expect(dynamodb).toHaveReceivedCommandTimes(PutCommand, 1);
  });

  test.each([
    ['InvalidInputException', () => new InvalidInputException({ message: 'bad argument', $metadata: {} })],
    ['EntityNotFoundException', () => new EntityNotFoundException({ message: 'no such job', $metadata: {} })],
  ])('a refusal (%s) frees the claims: the run certainly does not exist', async (_name, error) => {
    glue.on(StartJobRunCommand).rejects(error());
    const result = await handler(sqsEvent(sqsRecord(s3Event())), lambdaContext());

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(dynamodb).toHaveReceivedCommandTimes(DeleteCommand, 1);
  });

  test.each([
    ['a 5xx', () => new InternalServiceException({ message: 'Internal failure', $metadata: { httpStatusCode: 500 } })],
    ['a client timeout', () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })],
  ])('after %s the run may exist: the claims are kept for the next taker to look it up', async (_name, error) => {
    glue.on(StartJobRunCommand).rejects(error());
    const { batchItemFailures, outcomes } = await processBatch(
      [sqsRecord(s3Event(), 'msg-1', 2)],
      loadConfig(),
      deps(1),
    );

    expect(batchItemFailures).toEqual([{ itemIdentifier: 'msg-1' }]);
    expect(outcomes.get('msg-1')).toMatchObject({ result: 'retry', visibilitySeconds: 60 });
    expect(dynamodb).not.toHaveReceivedCommand(DeleteCommand);
    expect(dynamodb).not.toHaveReceivedCommand(UpdateCommand);
  });

  test('the retry delay doubles per receive, is capped at 15 minutes, and is jittered within the upper half', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 30].map((n) => retryVisibilitySeconds(n, () => 1))).toEqual([
      30, 60, 120, 240, 480, 900, 900, 900,
    ]);
    expect(retryVisibilitySeconds(3, () => 0)).toBe(60);
  });

  test('the wait after "Glue is full" is uniform between its bounds', () => {
    expect(waitVisibilitySeconds({ min: 300, max: 600 }, () => 0)).toBe(300);
    expect(waitVisibilitySeconds({ min: 300, max: 600 }, () => 0.5)).toBe(450);
    expect(waitVisibilitySeconds({ min: 300, max: 600 }, () => 1)).toBe(600);
  });

  test('only the records whose claim failed are retried; the rest of the batch starts', async () => {
    const a = s3Event('incoming/a.csv');
    const b = s3Event('incoming/b.csv');
    dynamodb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
      if (input.Item.id === `glue-run#${correlationOf(b)}`) {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
      }
      return {};
    });
    const result = await handler(sqsEvent(sqsRecord(a, 'ok'), sqsRecord(b, 'busy')), lambdaContext());
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'busy' }]);
    expect(startedBatches()).toEqual([[expect.objectContaining({ correlationId: correlationOf(a) })]]);
  });

  test('a record failing on its last receive is parked with the reason instead of SQS dropping it silently', async () => {
    glue.on(StartJobRunCommand).rejects(new EntityNotFoundException({ message: 'no such job', $metadata: {} }));
    const { batchItemFailures, outcomes } = await processBatch(
      [sqsRecord(s3Event(), 'msg-1', 25)],
      loadConfig(),
      deps(),
    );
    expect(batchItemFailures).toEqual([]);
    expect(outcomes.get('msg-1')).toMatchObject({ result: 'parked' });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: ENV.DEAD_LETTER_QUEUE_URL,
      MessageAttributes: expect.objectContaining({
        error: {
          DataType: 'String',
          StringValue: 'retries exhausted after 25 receives: EntityNotFoundException: no such job',
        },
      }) as never,
    });
    expect(sqs).not.toHaveReceivedCommand(ChangeMessageVisibilityBatchCommand);
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

  test('a malformed record does not hold up the valid ones beside it', async () => {
    const result = await handler(sqsEvent(sqsRecord('not json', 'bad'), sqsRecord(s3Event(), 'good')), lambdaContext());
    expect(result.batchItemFailures).toEqual([]);
    expect(glue).toHaveReceivedCommandTimes(StartJobRunCommand, 1);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
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
      { key: 'validated/sales/2026-01-01.csv' },
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
    expect(startedBatches()).toEqual([
      [expect.objectContaining({ key: 'incoming/sales/empty.csv', correlationId: correlationOf(event) })],
    ]);
    expect(sns).not.toHaveReceivedAnyCommand();
  });

  test('a missing variable fails the invocation naming it', async () => {
    delete process.env.QUEUE_URL;
    await expect(handler(sqsEvent(sqsRecord(s3Event())), lambdaContext())).rejects.toThrow(MissingConfigError);
    await expect(handler(sqsEvent(sqsRecord(s3Event())), lambdaContext())).rejects.toThrow(/QUEUE_URL/);
  });

  test('a wait range that is upside down is refused naming both bounds', () => {
    expect(() => loadConfig({ ...ENV, WAIT_MIN_SECONDS: '600', WAIT_MAX_SECONDS: '300' })).toThrow(
      /WAIT_MAX_SECONDS is '300': expected from WAIT_MIN_SECONDS \(600\) to 43200/,
    );
  });
});
