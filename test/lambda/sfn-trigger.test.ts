import 'aws-sdk-client-mock-jest';
import { ExecutionAlreadyExists, ExecutionLimitExceeded, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as sfnTrigger } from '../../lambda/sfn-trigger';
import { batchExecutionNameFor, executionNameFor } from '../../lambda/sfn-trigger/execution-name';
import { MissingConfigError } from '../../lambda/shared/env';
import { captureStdout, lambdaContext, loadEvent } from '../fixtures/events';

const handler = (event: SNSEvent) => sfnTrigger(event, lambdaContext());

const sfn = mockClient(SFNClient);
const dynamodb = mockClient(DynamoDBDocumentClient);
const STATE_MACHINE_ARN = 'arn:aws:states:us-west-2:123456789012:stateMachine:orchestration';
const CORRELATION_ID = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';

function validationResult(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 1,
    status: 'PASSED',
    dataset: 'sales',
    correlationId: CORRELATION_ID,
    bucket: 'data-bucket',
    key: 'incoming/sales/2026-01-01.csv',
    versionId: 'v1',
    reportKey: 'reports/sales/0f1e2d3c.json',
    destinationKey: 'validated/sales/2026-01-01.csv',
    rowCount: 1000,
    errorRows: 0,
    reasons: [],
    ...overrides,
  };
}

/** The documented SNS sample with our message and the attributes the job sets. */
function snsEvent(body: unknown, status = 'PASSED', messageId = '95df01b4-ee98-5cb9-9903-4c221d41eb5e'): SNSEvent {
  const event = loadEvent<SNSEvent>('sns-event');
  const sns = event.Records[0]!.Sns;
  sns.MessageId = messageId;
  sns.Message = typeof body === 'string' ? body : JSON.stringify(body);
  sns.MessageAttributes = {
    status: { Type: 'String', Value: status },
    dataset: { Type: 'String', Value: 'sales' },
    correlationId: { Type: 'String', Value: CORRELATION_ID },
  };
  return event;
}

let stdout: ReturnType<typeof captureStdout>;

beforeEach(() => {
  sfn.reset();
  dynamodb.reset();
  // No claim: an object validated alone keeps an execution of its own.
  dynamodb.on(GetCommand).resolves({});
  process.env.STATE_TABLE_NAME = 'pipeline-state';
  sfn
    .on(StartExecutionCommand)
    .resolves({ executionArn: `${STATE_MACHINE_ARN}:${CORRELATION_ID}`, startDate: new Date() });
  process.env.STATE_MACHINE_ARN = STATE_MACHINE_ARN;
  process.env.EXECUTION_SCOPE = 'per-dataset-batch';
  stdout = captureStdout();
});

afterEach(() => {
  stdout.restore();
  delete process.env.STATE_MACHINE_ARN;
  delete process.env.STATE_TABLE_NAME;
  delete process.env.EXECUTION_SCOPE;
});

describe('step functions trigger', () => {
  test('a PASSED result starts the orchestration named after its correlation id with the validated copy', async () => {
    await handler(snsEvent(validationResult()));

    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const input = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(input.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(input.name).toBe(CORRELATION_ID);
    expect(JSON.parse(input.input!)).toEqual({
      correlationId: CORRELATION_ID,
      dataset: 'sales',
      bucket: 'data-bucket',
      key: 'validated/sales/2026-01-01.csv',
      versionId: 'v1',
      reportKey: 'reports/sales/0f1e2d3c.json',
    });
  });

  test('the same result twice asks for the same execution with the same input (Step Functions returns the first)', async () => {
    await handler(snsEvent(validationResult()));
    await handler(snsEvent(validationResult(), 'PASSED', 'redelivery'));
    const [first, second] = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(second).toEqual(first);
  });

  test('ExecutionAlreadyExists (same name, other input) is a duplicate: logged, not retried', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution already exists', $metadata: {} }));
    await expect(handler(snsEvent(validationResult()))).resolves.toBeUndefined();
    expect(
      stdout
        .lines()
        .some(
          (line) =>
            line.message === 'Duplicate result: an execution with this name already exists with a different input',
        ),
    ).toBe(true);
  });

  test.each([
    ['FAILED in the attributes', validationResult({ status: 'FAILED' }), 'FAILED'],
    ['FAILED in the body despite a PASSED attribute', validationResult({ status: 'FAILED' }), 'PASSED'],
  ])('a result that did not pass is ignored: %s', async (_name, body, attribute) => {
    await handler(snsEvent(body, attribute));
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  test('throttling or a full execution quota fails the invocation so Lambda retries it', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionLimitExceeded({ message: 'limit', $metadata: {} }));
    await expect(handler(snsEvent(validationResult()))).rejects.toThrow(/ExecutionLimitExceeded/);
  });

  test.each([
    ['a body that is not JSON', 'not json', /Sns\.Message of message .* is not JSON/],
    [
      'a missing correlation id',
      validationResult({ correlationId: undefined }),
      /correlationId is missing: expected a validation result/,
    ],
    ['a row count that is not a number', validationResult({ rowCount: '12' }), /rowCount is a string, not a number/],
    [
      'a PASSED result without its validated copy',
      validationResult({ destinationKey: undefined }),
      /destinationKey is missing/,
    ],
    ['a PASSED result without a dataset', validationResult({ dataset: null }), /dataset is missing/],
  ])('%s is rejected with an error naming the field', async (_name, body, message) => {
    await expect(handler(snsEvent(body))).rejects.toThrow(message);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });

  test('an event that is not from SNS is rejected', async () => {
    await expect(handler({ Records: [{ EventSource: 'aws:sqs' }] } as unknown as SNSEvent)).rejects.toThrow(
      "Records[0].EventSource is 'aws:sqs', not 'aws:sns': expected an SNS event delivered to Lambda",
    );
  });

  test('log lines carry the correlation id', async () => {
    await handler(snsEvent(validationResult()));
    const started = stdout
      .lines()
      .find((line) => typeof line.message === 'string' && line.message.startsWith('Started'));
    expect(started).toMatchObject({ correlationId: CORRELATION_ID });
  });

  test('execution names are valid and deterministic for any correlation id', () => {
    expect(executionNameFor(CORRELATION_ID)).toBe(CORRELATION_ID);
    const odd = executionNameFor('a correlation id with spaces/and:colons');
    expect(odd).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(executionNameFor('a correlation id with spaces/and:colons')).toBe(odd);
    expect(executionNameFor('x'.repeat(81))).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  test('a missing STATE_MACHINE_ARN is named', async () => {
    delete process.env.STATE_MACHINE_ARN;
    await expect(handler(snsEvent(validationResult()))).rejects.toThrow(MissingConfigError);
  });
});

describe('step functions trigger: one execution per dataset batch', () => {
  const claimOf = (batchId: string) => ({
    Item: { id: `glue-run#${CORRELATION_ID}`, claimState: 'COMPLETED', jobRunId: 'jr_1', batchId },
  });

  test('a PASSED object of a batch starts the execution named after its batch and dataset', async () => {
    dynamodb.on(GetCommand).resolves(claimOf('batch-1'));
    await handler(snsEvent(validationResult()));

    expect(dynamodb).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'pipeline-state',
      Key: { id: `glue-run#${CORRELATION_ID}` },
      ConsistentRead: true,
    });
    const input = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    const name = batchExecutionNameFor('batch-1', 'sales');
    expect(name).toMatch(/^b-[0-9a-f]{32}$/);
    expect(input.name).toBe(name);
    expect(JSON.parse(input.input!)).toEqual({
      correlationId: name,
      dataset: 'sales',
      bucket: 'data-bucket',
      key: 'validated/sales/2026-01-01.csv',
      versionId: 'v1',
      reportKey: 'reports/sales/0f1e2d3c.json',
      batchId: 'batch-1',
    });
  });

  test('every object of one dataset in one batch asks for the same execution; other datasets and batches get their own', () => {
    expect(batchExecutionNameFor('batch-1', 'sales')).toBe(batchExecutionNameFor('batch-1', 'sales'));
    expect(batchExecutionNameFor('batch-1', 'orders')).not.toBe(batchExecutionNameFor('batch-1', 'sales'));
    expect(batchExecutionNameFor('batch-2', 'sales')).not.toBe(batchExecutionNameFor('batch-1', 'sales'));
  });

  test('the second object of the batch meets ExecutionAlreadyExists: a duplicate, not a failure', async () => {
    dynamodb.on(GetCommand).resolves(claimOf('batch-1'));
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    await expect(
      handler(snsEvent(validationResult({ correlationId: 'another', key: 'incoming/sales/b.csv' }))),
    ).resolves.toBeUndefined();
  });

  test('EXECUTION_SCOPE per-object keeps one execution per object and never reads the state table', async () => {
    process.env.EXECUTION_SCOPE = 'per-object';
    delete process.env.STATE_TABLE_NAME;
    dynamodb.on(GetCommand).resolves(claimOf('batch-1'));
    await handler(snsEvent(validationResult()));
    expect(dynamodb).not.toHaveReceivedAnyCommand();
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.name).toBe(CORRELATION_ID);
  });

  test('an unknown EXECUTION_SCOPE is refused naming the allowed values', async () => {
    process.env.EXECUTION_SCOPE = 'per-file';
    await expect(handler(snsEvent(validationResult()))).rejects.toThrow(/EXECUTION_SCOPE is 'per-file'/);
  });

  test('a state table error fails the invocation so Lambda retries it (starting nothing half-named)', async () => {
    dynamodb.on(GetCommand).rejects(new Error('DynamoDB unavailable'));
    await expect(handler(snsEvent(validationResult()))).rejects.toThrow(/DynamoDB unavailable/);
    expect(sfn).not.toHaveReceivedAnyCommand();
  });
});
